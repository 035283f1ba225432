//! The transactional outbox. A service stages the events a state change
//! causes in the same Mongo transaction as the change; a relay publishes the
//! pending rows in order and marks them sent. A crash between the commit and
//! the publish delays an event, never loses it; a crash between the publish
//! and the marking repeats it, and the server drops the repeat by its id.
//!
//! A transaction run by [`crate::transaction!`] hands the rows it staged to
//! the relay when it commits, so the relay publishes them without reading
//! them back, and it marks what it published in batches. It reads the
//! collection only at start, after a failure, when told to
//! ([`Outbox::notify`]), and once a [`POLL`] for rows nobody handed it. Each
//! read and each mark is a query the database serves while the services'
//! transactions queue for the same collection: one per commit was a third of
//! the database's work under load.

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
use tokio::time::Instant;
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
/// How long a published row may wait to be marked sent, so that rows are
/// marked many at a time. A crash in this window publishes them again, and
/// the server drops the repeats.
const MARK_DELAY: Duration = Duration::from_millis(100);

/// What the body of a [`crate::transaction!`] gives.
pub type TxResult<T> = mongodb::error::Result<T>;

/// Runs `$body` in one transaction of `$outbox`'s database, retried whole on
/// a transient error, and hands the relay the rows it staged once it is
/// committed. `$body` is a block that uses `$session` (a `&mut
/// ClientSession`) for every read and write, stages its events with
/// [`Outbox::stage`], and gives a [`TxResult`]. A macro rather than a
/// function taking an async closure: such closures that borrow are not
/// `Send` to today's compiler.
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

tokio::task_local! {
    /// The rows the transaction attempt running on this task has staged.
    static STAGED: Staged;
}

/// The rows one attempt of a [`crate::transaction!`] stages, kept for the
/// relay in case the attempt commits.
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct Staged(Arc<Mutex<Vec<Row>>>);

impl Staged {
    /// Runs `attempt` with [`Outbox::stage`] keeping its rows here too.
    pub async fn collect<T>(&self, attempt: impl Future<Output = T>) -> T {
        STAGED.scope(self.clone(), attempt).await
    }

    fn take(&self) -> Vec<Row> {
        std::mem::take(&mut *self.0.lock().expect("staged rows"))
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
    /// Rows of committed transactions the relay has not taken yet.
    handed: Arc<Mutex<Vec<Row>>>,
    /// Set by [`Outbox::notify`]: the relay must read the collection.
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

    /// Stages `event` inside the caller's transaction. Inside
    /// [`crate::transaction!`] the relay is handed the row on commit;
    /// otherwise call [`Outbox::notify`] after the commit.
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
        let _ = STAGED.try_with(|staged| staged.0.lock().expect("staged rows").push(row));
        Ok(())
    }

    /// Wakes the relay to read the collection: rows were committed outside
    /// [`crate::transaction!`].
    pub fn notify(&self) {
        self.look.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Hands the relay the rows of an attempt that has committed.
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
        let wake = self.wake.clone();
        let mut relay = Relay {
            outbox: self,
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
            let rows: Vec<Row> = self
                .outbox
                .rows
                .find(doc! { "sent": false })
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
            let ack = self
                .bus
                .send_raw(&row.subject, &row.message_id, payload, HeaderMap::new())
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
