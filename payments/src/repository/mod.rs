//! Payments, each order's PaymentIntent and the replica of orders in Mongo: the only
//! code of this service that touches the database.

mod intents;
mod payments;
pub mod replica;

use anyhow::Context as _;
use common::events::OrderStatus;
use common::outbox::Outbox;
use common::replica::Replica;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

pub use intents::{Attempt, IntentRecord};
pub use payments::Recorded;
pub use replica::{Changed, OrderData};

/// An order as payments knows it: the orders service's fields at `version`,
/// plus the payment attached to it, which only this service decides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: String,
    /// In cents.
    pub price: i64,
    pub status: OrderStatus,
    pub version: i64,
    pub expires_at: mongodb::bson::DateTime,
    #[serde(default)]
    pub payment_id: Option<ObjectId>,
}

/// A successful charge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub order_id: ObjectId,
    /// The PaymentIntent's id.
    pub stripe_id: String,
    /// In cents.
    pub amount: i64,
    pub created_at: mongodb::bson::DateTime,
    /// Its order was cancelled: the money goes back.
    #[serde(default)]
    pub refund_due: bool,
    #[serde(default)]
    pub stripe_refund_id: Option<String>,
    /// Refund tries that failed, and when the next may start.
    #[serde(default)]
    pub refund_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_refund_at: Option<mongodb::bson::DateTime>,
}

#[derive(Clone)]
pub struct Payments {
    orders: Collection<OrderRecord>,
    replica: Replica<OrderRecord>,
    payments: Collection<PaymentRecord>,
    intents: Collection<IntentRecord>,
    /// The Stripe events handled, by id: each is handled once.
    stripe_events: Collection<mongodb::bson::Document>,
    outbox: Outbox,
}

impl Payments {
    pub fn new(database: &Database) -> Self {
        Self {
            orders: database.collection("orders"),
            replica: Replica::new(database.collection("orders"), "order"),
            payments: database.collection("payments"),
            intents: database.collection("intents"),
            stripe_events: database.collection("stripe_events"),
            outbox: Outbox::new(database),
        }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// One payment per order, and the refunds still to make, found by index.
    pub async fn init(&self) -> anyhow::Result<()> {
        self.outbox.init().await?;
        let one_per_order = common::mongo::index("one_per_order", doc! { "orderId": 1 }, true);
        let refunds_due = common::mongo::index(
            "refunds_due",
            doc! { "refundDue": 1, "nextRefundAt": 1 },
            false,
        );
        self.payments
            .create_indexes([one_per_order, refunds_due])
            .await
            .context("cannot create the payments' indexes")?;
        let unsettled =
            common::mongo::index("unsettled", doc! { "status": 1, "checkedAt": 1 }, false);
        let to_cancel = common::mongo::index("to_cancel", doc! { "cancelDue": 1 }, false);
        self.intents
            .create_indexes([unsettled, to_cancel])
            .await
            .context("cannot create the intents' indexes")?;
        Ok(())
    }
}
