//! The ceiling: what placing an order costs the servers themselves, with no
//! service in between. Each order is the orders service's write, done by
//! hand on collections indexed as the service's are: one Mongo transaction
//! that reads the ticket (the order carries its title and price), holds it,
//! stores the order and stages its event, then the JetStream publish of that
//! event with its acknowledgement. Marking the row sent is left out: the
//! service's relay marks a hundred rows at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use async_nats::jetstream;
use mongodb::bson::{Document, doc, oid::ObjectId};
use mongodb::error::TRANSIENT_TRANSACTION_ERROR;
use mongodb::{Client, ClientSession, Collection};
use system::Platform;

use crate::stats::Run;

struct Work {
    mongo: Client,
    tickets: Collection<Document>,
    orders: Collection<Document>,
    outbox: Collection<Document>,
    jetstream: jetstream::Context,
    ids: Vec<ObjectId>,
    next: AtomicUsize,
}

/// Places `count` orders on as many new tickets, `concurrency` at a time,
/// straight on the servers.
pub async fn run(platform: &Platform, count: usize, concurrency: usize) -> anyhow::Result<Run> {
    let mongo = Client::with_uri_str(platform.mongo_uri()).await?;
    let database = mongo.database("ceiling");
    let tickets = database.collection::<Document>("tickets");
    let ids: Vec<ObjectId> = (0..count).map(|_| ObjectId::new()).collect();
    let seller = ObjectId::new().to_hex();
    tickets
        .insert_many(ids.iter().map(|id| {
            doc! { "_id": id, "title": "Seat", "price": 2000_i64, "userId": &seller, "version": 0_i64, "heldBy": null, "holds": 0_i64 }
        }))
        .await
        .context("cannot store the ceiling's tickets")?;

    let nats = platform.nats().await?;
    let jetstream = jetstream::new(nats);
    jetstream
        .get_or_create_stream(jetstream::stream::Config {
            name: "CEILING".into(),
            subjects: vec!["ceiling.>".into()],
            storage: jetstream::stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await?;

    // The indexes the orders service keeps on the same collections.
    let orders = database.collection::<Document>("orders");
    let outbox = database.collection::<Document>("outbox");
    orders
        .create_index(common::mongo::index(
            "by_buyer",
            doc! { "userId": 1, "createdAt": -1 },
            false,
        ))
        .await?;
    outbox
        .create_index(common::mongo::index(
            "pending",
            doc! { "sent": 1, "_id": 1 },
            false,
        ))
        .await?;

    let work = Arc::new(Work {
        orders,
        outbox,
        mongo,
        tickets,
        jetstream,
        ids,
        next: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let work = work.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while let Some(ticket) = work.ids.get(work.next.fetch_add(1, Ordering::Relaxed)) {
                    let start = Instant::now();
                    work.place(*ticket).await?;
                    latencies.push(start.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(count);
    for worker in workers {
        latencies.extend(worker.await??);
    }
    Ok(Run::new(latencies, started.elapsed(), 0))
}

impl Work {
    async fn place(&self, ticket: ObjectId) -> anyhow::Result<()> {
        let order = ObjectId::new();
        let row = ObjectId::new();
        let payload = serde_json::json!({
            "id": order.to_hex(), "version": 0, "status": "created", "userId": ObjectId::new().to_hex(),
            "expiresAt": chrono::Utc::now().to_rfc3339(),
            "ticket": { "id": ticket.to_hex(), "price": 2000 },
        })
        .to_string();
        let mut session = self.mongo.start_session().await?;
        // Retried on a write conflict, as the services' transactions are.
        loop {
            match self.write(&mut session, ticket, order, row, &payload).await {
                Ok(true) => break,
                Ok(false) => bail!("ticket {ticket} was not free"),
                Err(err) if err.contains_label(TRANSIENT_TRANSACTION_ERROR) => {
                    let _ = session.abort_transaction().await;
                }
                Err(err) => return Err(err.into()),
            }
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("order.created:{order}:0").as_str());
        self.jetstream
            .publish_with_headers("ceiling.order.created", headers, payload.into())
            .await?
            .await?;
        Ok(())
    }

    /// The transaction: read and hold the ticket, store the order, stage the event.
    /// False when the ticket was not free.
    async fn write(
        &self,
        session: &mut ClientSession,
        ticket: ObjectId,
        order: ObjectId,
        row: ObjectId,
        payload: &str,
    ) -> mongodb::error::Result<bool> {
        session.start_transaction().await?;
        let Some(read) = self
            .tickets
            .find_one(doc! { "_id": ticket })
            .session(&mut *session)
            .await?
        else {
            session.abort_transaction().await?;
            return Ok(false);
        };
        let holds = read.get_i64("holds").unwrap_or_default();
        let held = self
            .tickets
            .update_one(
                doc! { "_id": ticket, "heldBy": null, "holds": holds },
                doc! { "$set": { "heldBy": order.to_hex(), "holds": holds + 1 } },
            )
            .session(&mut *session)
            .await?;
        if held.modified_count != 1 {
            session.abort_transaction().await?;
            return Ok(false);
        }
        self.orders
            .insert_one(doc! {
                "_id": order, "userId": ObjectId::new().to_hex(), "status": "created", "version": 0_i64,
                "createdAt": mongodb::bson::DateTime::now(),
                "ticket": { "id": ticket.to_hex(), "title": read.get_str("title").unwrap_or_default(), "price": read.get_i64("price").unwrap_or_default(), "hold": holds },
                "expiresAt": mongodb::bson::DateTime::now(),
            })
            .session(&mut *session)
            .await?;
        self.outbox
            .insert_one(doc! {
                "_id": row, "subject": "ceiling.order.created", "messageId": format!("order.created:{order}:0"),
                "payload": payload, "sent": false, "createdAt": mongodb::bson::DateTime::now(),
            })
            .session(&mut *session)
            .await?;
        session.commit_transaction().await?;
        Ok(true)
    }
}
