//! Placing orders and moving them through their life.

use chrono::{DateTime, Utc};
use common::events::{
    OrderCancelled, OrderCompleted, OrderCreated, OrderStatus, PricedTicketRef, TicketRef,
};
use futures::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};

use super::{OrderRecord, OrderedTicket, Orders};
use crate::domain::{Command, Decision, Refusal, decide};

/// Why an order could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceRefused {
    UnknownTicket,
    OwnTicket,
    /// Another live or paid order holds the ticket.
    Reserved,
}

/// What a command did.
#[derive(Debug, Clone)]
pub enum Transitioned {
    Changed(OrderRecord),
    Unchanged(OrderRecord),
}

/// Why a command did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionRefused {
    /// No such order, or not the caller's.
    NotFound,
    Refused(Refusal),
}

impl Orders {
    /// Reserves the ticket for `user_id` until `expires_at`. The hold is one
    /// conditional write on the ticket, so of any number of concurrent
    /// buyers exactly one wins, whatever the tickets service is doing.
    pub async fn place(
        &self,
        user_id: &str,
        ticket_id: ObjectId,
        expires_at: DateTime<Utc>,
    ) -> mongodb::error::Result<Result<OrderRecord, PlaceRefused>> {
        common::transaction!(self.outbox, |session| {
            let Some(ticket) = self
                .tickets
                .find_one(doc! { "_id": ticket_id })
                .session(&mut *session)
                .await?
            else {
                return Ok(Err(PlaceRefused::UnknownTicket));
            };
            if ticket.user_id == user_id {
                return Ok(Err(PlaceRefused::OwnTicket));
            }
            let order_id = ObjectId::new();
            let held = self
                .tickets
                .update_one(
                    doc! { "_id": ticket_id, "heldBy": null },
                    doc! { "$set": { "heldBy": order_id.to_hex() } },
                )
                .session(&mut *session)
                .await?;
            if held.matched_count == 0 {
                return Ok(Err(PlaceRefused::Reserved));
            }
            let order = OrderRecord {
                id: order_id,
                user_id: user_id.to_string(),
                status: OrderStatus::Created,
                expires_at: bson::DateTime::from_millis(expires_at.timestamp_millis()),
                ticket: OrderedTicket {
                    id: ticket.id.to_hex(),
                    title: ticket.title,
                    price: ticket.price,
                },
                version: 0,
                created_at: bson::DateTime::now(),
                refund_id: None,
            };
            self.orders
                .insert_one(&order)
                .session(&mut *session)
                .await?;
            let created = OrderCreated {
                id: order.id.to_hex(),
                version: order.version,
                status: order.status,
                user_id: order.user_id.clone(),
                expires_at: order.expires_at(),
                ticket: PricedTicketRef {
                    id: order.ticket.id.clone(),
                    price: order.ticket.price,
                },
            };
            self.outbox.stage(session, &created).await?;
            Ok(Ok(order))
        })
        .await
    }

    /// Notes that the order's payment was refunded; false if there is no such order.
    pub async fn note_refund(&self, id: ObjectId, refund_id: &str) -> mongodb::error::Result<bool> {
        let noted = self
            .orders
            .update_one(
                doc! { "_id": id },
                doc! { "$set": { "refundId": refund_id } },
            )
            .await?;
        Ok(noted.matched_count == 1)
    }

    /// The buyer's orders, newest first.
    pub async fn of_buyer(&self, user_id: &str) -> mongodb::error::Result<Vec<OrderRecord>> {
        self.orders
            .find(doc! { "userId": user_id })
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await?
            .try_collect()
            .await
    }

    /// One order, if it exists and (when `owner` is given) belongs to them.
    pub async fn find(
        &self,
        id: ObjectId,
        owner: Option<&str>,
    ) -> mongodb::error::Result<Option<OrderRecord>> {
        self.orders.find_one(filter(id, owner)).await
    }

    /// Applies `command` to the order as the state machine decides. A
    /// cancellation releases the ticket if this order still holds it.
    pub async fn transition(
        &self,
        id: ObjectId,
        owner: Option<&str>,
        command: Command,
    ) -> mongodb::error::Result<Result<Transitioned, TransitionRefused>> {
        loop {
            let attempt = common::transaction!(self.outbox, |session| {
                let Some(order) = self
                    .orders
                    .find_one(filter(id, owner))
                    .session(&mut *session)
                    .await?
                else {
                    return Ok(Some(Err(TransitionRefused::NotFound)));
                };
                let next = match decide(order.status, command) {
                    Err(refusal) => return Ok(Some(Err(TransitionRefused::Refused(refusal)))),
                    Ok(Decision::Unchanged) => return Ok(Some(Ok(Transitioned::Unchanged(order)))),
                    Ok(Decision::Become(next)) => next,
                };
                match self.apply(session, &order, next).await? {
                    Some(changed) => Ok(Some(Ok(Transitioned::Changed(changed)))),
                    // Changed by someone else since we read it: decide again.
                    None => Ok(None),
                }
            })
            .await?;
            if let Some(outcome) = attempt {
                return Ok(outcome);
            }
        }
    }

    /// Moves `order` to `next` if it is still the version we read, releases
    /// its ticket when it is cancelled, and stages the event.
    async fn apply(
        &self,
        session: &mut ClientSession,
        order: &OrderRecord,
        next: OrderStatus,
    ) -> mongodb::error::Result<Option<OrderRecord>> {
        let Some(changed) = common::mongo::update_and_read(
            &self.orders,
            session,
            doc! { "_id": order.id, "version": order.version },
            doc! {
                "$set": { "status": bson::serialize_to_bson(&next)? },
                "$inc": { "version": 1 },
            },
        )
        .await?
        else {
            return Ok(None);
        };
        let id = changed.id.to_hex();
        let ticket = TicketRef {
            id: changed.ticket.id.clone(),
        };
        match next {
            OrderStatus::Cancelled => {
                let ticket_id = common::mongo::parse_id(&ticket.id).ok_or_else(|| {
                    mongodb::error::Error::custom("order names a malformed ticket id")
                })?;
                self.tickets
                    .update_one(
                        doc! { "_id": ticket_id, "heldBy": &id },
                        doc! { "$set": { "heldBy": null } },
                    )
                    .session(&mut *session)
                    .await?;
                let event = OrderCancelled {
                    id,
                    version: changed.version,
                    ticket,
                };
                self.outbox.stage(session, &event).await?;
            }
            OrderStatus::Complete => {
                let event = OrderCompleted {
                    id,
                    version: changed.version,
                    ticket,
                };
                self.outbox.stage(session, &event).await?;
            }
            OrderStatus::Created => unreachable!("the state machine never moves back to created"),
        }
        Ok(Some(changed))
    }
}

fn filter(id: ObjectId, owner: Option<&str>) -> bson::Document {
    match owner {
        Some(user_id) => doc! { "_id": id, "userId": user_id },
        None => doc! { "_id": id },
    }
}
