//! The replica of tickets, applied strictly in version order through the
//! common version gate: version N only on top of N-1; an early version
//! waits in the inbox, a duplicate is ignored.

use common::events::TicketStatus;
use common::handling::Outcome;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};

use super::{Orders, TicketRecord};

/// A ticket's fields as the tickets service published them.
#[derive(Debug, Clone)]
pub struct TicketData {
    pub id: ObjectId,
    pub version: i64,
    pub title: String,
    pub price: i64,
    pub user_id: String,
    pub status: TicketStatus,
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Only the tickets service's fields, as the replica stores them: who
/// holds a ticket is ours to decide. `ops rebuild orders` replays these too.
pub fn ticket_fields(ticket: &TicketData) -> mongodb::bson::error::Result<Document> {
    Ok(doc! {
        "title": &ticket.title,
        "price": ticket.price,
        "userId": &ticket.user_id,
        "status": mongodb::bson::serialize_to_bson(&ticket.status)?,
        "startsAt": ticket.starts_at.map(|at| mongodb::bson::DateTime::from_millis(at.timestamp_millis())),
    })
}

impl Orders {
    /// Applies one version of a ticket, in one write in the usual case.
    pub async fn apply_ticket(&self, ticket: TicketData) -> mongodb::error::Result<Outcome> {
        if ticket.version == 0 {
            let record = TicketRecord {
                id: ticket.id,
                title: ticket.title,
                price: ticket.price,
                user_id: ticket.user_id,
                version: 0,
                held_by: None,
                holds: 0,
                status: ticket.status,
                starts_at: ticket
                    .starts_at
                    .map(|at| mongodb::bson::DateTime::from_millis(at.timestamp_millis())),
            };
            return self.replica.insert_first(ticket.id, &record, None).await;
        }
        let fields = ticket_fields(&ticket)?;
        self.replica
            .apply_next(ticket.id, ticket.version, fields, None)
            .await
    }

    /// The version of a ticket this replica holds.
    pub async fn ticket_version(&self, id: ObjectId) -> mongodb::error::Result<Option<i64>> {
        Ok(self
            .tickets
            .find_one(doc! { "_id": id })
            .await?
            .map(|ticket| ticket.version))
    }
}
