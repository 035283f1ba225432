//! Recording payments, and the refunds they may owe.

use common::events::{OrderStatus, PaymentCreated, PaymentRefunded};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};

use super::{Attempt, OrderRecord, PaymentRecord, Payments};

/// What recording a charge came to.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub payment: PaymentRecord,
    /// The order was cancelled before the payment was attached to it.
    pub refund_due: bool,
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

    /// Records a successful charge, attaches it to its order and stages
    /// payment.created, in one transaction that also gives the lock back.
    /// Attaching is one write on the order, as is its cancellation: whichever
    /// comes second sees the other, so a payment for an order cancelled
    /// meanwhile is always marked for a refund.
    pub async fn record(
        &self,
        attempt: &Attempt,
        stripe_id: &str,
        amount: i64,
    ) -> mongodb::error::Result<Recorded> {
        let recorded = common::transaction!(self.outbox, |session| {
            let mut payment = PaymentRecord {
                id: ObjectId::new(),
                order_id: attempt.order_id,
                stripe_id: stripe_id.to_string(),
                amount,
                created_at: bson::DateTime::now(),
                refund_due: false,
                stripe_refund_id: None,
            };
            let order = common::mongo::update_and_read(
                &self.orders,
                session,
                doc! { "_id": attempt.order_id, "paymentId": null },
                doc! { "$set": { "paymentId": payment.id } },
            )
            .await?
            .ok_or_else(|| mongodb::error::Error::custom("the order has a payment already"))?;
            payment.refund_due = order.status == OrderStatus::Cancelled;
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
            self.attempts
                .update_one(
                    doc! { "_id": attempt.order_id },
                    doc! { "$set": { "lockedUntil": super::attempts::unlocked() } },
                )
                .session(&mut *session)
                .await?;
            Ok(Recorded {
                refund_due: payment.refund_due,
                payment,
            })
        })
        .await?;
        Ok(recorded)
    }

    /// Payments whose order was cancelled and that are not refunded yet.
    pub async fn refunds_due(&self) -> mongodb::error::Result<Vec<PaymentRecord>> {
        self.payments
            .find(doc! { "refundDue": true })
            .limit(100)
            .await?
            .try_collect()
            .await
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
