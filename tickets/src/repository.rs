//! Tickets in Mongo, each noting the versions of the orders that reached it:
//! the only code of this service that touches the database. Every change to
//! a ticket bumps its version and stages `ticket.updated` in the same
//! transaction, so the replicas elsewhere see every version.

use std::collections::BTreeMap;

use anyhow::Context as _;
use common::events::{TicketCreated, TicketUpdated};
use common::outbox::Outbox;
use common::replica::{self, Step};
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};
use mongodb::{ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};

use crate::domain::{Price, Title};

/// A ticket as stored. It is for sale while no order holds it and it is not sold.
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
    /// The order that holds the ticket, or that bought it.
    pub order_id: Option<String>,
    pub sold: bool,
    /// The version of each order applied to the ticket, by order id: the
    /// order events are applied in version order whatever order the bus
    /// delivers them in, and in the same write as the change they make.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub orders: BTreeMap<String, i64>,
}

impl TicketRecord {
    fn created(&self) -> TicketCreated {
        TicketCreated {
            id: self.id.to_hex(),
            version: self.version,
            title: self.title.clone(),
            price: self.price,
            user_id: self.user_id.clone(),
        }
    }

    fn updated(&self) -> TicketUpdated {
        TicketUpdated {
            id: self.id.to_hex(),
            version: self.version,
            title: self.title.clone(),
            price: self.price,
            user_id: self.user_id.clone(),
            order_id: self.order_id.clone(),
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditRefused {
    NotFound,
    NotOwner,
    /// Held by an order, or sold.
    Reserved,
}

/// What applying an order event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The ticket changed (or, for a release, the order no longer held it).
    Done,
    /// This version of the order was applied already.
    Duplicate,
    /// An earlier version of the order has not arrived yet.
    Early,
    /// Another order holds the ticket; its release has not arrived yet.
    HeldByAnother,
    /// No such ticket.
    UnknownTicket,
}

/// Where an ended order leaves its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Cancelled or expired: the ticket is for sale again.
    Release,
    /// Paid: the ticket is sold for good.
    Sell,
}

#[derive(Clone)]
pub struct Tickets {
    tickets: Collection<TicketRecord>,
    outbox: Outbox,
}

impl Tickets {
    pub fn new(database: &Database) -> Self {
        Self {
            tickets: database.collection("tickets"),
            outbox: Outbox::new(database),
        }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub async fn init(&self) -> anyhow::Result<()> {
        self.outbox.init().await?;
        let for_sale = common::mongo::index(
            "for_sale",
            doc! { "orderId": 1, "sold": 1, "_id": -1 },
            false,
        );
        self.tickets
            .create_index(for_sale)
            .await
            .context("cannot create the tickets' index")?;
        Ok(())
    }

    pub async fn create(
        &self,
        title: &Title,
        price: Price,
        user_id: &str,
    ) -> mongodb::error::Result<TicketRecord> {
        let ticket = TicketRecord {
            id: ObjectId::new(),
            title: title.as_str().to_string(),
            price: price.cents(),
            user_id: user_id.to_string(),
            version: 0,
            order_id: None,
            sold: false,
            orders: BTreeMap::new(),
        };
        common::transaction!(self.outbox, |session| {
            self.tickets
                .insert_one(&ticket)
                .session(&mut *session)
                .await?;
            self.outbox.stage(session, &ticket.created()).await
        })
        .await?;
        Ok(ticket)
    }

    /// Tickets nobody holds and nobody bought, newest first; without the
    /// orders each ticket notes, which grow with every expired hold.
    pub async fn for_sale(&self) -> mongodb::error::Result<Vec<TicketRecord>> {
        self.tickets
            .find(doc! { "orderId": null, "sold": false })
            .projection(doc! { "orders": 0 })
            .sort(doc! { "_id": -1 })
            .await?
            .try_collect()
            .await
    }

    pub async fn find(&self, id: ObjectId) -> mongodb::error::Result<Option<TicketRecord>> {
        self.tickets.find_one(doc! { "_id": id }).await
    }

    /// Changes title and price if `user_id` owns the ticket and it is for sale.
    pub async fn edit(
        &self,
        id: ObjectId,
        user_id: &str,
        title: &Title,
        price: Price,
    ) -> mongodb::error::Result<Result<TicketRecord, EditRefused>> {
        common::transaction!(self.outbox, |session| {
            let edited = common::mongo::update_and_read(
                &self.tickets,
                session,
                doc! { "_id": id, "userId": user_id, "orderId": null, "sold": false },
                doc! {
                    "$set": { "title": title.as_str(), "price": price.cents() },
                    "$inc": { "version": 1 },
                },
            )
            .await?;
            if let Some(ticket) = edited {
                self.outbox.stage(session, &ticket.updated()).await?;
                return Ok(Ok(ticket));
            }
            // Nothing was written: find out which rule refused it.
            let refused = match self
                .tickets
                .find_one(doc! { "_id": id })
                .session(&mut *session)
                .await?
            {
                None => EditRefused::NotFound,
                Some(ticket) if ticket.user_id != user_id => EditRefused::NotOwner,
                Some(_) => EditRefused::Reserved,
            };
            Ok(Err(refused))
        })
        .await
    }

    /// Applies order.created: the ticket becomes held by the order.
    pub async fn hold(
        &self,
        order_id: ObjectId,
        version: i64,
        ticket_id: ObjectId,
    ) -> mongodb::error::Result<Applied> {
        let order = order_id.to_hex();
        common::transaction!(self.outbox, |session| {
            let free = doc! { "orderId": null, "sold": false };
            let hold = doc! { "orderId": &order };
            if self
                .apply_order(session, ticket_id, &order, version, free, hold)
                .await?
            {
                return Ok(Applied::Done);
            }
            Ok(
                match self.order_step(session, ticket_id, &order, version).await? {
                    None => Applied::UnknownTicket,
                    // The version is next, so it is the ticket that is not free.
                    Some(Step::Apply) => Applied::HeldByAnother,
                    Some(Step::Duplicate) => Applied::Duplicate,
                    Some(Step::Early) => Applied::Early,
                },
            )
        })
        .await
    }

    /// Applies order.cancelled or order.completed. A release frees the ticket
    /// only if that very order holds it; a sale marks it sold for good.
    pub async fn end_order(
        &self,
        order_id: ObjectId,
        version: i64,
        ticket_id: ObjectId,
        ending: Ending,
    ) -> mongodb::error::Result<Applied> {
        let order = order_id.to_hex();
        let change = match ending {
            Ending::Release => doc! { "orderId": null },
            Ending::Sell => doc! { "sold": true },
        };
        common::transaction!(self.outbox, |session| {
            let held = doc! { "orderId": &order, "sold": false };
            if self
                .apply_order(session, ticket_id, &order, version, held, change.clone())
                .await?
            {
                return Ok(Applied::Done);
            }
            Ok(
                match self.order_step(session, ticket_id, &order, version).await? {
                    None => Applied::UnknownTicket,
                    Some(Step::Apply) => {
                        // The order does not hold the ticket: only its version is noted.
                        self.tickets
                            .update_one(
                                doc! { "_id": ticket_id, order_key(&order): version - 1 },
                                doc! { "$set": { order_key(&order): version } },
                            )
                            .session(&mut *session)
                            .await?;
                        Applied::Done
                    }
                    Some(Step::Duplicate) => Applied::Duplicate,
                    Some(Step::Early) => Applied::Early,
                },
            )
        })
        .await
    }

    /// Applies `version` of `order` to the ticket in one write, if the ticket
    /// holds the version before it and matches `requires`: sets `change`,
    /// notes the version and stages the ticket's new version. False when
    /// nothing matched; [`Tickets::order_step`] then says why.
    async fn apply_order(
        &self,
        session: &mut ClientSession,
        ticket_id: ObjectId,
        order: &str,
        version: i64,
        requires: Document,
        mut change: Document,
    ) -> mongodb::error::Result<bool> {
        let before = match version {
            0 => Bson::Document(doc! { "$exists": false }),
            _ => Bson::Int64(version - 1),
        };
        let mut filter = doc! { "_id": ticket_id, order_key(order): before };
        filter.extend(requires);
        change.insert(order_key(order), version);
        self.change_ticket(
            session,
            filter,
            doc! { "$set": change, "$inc": { "version": 1 } },
        )
        .await
    }

    /// Where an incoming version of an order stands against the one the
    /// ticket notes; `None` when there is no such ticket.
    async fn order_step(
        &self,
        session: &mut ClientSession,
        ticket_id: ObjectId,
        order: &str,
        version: i64,
    ) -> mongodb::error::Result<Option<Step>> {
        let ticket = self
            .tickets
            .find_one(doc! { "_id": ticket_id })
            .session(session)
            .await?;
        Ok(ticket.map(|ticket| replica::step(ticket.orders.get(order).copied(), version)))
    }

    /// Applies `change` to the ticket matching `filter` and stages the new
    /// version; false when nothing matched.
    async fn change_ticket(
        &self,
        session: &mut ClientSession,
        filter: mongodb::bson::Document,
        change: mongodb::bson::Document,
    ) -> mongodb::error::Result<bool> {
        let changed =
            common::mongo::update_and_read(&self.tickets, session, filter, change).await?;
        match changed {
            Some(ticket) => {
                self.outbox.stage(session, &ticket.updated()).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The field of a ticket that notes `order`'s version.
fn order_key(order: &str) -> String {
    format!("orders.{order}")
}
