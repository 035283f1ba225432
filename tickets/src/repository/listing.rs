//! The listing's pages, each one query on an index: the tickets for sale
//! in the asked order from after the cursor, and a seller's own tickets.

use chrono::Utc;
use common::paging::Page;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, doc};

use super::{TicketRecord, Tickets};
use crate::domain::Catalogue;
use crate::domain::query::{Position, Sort};

impl Tickets {
    /// A page of the tickets for sale: available, the event not started,
    /// the seller not banned.
    pub async fn for_sale(
        &self,
        catalogue: &Catalogue,
    ) -> mongodb::error::Result<Page<TicketRecord>> {
        let mut filter = doc! {
            "status": "available",
            "startsKey": { "$gt": Utc::now().timestamp_millis() },
            "sellerBanned": { "$ne": true },
        };
        if !catalogue.words.is_empty() {
            filter.insert("words", doc! { "$all": &catalogue.words });
        }
        let mut price = Document::new();
        if let Some(min) = catalogue.min_price {
            price.insert("$gte", min);
        }
        if let Some(max) = catalogue.max_price {
            price.insert("$lte", max);
        }
        if !price.is_empty() {
            filter.insert("price", price);
        }
        let sort = catalogue.sort;
        if let Some(after) = catalogue.after {
            filter.insert("$or", after_position(sort, after));
        }
        let order = match sort {
            Sort::Newest => doc! { "_id": -1 },
            Sort::Price => doc! { "price": 1, "_id": 1 },
            Sort::PriceDesc => doc! { "price": -1, "_id": -1 },
            Sort::StartsAt => doc! { "startsKey": 1, "_id": 1 },
        };
        let read: Vec<TicketRecord> = self
            .tickets
            .find(filter)
            .sort(order)
            .limit(catalogue.limit + 1)
            .await?
            .try_collect()
            .await?;
        Ok(Page::from_read(read, catalogue.limit, |ticket| {
            let key = match sort {
                Sort::Newest => 0,
                Sort::Price | Sort::PriceDesc => ticket.price,
                Sort::StartsAt => ticket.starts_key,
            };
            Position { key, id: ticket.id }.text(sort)
        }))
    }

    /// A page of `user_id`'s own tickets in every status, newest first.
    pub async fn of_seller(
        &self,
        user_id: &str,
        limit: i64,
        after: Option<ObjectId>,
    ) -> mongodb::error::Result<Page<TicketRecord>> {
        let mut filter = doc! { "userId": user_id };
        if let Some(after) = after {
            filter.insert("_id", doc! { "$lt": after });
        }
        let read: Vec<TicketRecord> = self
            .tickets
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(limit + 1)
            .await?
            .try_collect()
            .await?;
        Ok(Page::from_read(read, limit, |ticket| ticket.id.to_hex()))
    }
}

/// What comes after `position` in `sort`: a greater key, or the same key
/// and a greater id (smaller, for the orders that run downwards).
fn after_position(sort: Sort, position: Position) -> Vec<Bson> {
    let (field, past) = match sort {
        Sort::Newest => return vec![Bson::Document(doc! { "_id": { "$lt": position.id } })],
        Sort::Price => ("price", "$gt"),
        Sort::PriceDesc => ("price", "$lt"),
        Sort::StartsAt => ("startsKey", "$gt"),
    };
    vec![
        Bson::Document(doc! { field: { past: position.key } }),
        Bson::Document(doc! { field: position.key, "_id": { past: position.id } }),
    ]
}
