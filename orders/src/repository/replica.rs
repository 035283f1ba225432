//! The replica of tickets, applied strictly in version order: version N only
//! on top of N-1; an early version waits, a duplicate is ignored.

use common::replica::{self, Step};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;

use super::{Orders, TicketRecord};

/// A ticket's fields as the tickets service published them.
#[derive(Debug, Clone)]
pub struct TicketData {
    pub id: ObjectId,
    pub version: i64,
    pub title: String,
    pub price: i64,
    pub user_id: String,
}

impl Orders {
    /// Applies one version of a ticket; says whether it was the next one.
    pub async fn apply_ticket(&self, ticket: TicketData) -> mongodb::error::Result<Step> {
        let stored = self.tickets.find_one(doc! { "_id": ticket.id }).await?;
        let step = replica::step(stored.as_ref().map(|t| t.version), ticket.version);
        if step != Step::Apply {
            return Ok(step);
        }
        if stored.is_none() {
            let record = TicketRecord {
                id: ticket.id,
                title: ticket.title,
                price: ticket.price,
                user_id: ticket.user_id,
                version: ticket.version,
                held_by: None,
            };
            return match self.tickets.insert_one(record).await {
                Ok(_) => Ok(Step::Apply),
                // Another replica of this service applied it meanwhile.
                Err(err) if common::mongo::is_duplicate_key(&err) => Ok(Step::Duplicate),
                Err(err) => Err(err),
            };
        }
        // Only the tickets service's fields: who holds it is ours to decide.
        let applied = self
            .tickets
            .update_one(
                doc! { "_id": ticket.id, "version": ticket.version - 1 },
                doc! { "$set": {
                    "title": ticket.title,
                    "price": ticket.price,
                    "userId": ticket.user_id,
                    "version": ticket.version,
                } },
            )
            .await?;
        // Nothing matched: another replica applied it meanwhile.
        Ok(if applied.matched_count == 1 {
            Step::Apply
        } else {
            Step::Duplicate
        })
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
