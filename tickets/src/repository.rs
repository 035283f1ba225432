//! Tickets in Mongo, and the orders this service has heard of: the only code
//! of this service that touches the database. Every change to a ticket bumps
//! its version and stages `ticket.updated` in the same transaction, so the
//! replicas elsewhere see every version.

use anyhow::Context as _;
use common::events::{OrderStatus, TicketCreated, TicketUpdated};
use common::outbox::Outbox;
use common::replica::{self, Step};
use futures::TryStreamExt;
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
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

/// An order as this service knows it: enough to apply the order events in
/// version order, whatever order the bus delivers them in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderRecord {
    #[serde(rename = "_id")]
    id: String,
    ticket_id: ObjectId,
    version: i64,
    status: OrderStatus,
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
    orders: Collection<OrderRecord>,
    outbox: Outbox,
}

impl Tickets {
    pub fn new(database: &Database) -> Self {
        Self {
            tickets: database.collection("tickets"),
            orders: database.collection("orders"),
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

    /// Tickets nobody holds and nobody bought, newest first.
    pub async fn for_sale(&self) -> mongodb::error::Result<Vec<TicketRecord>> {
        self.tickets
            .find(doc! { "orderId": null, "sold": false })
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
        order_id: &str,
        version: i64,
        ticket_id: ObjectId,
    ) -> mongodb::error::Result<Applied> {
        common::transaction!(self.outbox, |session| {
            match self.order_step(session, order_id, version).await? {
                Step::Apply => {}
                Step::Duplicate => return Ok(Applied::Duplicate),
                Step::Early => return Ok(Applied::Early),
            }
            let held = self
                .change_ticket(
                    session,
                    doc! { "_id": ticket_id, "orderId": null, "sold": false },
                    doc! { "$set": { "orderId": order_id }, "$inc": { "version": 1 } },
                )
                .await?;
            if !held {
                let ticket = self
                    .tickets
                    .find_one(doc! { "_id": ticket_id })
                    .session(&mut *session)
                    .await?;
                return Ok(match ticket {
                    None => Applied::UnknownTicket,
                    Some(_) => Applied::HeldByAnother,
                });
            }
            let order = OrderRecord {
                id: order_id.to_string(),
                ticket_id,
                version,
                status: OrderStatus::Created,
            };
            self.orders
                .insert_one(&order)
                .session(&mut *session)
                .await?;
            Ok(Applied::Done)
        })
        .await
    }

    /// Applies order.cancelled or order.completed. A release frees the ticket
    /// only if that very order holds it; a sale marks it sold for good.
    pub async fn end_order(
        &self,
        order_id: &str,
        version: i64,
        ticket_id: ObjectId,
        ending: Ending,
    ) -> mongodb::error::Result<Applied> {
        let (status, change) = match ending {
            Ending::Release => (
                OrderStatus::Cancelled,
                doc! { "$set": { "orderId": null }, "$inc": { "version": 1 } },
            ),
            Ending::Sell => (
                OrderStatus::Complete,
                doc! { "$set": { "sold": true }, "$inc": { "version": 1 } },
            ),
        };
        common::transaction!(self.outbox, |session| {
                match self.order_step(session, order_id, version).await? {
                    Step::Apply => {}
                    Step::Duplicate => return Ok(Applied::Duplicate),
                    Step::Early => return Ok(Applied::Early),
                }
                self.orders
                    .update_one(
                        doc! { "_id": order_id },
                        doc! { "$set": { "version": version, "status": mongodb::bson::serialize_to_bson(&status)? } },
                    )
                    .session(&mut *session)
                    .await?;
                self.change_ticket(
                    session,
                    doc! { "_id": ticket_id, "orderId": order_id, "sold": false },
                    change.clone(),
                )
                .await?;
                Ok(Applied::Done)
            })
            .await
    }

    /// Where an incoming version of an order stands against the one applied.
    async fn order_step(
        &self,
        session: &mut ClientSession,
        order_id: &str,
        version: i64,
    ) -> mongodb::error::Result<Step> {
        let stored = self
            .orders
            .find_one(doc! { "_id": order_id })
            .session(session)
            .await?;
        Ok(replica::step(stored.map(|order| order.version), version))
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
