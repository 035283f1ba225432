//! The outbox's relay: publishes the rows committed transactions staged,
//! in order, and marks them sent. It publishes what transactions of its own
//! process handed it without reading them back, and marks in batches; it
//! reads the collection only at start, after a failure, when told to
//! ([`Outbox::notify`]), and once a [`POLL`] for rows nobody handed it:
//! its own, or those another replica left behind.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::HeaderMap;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::outbox::{Outbox, Row};

/// Rows one relay pass publishes at most.
const BATCH: i64 = 100;
/// How often the relay looks for rows nobody told it about (after a crash,
/// or written by another replica).
const POLL: Duration = Duration::from_secs(1);
/// How long the relay waits after the bus or the database failed.
const BACKOFF: Duration = Duration::from_secs(1);
/// How long a published row may wait to be marked sent, so that rows are
/// marked many at a time. A crash in this window publishes them again, and
/// the server drops the repeats.
const MARK_DELAY: Duration = Duration::from_millis(100);

/// The relay of `outbox`: publishes what is pending until `shutdown`, then
/// tries once more to publish what is left. Run it under supervision.
pub async fn run(outbox: Outbox, bus: Bus, shutdown: CancellationToken) {
    let gauge = outbox.clone();
    let sampling = crate::metrics::sample_every("outbox", shutdown.clone(), move || {
        let outbox = gauge.clone();
        async move {
            crate::metrics::set("outbox_pending_rows", outbox.pending().await?);
            Ok(())
        }
    });
    tokio::join!(relay(outbox, bus, shutdown), sampling);
}

async fn relay(outbox: Outbox, bus: Bus, shutdown: CancellationToken) {
    let wake = outbox.wake.clone();
    let mut relay = Relay {
        outbox,
        bus,
        must_read: true,
        next_read: Instant::now(),
        unmarked: Vec::new(),
        unmarked_since: None,
    };
    loop {
        let until = match relay.step().await {
            Ok(true) => continue,
            Ok(false) => relay.next_deadline(),
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "outbox relay failed; will retry"
                );
                relay.must_read = true;
                Instant::now() + BACKOFF
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(until) => {}
        }
    }
    relay.must_read = true;
    let drained = async {
        while relay.step().await? {}
        relay.mark().await
    };
    if let Err(err) = drained.await {
        tracing::warn!(
            error = format!("{err:#}"),
            "outbox relay could not publish everything before stopping"
        );
    }
}

/// The relay's state between its steps.
struct Relay {
    outbox: Outbox,
    bus: Bus,
    /// Whether the next step reads the collection.
    must_read: bool,
    next_read: Instant,
    /// Rows published and not yet marked sent, and since when.
    unmarked: Vec<ObjectId>,
    unmarked_since: Option<Instant>,
}

impl Relay {
    /// Publishes what is pending: read back from the collection when it must
    /// be, else what transactions handed it. True if there may be more.
    async fn step(&mut self) -> anyhow::Result<bool> {
        let now = Instant::now();
        if self.outbox.look.swap(false, Ordering::AcqRel) || now >= self.next_read {
            self.must_read = true;
        }
        if self.must_read {
            // Marked first, or what was published is read back and sent again.
            self.mark().await?;
            // Whatever was handed is committed, so the read finds it.
            self.outbox.handed.lock().expect("handed rows").clear();
            self.next_read = now + POLL;
            let orphaned = bson::DateTime::from_millis(
                bson::DateTime::now().timestamp_millis() - self.outbox.orphaned.as_millis() as i64,
            );
            let rows: Vec<Row> = self
                .outbox
                .rows
                .find(doc! {
                    "sent": false,
                    "$or": [
                        { "relay": &*self.outbox.relay },
                        { "createdAt": { "$lt": orphaned } },
                    ],
                })
                .sort(doc! { "_id": 1 })
                .limit(BATCH)
                .await?
                .try_collect()
                .await?;
            let full = rows.len() as i64 == BATCH;
            self.publish(rows).await?;
            self.must_read = full;
            return Ok(full);
        }
        let handed = std::mem::take(&mut *self.outbox.handed.lock().expect("handed rows"));
        if !handed.is_empty() {
            self.publish(handed).await?;
            return Ok(true);
        }
        let due = self
            .unmarked_since
            .is_some_and(|since| now >= since + MARK_DELAY);
        if due || self.unmarked.len() as i64 >= BATCH {
            self.mark().await?;
        }
        Ok(false)
    }

    /// When the relay must act even if nobody wakes it.
    fn next_deadline(&self) -> Instant {
        match self.unmarked_since {
            Some(since) => self.next_read.min(since + MARK_DELAY),
            None => self.next_read,
        }
    }

    /// Publishes `rows` in order, all sent before any acknowledgement is
    /// awaited. Stops at the first failure; what follows it is read back.
    async fn publish(&mut self, rows: Vec<Row>) -> anyhow::Result<()> {
        let mut acks = Vec::with_capacity(rows.len());
        for row in rows {
            let payload = row.payload.into_bytes().into();
            let mut headers = HeaderMap::new();
            if let Some(traceparent) = &row.traceparent {
                headers.insert(crate::telemetry::TRACEPARENT, traceparent.as_str());
            }
            let ack = self
                .bus
                .send_raw(&row.subject, &row.message_id, payload, headers)
                .await?;
            acks.push((row.id, ack));
        }
        for (id, ack) in acks {
            ack.await?;
            self.unmarked.push(id);
            self.unmarked_since.get_or_insert_with(Instant::now);
        }
        Ok(())
    }

    /// Marks the published rows sent.
    async fn mark(&mut self) -> anyhow::Result<()> {
        if self.unmarked.is_empty() {
            return Ok(());
        }
        self.outbox
            .rows
            .update_many(
                doc! { "_id": { "$in": &self.unmarked } },
                doc! { "$set": { "sent": true } },
            )
            .await
            .context("cannot mark outbox rows sent")?;
        self.unmarked.clear();
        self.unmarked_since = None;
        Ok(())
    }
}
