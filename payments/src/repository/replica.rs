//! The replica of orders, applied strictly in version order through the
//! common version gate. A cancelled order that already has a payment marks
//! that payment for a refund in the same transaction; one without marks its
//! PaymentIntent to be called off.

use common::events::OrderStatus;
use common::handling::Outcome;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};

use super::{OrderRecord, Payments};

/// An order as the orders service published it at its first version.
#[derive(Debug, Clone)]
pub struct OrderData {
    pub id: ObjectId,
    pub version: i64,
    pub user_id: String,
    pub price: i64,
    pub status: OrderStatus,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The fields an order's first version gives the replica, as it stores
/// them; the payment is ours. `ops rebuild payments` replays these too.
pub fn order_fields(order: &OrderData) -> bson::error::Result<bson::Document> {
    Ok(doc! {
        "userId": &order.user_id,
        "price": order.price,
        "status": bson::serialize_to_bson(&order.status)?,
        "expiresAt": bson::DateTime::from_millis(order.expires_at.timestamp_millis()),
    })
}

/// The fields a later version (cancelled, completed) changes.
pub fn status_fields(status: OrderStatus) -> bson::error::Result<bson::Document> {
    Ok(doc! { "status": bson::serialize_to_bson(&status)? })
}

/// What applying a change of status came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub outcome: Outcome,
    /// A payment of the order is now owed back.
    pub refund_due: bool,
}

impl Payments {
    /// Applies order.created: one insert.
    pub async fn add_order(&self, order: OrderData) -> mongodb::error::Result<Outcome> {
        if order.version != 0 {
            // Orders are created at version 0: a later one waits for it.
            return Ok(Outcome::Early(
                self.replica.gate(order.id, order.version - 1),
            ));
        }
        let record = OrderRecord {
            id: order.id,
            user_id: order.user_id,
            price: order.price,
            status: order.status,
            version: 0,
            expires_at: bson::DateTime::from_millis(order.expires_at.timestamp_millis()),
            payment_id: None,
        };
        self.replica.insert_first(order.id, &record, None).await
    }

    /// Applies order.cancelled or order.completed.
    pub async fn change_status(
        &self,
        id: ObjectId,
        version: i64,
        status: OrderStatus,
    ) -> mongodb::error::Result<Changed> {
        common::transaction!(self.outbox, |session| {
            let payment_id = self
                .orders
                .find_one(doc! { "_id": id })
                .session(&mut *session)
                .await?
                .and_then(|order| order.payment_id);
            let fields = status_fields(status)?;
            let outcome = self
                .replica
                .apply_next(id, version, fields, Some(&mut *session))
                .await?;
            let applied = matches!(outcome, Outcome::Applied { .. });
            let refund_due = applied && crate::domain::refund_due(status, payment_id.is_some());
            if let (true, Some(payment_id)) = (refund_due, payment_id) {
                self.payments
                    .update_one(
                        doc! { "_id": payment_id, "stripeRefundId": null },
                        doc! { "$set": { "refundDue": true, "nextRefundAt": bson::DateTime::now() } },
                    )
                    .session(&mut *session)
                    .await?;
            }
            if applied && status == OrderStatus::Cancelled && payment_id.is_none() {
                // Ended unpaid: its intent, if it has one, is called off at Stripe.
                self.intents
                    .update_one(
                        doc! { "_id": id, "intentId": { "$ne": null } },
                        doc! { "$set": { "cancelDue": true } },
                    )
                    .session(&mut *session)
                    .await?;
            }
            Ok(Changed { outcome, refund_due })
        })
        .await
    }
}
