//! The transactional outbox. A service stages the events a state change
//! causes in the same Mongo transaction as the change; a relay publishes the
//! pending rows in order and marks them sent. A crash between the commit and
//! the publish delays an event, never loses it; a crash between the publish
//! and the marking repeats it, and the server drops the repeat by its id.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::HeaderMap;
use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use mongodb::{Client, ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::events::Event;

/// How long a transaction keeps being retried after transient errors
/// (write conflicts, an election) before the error is returned.
const TRANSACTION_DEADLINE: Duration = Duration::from_secs(60);

/// Rows one relay pass publishes at most.
const BATCH: i64 = 100;
/// How often the relay looks for rows nobody told it about (after a crash,
/// or written by another replica).
const POLL: Duration = Duration::from_secs(1);
/// How long the relay waits after the bus or the database failed.
const BACKOFF: Duration = Duration::from_secs(1);

/// What the body of a [`crate::transaction!`] gives.
pub type TxResult<T> = mongodb::error::Result<T>;

/// Runs `$body` in one transaction of `$outbox`'s database, retried whole on
/// a transient error, and wakes the relay once it is committed. `$body` is
/// a block that uses `$session` (a `&mut ClientSession`) for every read and
/// write, stages its events with [`Outbox::stage`], and gives a
/// [`TxResult`]. A macro rather than a function taking an async closure:
/// such closures that borrow are not `Send` to today's compiler.
#[macro_export]
macro_rules! transaction {
    ($outbox:expr, |$session:ident| $body:block) => {
        async {
            let outbox: &$crate::outbox::Outbox = &$outbox;
            let mut session = outbox.start_session().await?;
            let started = ::std::time::Instant::now();
            loop {
                session.start_transaction().await?;
                let outcome: $crate::outbox::TxResult<_> = {
                    let $session = &mut session;
                    async { $body }.await
                };
                if let Some(value) = $crate::outbox::finish(&mut session, outcome, started).await? {
                    outbox.notify();
                    break $crate::outbox::TxResult::Ok(value);
                }
            }
        }
    };
}

/// Commits or aborts the transaction in `session` after its body gave
/// `outcome`. `None` means a transient error: run the body again.
#[doc(hidden)]
pub async fn finish<T>(
    session: &mut ClientSession,
    outcome: TxResult<T>,
    started: std::time::Instant,
) -> TxResult<Option<T>> {
    use mongodb::error::{TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT};
    let retry = |err: &mongodb::error::Error, label: &str| {
        err.contains_label(label) && started.elapsed() < TRANSACTION_DEADLINE
    };
    let value = match outcome {
        Ok(value) => value,
        Err(err) => {
            // The server may have aborted it already; the error that matters is `err`.
            let _ = session.abort_transaction().await;
            return if retry(&err, TRANSIENT_TRANSACTION_ERROR) {
                Ok(None)
            } else {
                Err(err)
            };
        }
    };
    loop {
        match session.commit_transaction().await {
            Ok(()) => return Ok(Some(value)),
            Err(err) if retry(&err, UNKNOWN_TRANSACTION_COMMIT_RESULT) => continue,
            Err(err) if retry(&err, TRANSIENT_TRANSACTION_ERROR) => return Ok(None),
            Err(err) => return Err(err),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    #[serde(rename = "_id")]
    id: ObjectId,
    /// The subject without the deployment's prefix, e.g. `order.created`.
    subject: String,
    message_id: String,
    /// The event as JSON, exactly as it will be published.
    payload: String,
    sent: bool,
    created_at: bson::DateTime,
}

/// A service's outbox collection. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    client: Client,
    rows: Collection<Row>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(database: &Database) -> Self {
        Self {
            client: database.client().clone(),
            rows: database.collection("outbox"),
            wake: Arc::new(Notify::new()),
        }
    }

    /// A session to run a transaction in (see [`crate::transaction!`]).
    pub async fn start_session(&self) -> mongodb::error::Result<ClientSession> {
        self.client.start_session().await
    }

    /// Creates the index the relay reads pending rows by.
    pub async fn init(&self) -> anyhow::Result<()> {
        let index = crate::mongo::index("pending", doc! { "sent": 1, "_id": 1 }, false);
        self.rows
            .create_index(index)
            .await
            .context("cannot create the outbox index")?;
        Ok(())
    }

    /// Stages `event` inside the caller's transaction. Call [`Outbox::notify`]
    /// after the commit so the relay publishes it at once.
    pub async fn stage<E: Event>(
        &self,
        session: &mut ClientSession,
        event: &E,
    ) -> mongodb::error::Result<()> {
        let payload = serde_json::to_string(event).map_err(mongodb::error::Error::custom)?;
        let row = Row {
            id: ObjectId::new(),
            subject: E::SUBJECT.to_string(),
            message_id: event.message_id(),
            payload,
            sent: false,
            created_at: bson::DateTime::now(),
        };
        self.rows.insert_one(row).session(session).await?;
        Ok(())
    }

    /// Wakes the relay: something was committed.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// How many rows wait to be published.
    pub async fn pending(&self) -> anyhow::Result<u64> {
        Ok(self.rows.count_documents(doc! { "sent": false }).await?)
    }

    /// Starts the relay; it ends after `shutdown`, once it has tried to
    /// publish what was pending.
    pub fn start_relay(&self, bus: Bus, shutdown: CancellationToken) -> JoinHandle<()> {
        let outbox = self.clone();
        tokio::spawn(async move { outbox.relay(bus, shutdown).await })
    }

    async fn relay(self, bus: Bus, shutdown: CancellationToken) {
        loop {
            let wait = match self.publish_pending(&bus).await {
                Ok(count) if count as i64 == BATCH => continue,
                Ok(_) => POLL,
                Err(err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "outbox relay failed; will retry"
                    );
                    BACKOFF
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        if let Err(err) = self.publish_pending(&bus).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "outbox relay could not publish everything before stopping"
            );
        }
    }

    /// Publishes one batch of pending rows, oldest first, and marks the
    /// published ones sent. Stops at the first failure so order is kept.
    async fn publish_pending(&self, bus: &Bus) -> anyhow::Result<usize> {
        let rows: Vec<Row> = self
            .rows
            .find(doc! { "sent": false })
            .sort(doc! { "_id": 1 })
            .limit(BATCH)
            .await?
            .try_collect()
            .await?;
        let fetched = rows.len();
        let mut sent = Vec::with_capacity(fetched);
        let mut failure = None;
        for row in rows {
            let payload = row.payload.into_bytes().into();
            match bus
                .publish_raw(&row.subject, &row.message_id, payload, HeaderMap::new())
                .await
            {
                Ok(_) => sent.push(row.id),
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        if !sent.is_empty() {
            self.rows
                .update_many(
                    doc! { "_id": { "$in": &sent } },
                    doc! { "$set": { "sent": true } },
                )
                .await
                .context("cannot mark outbox rows sent")?;
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(fetched),
        }
    }
}
