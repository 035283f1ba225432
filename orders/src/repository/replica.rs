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
    /// The usual case takes one write: the first version inserted, or the
    /// next one put on the version before it. Only when that writes nothing
    /// is the held version read, to tell a duplicate from an early version.
    pub async fn apply_ticket(&self, ticket: TicketData) -> mongodb::error::Result<Step> {
        let written = if ticket.version == 0 {
            let record = TicketRecord {
                id: ticket.id,
                title: ticket.title,
                price: ticket.price,
                user_id: ticket.user_id,
                version: ticket.version,
                held_by: None,
            };
            match self.tickets.insert_one(record).await {
                Ok(_) => true,
                Err(err) if common::mongo::is_duplicate_key(&err) => false,
                Err(err) => return Err(err),
            }
        } else {
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
            applied.matched_count == 1
        };
        if written {
            return Ok(Step::Apply);
        }
        let held = self.ticket_version(ticket.id).await?;
        Ok(match replica::step(held, ticket.version) {
            // The version before it arrived meanwhile: apply this one again.
            Step::Apply => Step::Early,
            step => step,
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
