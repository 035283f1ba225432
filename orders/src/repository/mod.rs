//! Orders and the replica of tickets in Mongo: the only code of this service
//! that touches the database. Every state change stages its event in the
//! same transaction.

mod orders;
pub mod replica;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use common::events::{OrderStatus, TicketStatus};
use common::outbox::Outbox;
use common::replica::Replica;
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

pub use crate::domain::PlaceRefused;
pub use orders::{Placing, TransitionRefused, Transitioned};
pub use replica::TicketData;

/// The name the replica's records go by in the gates they open.
pub const TICKET: &str = "ticket";

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
    /// How many orders have held the ticket: the next one is hold number
    /// `holds`. Ours, like `held_by`.
    #[serde(default)]
    pub holds: i64,
    /// What the tickets service last said of it: a withdrawn one is not for sale.
    #[serde(default = "available")]
    pub status: TicketStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<mongodb::bson::DateTime>,
}

fn available() -> TicketStatus {
    TicketStatus::Available
}

impl TicketRecord {
    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.starts_at.map(to_chrono)
    }
}

/// The ticket as the order shows it, copied when the order was placed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderedTicket {
    pub id: String,
    pub title: String,
    /// In cents.
    pub price: i64,
    /// Which of the ticket's holds this order is.
    #[serde(default)]
    pub hold: i64,
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
    /// When it was cancelled, expired or paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<mongodb::bson::DateTime>,
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
    replica: Replica<TicketRecord>,
    /// Each buyer's count of unpaid orders.
    buyers: Collection<mongodb::bson::Document>,
    outbox: Outbox,
}

impl Orders {
    pub fn new(database: &Database) -> Self {
        Self {
            orders: database.collection("orders"),
            tickets: database.collection("tickets"),
            replica: Replica::new(database.collection("tickets"), TICKET),
            buyers: database.collection("buyers"),
            outbox: Outbox::new(database),
        }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub async fn init(&self) -> anyhow::Result<()> {
        self.outbox.init().await?;
        let by_buyer =
            common::mongo::index("by_buyer_newest", doc! { "userId": 1, "_id": -1 }, false);
        let overdue = common::mongo::index(
            "by_status_and_expiry",
            doc! { "status": 1, "expiresAt": 1 },
            false,
        );
        self.orders
            .create_indexes([by_buyer, overdue])
            .await
            .context("cannot create the orders' indexes")?;
        Ok(())
    }

    /// Orders still `created` whose time ran out before `now`, oldest first.
    pub async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> mongodb::error::Result<Vec<ObjectId>> {
        #[derive(Deserialize)]
        struct Id {
            #[serde(rename = "_id")]
            id: ObjectId,
        }
        let now = mongodb::bson::DateTime::from_millis(now.timestamp_millis());
        self.orders
            .clone_with_type::<Id>()
            .find(doc! { "status": "created", "expiresAt": { "$lt": now } })
            .projection(doc! { "_id": 1 })
            .sort(doc! { "expiresAt": 1 })
            .limit(limit)
            .await?
            .map_ok(|order| order.id)
            .try_collect()
            .await
    }
}
