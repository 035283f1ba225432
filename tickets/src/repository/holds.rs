//! Applying orders' holds to tickets, as the pure rules decide, on the
//! version each decision was made on.

use common::handling::Outcome;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};

use super::{Tickets, Unappliable};
use crate::domain::{OrderEvent, Verdict};

impl Tickets {
    /// Applies an order event to the ticket as [`crate::domain::holds::decide`]
    /// rules, on the version it read.
    pub async fn apply_order(
        &self,
        ticket_id: ObjectId,
        event: OrderEvent<'_>,
    ) -> mongodb::error::Result<Result<Outcome, Unappliable>> {
        loop {
            let attempt = common::transaction!(self.outbox, |session| {
                let Some(mut ticket) = self
                    .tickets
                    .find_one(doc! { "_id": ticket_id })
                    .session(&mut *session)
                    .await?
                else {
                    return Ok(Some(Err(Unappliable::UnknownTicket)));
                };
                let hex = ticket_id.to_hex();
                let (holder, opens) =
                    match crate::domain::holds::decide(&hex, ticket.holder.as_ref(), event) {
                        Verdict::Apply { holder, opens } => (holder, opens),
                        Verdict::Duplicate => return Ok(Some(Ok(Outcome::Duplicate))),
                        Verdict::Early(gate) => return Ok(Some(Ok(Outcome::Early(gate)))),
                        Verdict::Contradiction(why) => {
                            return Ok(Some(Err(Unappliable::Contradiction(why))));
                        }
                    };
                let status = crate::domain::holds::status(Some(&holder), ticket.withdrawn);
                let changed = self
                    .tickets
                    .update_one(
                        doc! { "_id": ticket_id, "version": ticket.version },
                        doc! {
                            "$set": {
                                "holder": bson::serialize_to_bson(&holder)?,
                                "status": bson::serialize_to_bson(&status)?,
                            },
                            "$inc": { "version": 1 },
                        },
                    )
                    .session(&mut *session)
                    .await?;
                if changed.matched_count == 0 {
                    return Ok(None); // changed since we read it: decide again
                }
                ticket.holder = Some(holder);
                ticket.status = status;
                ticket.version += 1;
                self.outbox.stage(session, &ticket.updated()).await?;
                Ok(Some(Ok(Outcome::opening(opens))))
            })
            .await?;
            if let Some(outcome) = attempt {
                return Ok(outcome);
            }
        }
    }
}
