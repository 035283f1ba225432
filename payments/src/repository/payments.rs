//! Recording payments, and the refunds they may owe.

use common::events::{PaymentCreated, PaymentRefunded};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};

use super::{OrderRecord, PaymentRecord, Payments};

/// What recording a charge came to.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub payment: PaymentRecord,
    /// The order was cancelled before the payment was attached to it.
    pub refund_due: bool,
    /// False when the order was paid already: this is its payment.
    pub new: bool,
}

impl Payments {
    pub async fn order(&self, id: ObjectId) -> mongodb::error::Result<Option<OrderRecord>> {
        self.orders.find_one(doc! { "_id": id }).await
    }

    pub async fn payment_for(
        &self,
        order_id: ObjectId,
    ) -> mongodb::error::Result<Option<PaymentRecord>> {
        self.payments.find_one(doc! { "orderId": order_id }).await
    }

    /// Records the order's succeeded PaymentIntent as its payment, attaches
    /// it to the order and stages payment.created, in one transaction. An
    /// order paid already answers with its payment: the charge that
    /// succeeded is one intent, heard of by a request, a webhook or the
    /// reconciler, in any order. Attaching is one write on the order, as is
    /// its cancellation: whichever comes second sees the other, so a payment
    /// for an order cancelled meanwhile is always marked for a refund.
    pub async fn record(
        &self,
        order_id: ObjectId,
        stripe_id: &str,
        amount: i64,
    ) -> mongodb::error::Result<Recorded> {
        common::transaction!(self.outbox, |session| {
            let mut payment = PaymentRecord {
                id: ObjectId::new(),
                order_id,
                stripe_id: stripe_id.to_string(),
                amount,
                created_at: bson::DateTime::now(),
                refund_due: false,
                stripe_refund_id: None,
                refund_failures: 0,
                next_refund_at: None,
            };
            let attached = common::mongo::update_and_read(
                &self.orders,
                session,
                doc! { "_id": order_id, "paymentId": null },
                doc! { "$set": { "paymentId": payment.id } },
            )
            .await?;
            let Some(order) = attached else {
                let existing = self
                    .payments
                    .find_one(doc! { "orderId": order_id })
                    .session(&mut *session)
                    .await?
                    .ok_or_else(|| {
                        mongodb::error::Error::custom("a payment for an unknown order")
                    })?;
                return Ok(Recorded {
                    payment: existing,
                    refund_due: false,
                    new: false,
                });
            };
            payment.refund_due = crate::domain::refund_due(order.status, true);
            if payment.refund_due {
                payment.next_refund_at = Some(bson::DateTime::now());
            }
            self.payments
                .insert_one(&payment)
                .session(&mut *session)
                .await?;
            let created = PaymentCreated {
                id: payment.id.to_hex(),
                order_id: payment.order_id.to_hex(),
                stripe_id: payment.stripe_id.clone(),
                amount: payment.amount,
            };
            self.outbox.stage(session, &created).await?;
            Ok(Recorded {
                refund_due: payment.refund_due,
                payment,
                new: true,
            })
        })
        .await
    }

    /// Whether the Stripe event `id` was handled already.
    pub async fn stripe_event_seen(&self, id: &str) -> mongodb::error::Result<bool> {
        Ok(self
            .stripe_events
            .find_one(doc! { "_id": id })
            .await?
            .is_some())
    }

    /// Notes that the Stripe event `id` was handled.
    pub async fn stripe_event_handled(&self, id: &str, kind: &str) -> mongodb::error::Result<()> {
        let noted = self
            .stripe_events
            .insert_one(doc! { "_id": id, "type": kind, "handledAt": bson::DateTime::now() })
            .await;
        match noted {
            Ok(_) => Ok(()),
            Err(err) if common::mongo::is_duplicate_key(&err) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Payments whose order was cancelled, not refunded yet, and due for a
    /// try now: those that waited longest first, so none starves.
    pub async fn refunds_due(&self) -> mongodb::error::Result<Vec<PaymentRecord>> {
        self.payments
            .find(doc! {
                "refundDue": true,
                "$or": [
                    { "nextRefundAt": { "$lte": bson::DateTime::now() } },
                    { "nextRefundAt": null },
                ],
            })
            .sort(doc! { "nextRefundAt": 1 })
            .limit(100)
            .await?
            .try_collect()
            .await
    }

    /// When the next refund is due, if any is owed.
    pub async fn next_refund_at(&self) -> mongodb::error::Result<Option<bson::DateTime>> {
        Ok(self
            .payments
            .find_one(doc! { "refundDue": true })
            .sort(doc! { "nextRefundAt": 1 })
            .await?
            .and_then(|payment| payment.next_refund_at))
    }

    /// A refund try failed: the payment's next one waits longer.
    pub async fn refund_failed(&self, payment: &PaymentRecord) -> mongodb::error::Result<()> {
        let failures = payment.refund_failures + 1;
        let pause = crate::domain::refunds::retry_after(failures);
        let next = bson::DateTime::from_millis(
            bson::DateTime::now().timestamp_millis() + pause.as_millis() as i64,
        );
        self.payments
            .update_one(
                doc! { "_id": payment.id },
                doc! { "$set": { "refundFailures": failures, "nextRefundAt": next } },
            )
            .await?;
        Ok(())
    }

    /// Records a refund Stripe made and stages payment.refunded.
    pub async fn refunded(
        &self,
        payment: &PaymentRecord,
        refund_id: &str,
    ) -> mongodb::error::Result<()> {
        common::transaction!(self.outbox, |session| {
            let marked = self
                .payments
                .update_one(
                    doc! { "_id": payment.id, "refundDue": true },
                    doc! { "$set": { "refundDue": false, "stripeRefundId": refund_id } },
                )
                .session(&mut *session)
                .await?;
            if marked.modified_count == 1 {
                let event = PaymentRefunded {
                    id: payment.id.to_hex(),
                    order_id: payment.order_id.to_hex(),
                    stripe_refund_id: refund_id.to_string(),
                };
                self.outbox.stage(session, &event).await?;
            }
            Ok(())
        })
        .await
    }
}
