//! The replica of orders, applied strictly in version order. A cancelled
//! order that already has a payment marks that payment for a refund in the
//! same transaction.

use common::events::OrderStatus;
use common::replica::{self, Step};
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

/// What applying a change of status came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub step: Step,
    /// A payment of the order is now owed back.
    pub refund_due: bool,
}

impl Payments {
    /// Applies order.created.
    pub async fn add_order(&self, order: OrderData) -> mongodb::error::Result<Step> {
        // The first version needs no read: if it is held, the insert's
        // duplicate key says so.
        let stored = match order.version {
            0 => None,
            _ => self.orders.find_one(doc! { "_id": order.id }).await?,
        };
        let step = replica::step(stored.map(|o| o.version), order.version);
        if step != Step::Apply {
            return Ok(step);
        }
        let record = OrderRecord {
            id: order.id,
            user_id: order.user_id,
            price: order.price,
            status: order.status,
            version: order.version,
            expires_at: bson::DateTime::from_millis(order.expires_at.timestamp_millis()),
            payment_id: None,
        };
        match self.orders.insert_one(record).await {
            Ok(_) => Ok(Step::Apply),
            Err(err) if common::mongo::is_duplicate_key(&err) => Ok(Step::Duplicate),
            Err(err) => Err(err),
        }
    }

    /// Applies order.cancelled or order.completed.
    pub async fn change_status(
        &self,
        id: ObjectId,
        version: i64,
        status: OrderStatus,
    ) -> mongodb::error::Result<Changed> {
        common::transaction!(self.outbox, |session| {
            let stored = self
                .orders
                .find_one(doc! { "_id": id })
                .session(&mut *session)
                .await?;
            let step = replica::step(stored.map(|o| o.version), version);
            if step != Step::Apply {
                return Ok(Changed { step, refund_due: false });
            }
            let Some(order) = common::mongo::update_and_read(
                &self.orders,
                session,
                doc! { "_id": id, "version": version - 1 },
                doc! { "$set": { "status": bson::serialize_to_bson(&status)?, "version": version } },
            )
            .await?
            else {
                return Ok(Changed { step: Step::Duplicate, refund_due: false });
            };
            let refund_due = match (status, order.payment_id) {
                (OrderStatus::Cancelled, Some(payment_id)) => {
                    self.payments
                        .update_one(
                            doc! { "_id": payment_id, "stripeRefundId": null },
                            doc! { "$set": { "refundDue": true } },
                        )
                        .session(&mut *session)
                        .await?;
                    true
                }
                _ => false,
            };
            Ok(Changed { step, refund_due })
        })
        .await
    }
}
