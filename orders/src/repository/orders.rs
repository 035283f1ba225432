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
use crate::domain::Buyer;
use crate::domain::placing::Ticket;
use crate::domain::{Command, Decision, Facts, PlaceRefused, Refusal, decide, may_place};

/// An order to place, and what decides whether it may be.
pub struct Placing<'a> {
    pub buyer: &'a str,
    pub ticket: ObjectId,
    pub expires_at: DateTime<Utc>,
    /// A buyer whose hold on the ticket was let go waits this long to hold it again.
    pub window: chrono::Duration,
    /// Unpaid orders a buyer may have at once.
    pub max_open: i64,
    pub revocations: &'a common::revocations::Revocations,
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
    /// buyers exactly one wins, whatever the tickets service is doing. It
    /// counts the ticket's holds: the order carries its number, by which
    /// the tickets service applies one ticket's holds in the order placed.
    pub async fn place(
        &self,
        placing: Placing<'_>,
    ) -> mongodb::error::Result<Result<OrderRecord, PlaceRefused>> {
        let (user_id, ticket_id, expires_at) = (placing.buyer, placing.ticket, placing.expires_at);
        common::transaction!(self.outbox, |session| {
            let Some(ticket) = self
                .tickets
                .find_one(doc! { "_id": ticket_id })
                .session(&mut *session)
                .await?
            else {
                return Ok(Err(PlaceRefused::UnknownTicket));
            };
            let now = Utc::now();
            let facts = Ticket {
                seller: &ticket.user_id,
                status: ticket.status,
                starts_at: ticket.starts_at(),
                held: ticket.held_by.is_some(),
                seller_banned: placing.revocations.is_banned(&ticket.user_id),
            };
            // What the ticket alone decides first: most refusals under
            // contention (a held ticket) then cost no more reads.
            let mut buyer = Buyer {
                id: user_id,
                released_lately: false,
            };
            if let Err(refused) = may_place(&facts, buyer, now) {
                return Ok(Err(refused));
            }
            // The buyer's record, by id: how many unpaid orders they hold,
            // and when they last let go of each ticket (a query on the
            // orders themselves cost the hot path a scan on SecantusDB).
            let record = self
                .buyers
                .find_one(doc! { "_id": user_id })
                .session(&mut *session)
                .await?
                .unwrap_or_default();
            let since = bson::DateTime::from_millis((now - placing.window).timestamp_millis());
            let released = record.get_document("released").ok();
            buyer.released_lately = released
                .and_then(|r| r.get_datetime(ticket_id.to_hex()).ok())
                .is_some_and(|at| *at > since);
            if let Err(refused) = may_place(&facts, buyer, now) {
                return Ok(Err(refused));
            }
            // One more unpaid order, if the buyer has room for it. The count
            // is one record per buyer: concurrent orders of one buyer write
            // it at once, and all but one are run again on what it became.
            if record.get_i64("open").unwrap_or(0) >= placing.max_open {
                return Ok(Err(PlaceRefused::TooManyOpen));
            }
            // Releases older than a hold window no longer count: forgotten
            // when the record is next written.
            let mut forget = bson::Document::new();
            for (ticket, at) in released.into_iter().flatten() {
                if at.as_datetime().is_none_or(|at| *at <= since) {
                    forget.insert(format!("released.{ticket}"), "");
                }
            }
            let order_id = ObjectId::new();
            // A record from before holds were counted has none: null matches it.
            let holds = match ticket.holds {
                0 => bson::bson!({ "$in": [0_i64, null] }),
                n => bson::Bson::Int64(n),
            };
            let held = self
                .tickets
                .update_one(
                    doc! { "_id": ticket_id, "heldBy": null, "holds": holds },
                    doc! {
                        "$set": { "heldBy": order_id.to_hex(), "holds": ticket.holds + 1 },
                    },
                )
                .session(&mut *session)
                .await?;
            if held.matched_count == 0 {
                return Ok(Err(PlaceRefused::Reserved));
            }
            // Counted only once the ticket is held: a refusal commits too.
            let mut change = doc! { "$inc": { "open": 1_i64 } };
            if !forget.is_empty() {
                change.insert("$unset", forget);
            }
            self.buyers
                .update_one(doc! { "_id": user_id }, change)
                .upsert(true)
                .session(&mut *session)
                .await?;
            let order = OrderRecord {
                id: order_id,
                user_id: user_id.to_string(),
                status: OrderStatus::Created,
                expires_at: bson::DateTime::from_millis(expires_at.timestamp_millis()),
                ticket: OrderedTicket {
                    id: ticket.id.to_hex(),
                    title: ticket.title,
                    price: ticket.price,
                    hold: ticket.holds,
                },
                version: 0,
                created_at: bson::DateTime::now(),
                refund_id: None,
                ended_at: None,
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
                    hold: order.ticket.hold,
                },
            };
            self.outbox.stage(session, &created).await?;
            Ok(Ok(order))
        })
        .await
    }

    /// Cancels every unpaid order of `user_id` (a banned buyer's): their
    /// tickets are for sale again.
    pub async fn cancel_unpaid_of(&self, user_id: &str) -> mongodb::error::Result<()> {
        let open: Vec<OrderRecord> = self
            .orders
            .find(doc! { "userId": user_id, "status": "created" })
            .await?
            .try_collect()
            .await?;
        for order in open {
            self.transition(order.id, None, Command::Cancel).await?.ok();
        }
        Ok(())
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

    /// A page of the buyer's orders, newest first, from after `after`.
    pub async fn of_buyer(
        &self,
        user_id: &str,
        limit: i64,
        after: Option<ObjectId>,
    ) -> mongodb::error::Result<common::paging::Page<OrderRecord>> {
        let mut filter = doc! { "userId": user_id };
        if let Some(after) = after {
            filter.insert("_id", doc! { "$lt": after });
        }
        let read: Vec<OrderRecord> = self
            .orders
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(limit + 1)
            .await?
            .try_collect()
            .await?;
        Ok(common::paging::Page::from_read(read, limit, |order| {
            order.id.to_hex()
        }))
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
                let facts = Facts {
                    status: order.status,
                    expires_at: order.expires_at(),
                };
                let next = match decide(facts, command, Utc::now()) {
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
                "$set": { "status": bson::serialize_to_bson(&next)?, "endedAt": bson::DateTime::now() },
                "$inc": { "version": 1 },
            },
        )
        .await?
        else {
            return Ok(None);
        };
        // It was unpaid and open: the buyer has room for another, and, if
        // they let it go, waits a hold window to hold the ticket again.
        let mut change = doc! { "$inc": { "open": -1_i64 } };
        if next == OrderStatus::Cancelled {
            let released = format!("released.{}", changed.ticket.id);
            change.insert("$set", doc! { released: bson::DateTime::now() });
        }
        self.buyers
            .update_one(doc! { "_id": &changed.user_id }, change)
            .session(&mut *session)
            .await?;
        let id = changed.id.to_hex();
        let ticket = TicketRef {
            id: changed.ticket.id.clone(),
            hold: changed.ticket.hold,
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
