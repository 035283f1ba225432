//! The transactional outbox. A service stages the events a state change
//! causes in the same Mongo transaction as the change; a relay publishes the
//! pending rows in order and marks them sent. A crash between the commit and
//! the publish delays an event, never loses it; a crash between the publish
//! and the marking repeats it, and the server drops the repeat by its id.
//!
//! A transaction run by [`crate::transaction!`] hands the rows it staged to
//! the relay ([`crate::relay`]) when it commits, so the relay publishes them
//! without reading them back. Each read and each mark is a query the
//! database serves while the services' transactions queue for the same
//! collection: one per commit was a third of the database's work under load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, doc};
use mongodb::{Client, ClientSession, Collection, Database};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::events::Event;

/// How long a transaction keeps being retried after transient errors
/// (write conflicts, an election) before the error is returned.
const TRANSACTION_DEADLINE: Duration = Duration::from_secs(60);

/// How long a row may wait for the replica that wrote it before any other
/// replica's relay publishes it: one that died, or lost the bus, leaves its
/// rows to the others. Until then each relay publishes only its own rows,
/// never the ones another has just sent and not yet marked.
const ORPHANED: Duration = Duration::from_secs(5);

/// Transactions one process runs at once; the others wait their turn. A
/// burst of a thousand orders all started at once interleaved their reads
/// and writes on the pool's ten connections, conflicted on the same
/// tickets, and finished together after every request's deadline; a few at
/// a time, each runs to its end, and most later ones find the ticket held
/// at their first read.
const TRANSACTIONS_AT_ONCE: usize = 16;

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
            let _turn = outbox.turn().await;
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
pub(crate) struct Row {
    #[serde(rename = "_id")]
    pub(crate) id: ObjectId,
    /// The subject without the deployment's prefix, e.g. `order.created`.
    pub(crate) subject: String,
    pub(crate) message_id: String,
    /// The event as JSON, exactly as it will be published.
    pub(crate) payload: String,
    sent: bool,
    created_at: bson::DateTime,
    /// The relay (one per process) that the row's transaction handed it to.
    #[serde(default)]
    relay: String,
    /// The trace of the request or event that caused it, published with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) traceparent: Option<String>,
}

/// A service's outbox collection. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    client: Client,
    pub(crate) rows: Collection<Row>,
    /// This process's relay, named in the rows it writes.
    pub(crate) relay: Arc<str>,
    /// How old another relay's rows must be before this one publishes them.
    pub(crate) orphaned: Duration,
    /// Rows of committed transactions the relay has not taken yet.
    pub(crate) handed: Arc<Mutex<Vec<Row>>>,
    /// Set by [`Outbox::notify`]: the relay must read the collection.
    pub(crate) look: Arc<AtomicBool>,
    pub(crate) wake: Arc<Notify>,
    /// Turns to run a transaction: see [`TRANSACTIONS_AT_ONCE`].
    turns: Arc<Semaphore>,
}

impl Outbox {
    pub fn new(database: &Database) -> Self {
        Self {
            client: database.client().clone(),
            rows: database.collection("outbox"),
            relay: uuid::Uuid::new_v4().simple().to_string().into(),
            orphaned: ORPHANED,
            handed: Arc::default(),
            look: Arc::default(),
            wake: Arc::new(Notify::new()),
            turns: Arc::new(Semaphore::new(TRANSACTIONS_AT_ONCE)),
        }
    }

    /// Waits for a turn to run a transaction, held until it is dropped.
    #[doc(hidden)]
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        // The semaphore is never closed.
        self.turns.clone().acquire_owned().await.ok()
    }

    /// Publishes other relays' rows only once they are `age` old.
    pub fn with_orphan_age(mut self, age: Duration) -> Self {
        self.orphaned = age;
        self
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
            relay: self.relay.to_string(),
            traceparent: crate::telemetry::traceparent(),
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
}
