//! The transactional outbox. A service stages the events a state change
//! causes in the same Mongo transaction as the change; a relay publishes the
//! pending rows in order and marks them sent. A crash between the commit and
//! the publish delays an event, never loses it; a crash between the publish
//! and the marking repeats it, and the server drops the repeat by its id.
//!
//! A transaction run by [`crate::transaction!`] hands the rows it staged to
//! the relay when it commits, so the relay publishes them without reading
//! them back. It reads the collection only when told to ([`Outbox::notify`]),
//! after a failure, and once a [`POLL`]: a query for unsent rows walks past
//! every row lately marked sent, and that walk grows with the traffic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
/// How often the relay looks for rows nobody handed it (left by a crash, or
/// staged by another replica).
const POLL: Duration = Duration::from_secs(1);
/// How long the relay waits after the bus or the database failed.
const BACKOFF: Duration = Duration::from_secs(1);

/// What the body of a [`crate::transaction!`] gives.
pub type TxResult<T> = mongodb::error::Result<T>;

/// Runs `$body` in one transaction of `$outbox`'s database, retried whole on
/// a transient error, and hands the relay the rows it staged once it is
/// committed. `$body` is a block that uses `$session` (a `&mut
/// ClientSession`) for every read and write, stages its events with
/// [`Outbox::stage`], and gives a [`TxResult`]. A macro rather than a function taking an async closure:
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
                let staged = $crate::outbox::Staged::default();
                let outcome: $crate::outbox::TxResult<_> = staged
                    .collect(async {
                        let $session = &mut session;
                        $body
                    })
                    .await;
                if let Some(value) = $crate::outbox::finish(&mut session, outcome, started).await? {
                    outbox.committed(staged);
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
                tracing::debug!(error = %err, "transaction will run again");
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
            Err(err) if retry(&err, TRANSIENT_TRANSACTION_ERROR) => {
                tracing::debug!(error = %err, "commit failed; the transaction will run again");
                return Ok(None);
            }
            Err(err) => return Err(err),
        }
    }
}

tokio::task_local! {
    /// The rows the transaction running on this task has staged so far.
    static STAGED: Staged;
}

/// The rows one attempt of a [`crate::transaction!`] stages, kept for the
/// relay in case it commits.
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct Staged(Arc<Mutex<Vec<Row>>>);

impl Staged {
    /// Runs `attempt` with [`Outbox::stage`] keeping its rows here too.
    pub async fn collect<T>(&self, attempt: impl Future<Output = T>) -> T {
        STAGED.scope(self.clone(), attempt).await
    }

    fn push(&self, row: &Row) {
        self.0.lock().expect("staged rows").push(row.clone());
    }

    fn take(&self) -> Vec<Row> {
        std::mem::take(&mut *self.0.lock().expect("staged rows"))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Rows of committed transactions the relay has not taken yet.
    handed: Arc<Mutex<Vec<Row>>>,
    /// Set when someone committed rows the relay must read back.
    look: Arc<AtomicBool>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(database: &Database) -> Self {
        Self {
            client: database.client().clone(),
            rows: database.collection("outbox"),
            handed: Arc::default(),
            look: Arc::default(),
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
        self.rows.insert_one(&row).session(session).await?;
        // Outside `transaction!` nothing keeps it: the relay reads it back.
        let _ = STAGED.try_with(|staged| staged.push(&row));
        Ok(())
    }

    /// Wakes the relay to read back what was committed outside
    /// [`crate::transaction!`].
    pub fn notify(&self) {
        self.look.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Hands the relay the rows of a transaction that has committed.
    #[doc(hidden)]
    pub fn committed(&self, staged: Staged) {
        let rows = staged.take();
        if !rows.is_empty() {
            self.handed.lock().expect("handed rows").extend(rows);
            self.wake.notify_one();
        }
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
        // Set after a failure: what is left is read back, in order. Rows
        // left by a crash come first.
        let mut failed = true;
        let mut next_look = tokio::time::Instant::now();
        loop {
            let now = tokio::time::Instant::now();
            let told = self.look.swap(false, Ordering::AcqRel);
            if failed || told || now >= next_look {
                next_look = now + POLL;
                // Whatever was handed is in the collection too.
                self.handed.lock().expect("handed rows").clear();
                match self.publish_pending(&bus).await {
                    Ok(count) if count as i64 == BATCH => continue,
                    Ok(_) => failed = false,
                    Err(err) => {
                        tracing::warn!(
                            error = format!("{err:#}"),
                            "outbox relay failed; will retry"
                        );
                        failed = true;
                        if self.pause(BACKOFF, &shutdown).await {
                            break;
                        }
                        continue;
                    }
                }
            }
            let handed = std::mem::take(&mut *self.handed.lock().expect("handed rows"));
            if !handed.is_empty() {
                if let Err(err) = self.publish(&bus, handed).await {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "outbox relay failed; will retry"
                    );
                    failed = true;
                    if self.pause(BACKOFF, &shutdown).await {
                        break;
                    }
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep_until(next_look) => {}
            }
        }
        if let Err(err) = self.publish_pending(&bus).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "outbox relay could not publish everything before stopping"
            );
        }
    }

    /// Waits `wait`, or less if shut down; true if shut down.
    async fn pause(&self, wait: Duration, shutdown: &CancellationToken) -> bool {
        tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = tokio::time::sleep(wait) => false,
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
        self.publish(bus, rows).await?;
        Ok(fetched)
    }

    /// Publishes `rows` in order and marks the published ones sent. Stops at
    /// the first failure, so that nothing overtakes the row that failed.
    async fn publish(&self, bus: &Bus, rows: Vec<Row>) -> anyhow::Result<()> {
        let mut sent = Vec::with_capacity(rows.len());
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
            None => Ok(()),
        }
    }
}
