//! Tickets in Mongo: the only code of this service that touches the
//! database. Every change to a ticket bumps its version and stages
//! `ticket.updated` in the same transaction, so the replicas elsewhere see
//! every version. What a change does is decided by the pure rules of
//! `domain`; this applies it, on the version it was decided on.

mod holds;
mod listing;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use common::events::{TicketCreated, TicketUpdated};
use common::outbox::Outbox;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, Document, doc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use crate::domain::{EditRefused, Holder, Listing, Stage, Status, Withdrawal};

/// The listing's key for a ticket without a date: after every date.
const NO_DATE: i64 = i64::MAX;

/// A ticket as stored. Its size does not grow with the orders that held it:
/// only the latest hold is kept.
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
    /// Kept with `holder` and `withdrawn`, for the listing's indexes.
    pub status: Status,
    /// The latest order that held the ticket, and how far it got.
    #[serde(default)]
    pub holder: Option<Holder>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub starts_at: Option<bson::DateTime>,
    /// What the buyer needs at the door; shown to the seller and the buyer only.
    #[serde(default)]
    pub code: Option<String>,
    /// Its seller took it off sale.
    #[serde(default)]
    pub withdrawn: bool,
    /// The start in milliseconds, or [`NO_DATE`]: the listing's order and
    /// its "not started yet" filter.
    #[serde(default = "no_date")]
    pub starts_key: i64,
    /// The lower-cased words of title and venue a search finds it by.
    #[serde(default)]
    pub words: Vec<String>,
    /// Its seller is banned: it is left out of the listing until the ban is lifted.
    #[serde(default)]
    pub seller_banned: bool,
}

fn no_date() -> i64 {
    NO_DATE
}

impl TicketRecord {
    /// The order that holds the ticket, or that bought it.
    pub fn order_id(&self) -> Option<&str> {
        self.holder
            .as_ref()
            .filter(|h| h.stage != Stage::Released)
            .map(|h| h.order_id.as_str())
    }

    pub fn starts_at(&self) -> Option<DateTime<Utc>> {
        self.starts_at
            .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()))
    }

    fn created(&self) -> TicketCreated {
        TicketCreated {
            id: self.id.to_hex(),
            version: self.version,
            title: self.title.clone(),
            price: self.price,
            user_id: self.user_id.clone(),
            starts_at: self.starts_at(),
        }
    }

    fn updated(&self) -> TicketUpdated {
        TicketUpdated {
            id: self.id.to_hex(),
            version: self.version,
            title: self.title.clone(),
            price: self.price,
            user_id: self.user_id.clone(),
            order_id: self.order_id().map(str::to_string),
            status: self.status,
            starts_at: self.starts_at(),
        }
    }

    /// Sets what the seller wrote.
    fn describe(&mut self, listing: &Listing) {
        self.title = listing.title.as_str().to_string();
        self.price = listing.price.cents();
        self.description = listing.description.clone();
        self.venue = listing.venue.clone();
        self.starts_at = listing
            .starts_at
            .map(|at| bson::DateTime::from_millis(at.timestamp_millis()));
        self.starts_key = listing
            .starts_at
            .map_or(NO_DATE, |at| at.timestamp_millis());
        self.code = listing.code.clone();
        self.words = listing.words();
    }

    /// The fields [`TicketRecord::describe`] sets, for an update.
    fn description_fields(&self) -> mongodb::error::Result<Document> {
        Ok(doc! {
            "title": &self.title,
            "price": self.price,
            "description": &self.description,
            "venue": &self.venue,
            "startsAt": self.starts_at,
            "startsKey": self.starts_key,
            "code": &self.code,
            "words": &self.words,
        })
    }
}

/// Why an order event cannot apply, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unappliable {
    UnknownTicket,
    Contradiction(&'static str),
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

    /// An index for every query a page runs.
    pub async fn init(&self) -> anyhow::Result<()> {
        self.outbox.init().await?;
        let indexes = [
            common::mongo::index("for_sale_newest", doc! { "status": 1, "_id": -1 }, false),
            common::mongo::index(
                "for_sale_by_price",
                doc! { "status": 1, "price": 1, "_id": 1 },
                false,
            ),
            common::mongo::index(
                "for_sale_by_start",
                doc! { "status": 1, "startsKey": 1, "_id": 1 },
                false,
            ),
            common::mongo::index(
                "for_sale_by_word",
                doc! { "status": 1, "words": 1, "_id": -1 },
                false,
            ),
            common::mongo::index("by_seller", doc! { "userId": 1, "_id": -1 }, false),
        ];
        self.tickets
            .create_indexes(indexes)
            .await
            .context("cannot create the tickets' indexes")?;
        Ok(())
    }

    pub async fn create(
        &self,
        listing: &Listing,
        user_id: &str,
    ) -> mongodb::error::Result<TicketRecord> {
        let mut ticket = TicketRecord {
            id: ObjectId::new(),
            title: String::new(),
            price: 0,
            user_id: user_id.to_string(),
            version: 0,
            status: Status::Available,
            holder: None,
            description: None,
            venue: None,
            starts_at: None,
            code: None,
            withdrawn: false,
            starts_key: NO_DATE,
            words: Vec::new(),
            seller_banned: false,
        };
        ticket.describe(listing);
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

    /// Leaves a banned seller's tickets out of the listing, or puts them back.
    pub async fn seller_banned(&self, seller: &str, banned: bool) -> mongodb::error::Result<()> {
        self.tickets
            .update_many(
                doc! { "userId": seller },
                doc! { "$set": { "sellerBanned": banned } },
            )
            .await?;
        Ok(())
    }

    pub async fn find(&self, id: ObjectId) -> mongodb::error::Result<Option<TicketRecord>> {
        self.tickets.find_one(doc! { "_id": id }).await
    }

    /// Rewrites the listing if `user_id` may (see [`crate::domain::may_edit`]).
    pub async fn edit(
        &self,
        id: ObjectId,
        user_id: &str,
        listing: &Listing,
    ) -> mongodb::error::Result<Result<TicketRecord, EditRefused>> {
        self.change(id, |ticket| {
            crate::domain::may_edit(&ticket.user_id, ticket.status, user_id)?;
            ticket.describe(listing);
            Ok(Some(ticket.description_fields()))
        })
        .await
    }

    /// Takes the ticket off sale if `user_id` may (see [`crate::domain::may_withdraw`]).
    pub async fn withdraw(
        &self,
        id: ObjectId,
        user_id: &str,
    ) -> mongodb::error::Result<Result<TicketRecord, EditRefused>> {
        self.change(id, |ticket| {
            match crate::domain::may_withdraw(&ticket.user_id, ticket.status, user_id)? {
                Withdrawal::Unchanged => Ok(None),
                Withdrawal::Withdraw => {
                    ticket.withdrawn = true;
                    ticket.status = Status::Withdrawn;
                    Ok(Some(Ok(doc! { "withdrawn": true, "status": "withdrawn" })))
                }
            }
        })
        .await
    }

    /// Reads the ticket, lets `decide` change it (giving the fields to set,
    /// or `None` for no change), writes those on the version read with the
    /// next version and its event, in one transaction; decides again if the
    /// ticket changed meanwhile.
    async fn change<F>(
        &self,
        id: ObjectId,
        decide: F,
    ) -> mongodb::error::Result<Result<TicketRecord, EditRefused>>
    where
        F: Fn(&mut TicketRecord) -> Result<Option<mongodb::error::Result<Document>>, EditRefused>
            + Send
            + Sync,
    {
        loop {
            let attempt = common::transaction!(self.outbox, |session| {
                let Some(mut ticket) = self
                    .tickets
                    .find_one(doc! { "_id": id })
                    .session(&mut *session)
                    .await?
                else {
                    return Ok(Some(Err(EditRefused::NotFound)));
                };
                let fields = match decide(&mut ticket) {
                    Err(refused) => return Ok(Some(Err(refused))),
                    Ok(None) => return Ok(Some(Ok(ticket))),
                    Ok(Some(fields)) => fields?,
                };
                let changed = self
                    .tickets
                    .update_one(
                        doc! { "_id": id, "version": ticket.version },
                        doc! { "$set": fields, "$inc": { "version": 1 } },
                    )
                    .session(&mut *session)
                    .await?;
                if changed.matched_count == 0 {
                    return Ok(None); // changed since we read it: decide again
                }
                ticket.version += 1;
                self.outbox.stage(session, &ticket.updated()).await?;
                Ok(Some(Ok(ticket)))
            })
            .await?;
            if let Some(outcome) = attempt {
                return Ok(outcome);
            }
        }
    }
}
