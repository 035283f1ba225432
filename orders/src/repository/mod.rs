//! Orders and the replica of tickets in Mongo: the only code of this service
//! that touches the database. Every state change stages its event in the
//! same transaction.

mod orders;
mod replica;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use common::events::OrderStatus;
use common::outbox::Outbox;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

pub use orders::{PlaceRefused, TransitionRefused, Transitioned};
pub use replica::TicketData;

/// A ticket as orders knows it: the tickets service's fields at `version`,
/// plus which order of ours holds it, which only this service decides.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub title: String,
    /// In cents.
    pub price: i64,
    pub user_id: String,
    pub version: i64,
    /// The live or paid order that holds the ticket; `None` while it is free.
    #[serde(default)]
    pub held_by: Option<String>,
}

/// The ticket as the order shows it, copied when the order was placed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderedTicket {
    pub id: String,
    pub title: String,
    /// In cents.
    pub price: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub user_id: String,
    pub status: OrderStatus,
    pub expires_at: mongodb::bson::DateTime,
    pub ticket: OrderedTicket,
    pub version: i64,
    pub created_at: mongodb::bson::DateTime,
    /// Payments refunded a payment made while the order was being cancelled.
    /// A note from payments, not a change of the order's state: the version
    /// stays, and nothing is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
}

impl OrderRecord {
    pub fn expires_at(&self) -> DateTime<Utc> {
        to_chrono(self.expires_at)
    }
}

fn to_chrono(time: mongodb::bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or_default()
}

#[derive(Clone)]
pub struct Orders {
    orders: Collection<OrderRecord>,
    tickets: Collection<TicketRecord>,
    outbox: Outbox,
}

impl Orders {
    pub fn new(database: &Database) -> Self {
        Self {
            orders: database.collection("orders"),
            tickets: database.collection("tickets"),
            outbox: Outbox::new(database),
        }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub async fn init(&self) -> anyhow::Result<()> {
        self.outbox.init().await?;
        let by_buyer =
            common::mongo::index("by_buyer", doc! { "userId": 1, "createdAt": -1 }, false);
        self.orders
            .create_index(by_buyer)
            .await
            .context("cannot create the orders' index")?;
        Ok(())
    }
}
