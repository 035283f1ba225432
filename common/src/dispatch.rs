//! One service's handlers by subject, shared by its listeners and its
//! inbox: handling a delivered event, keeping an early one, letting through
//! what an applied one opened, and parking what can never apply.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use async_nats::HeaderMap;
use axum::body::Bytes;
use futures::future::BoxFuture;

use crate::bus::Bus;
use crate::events::Event;
use crate::handling::{Failure, Gate, Handled, Outcome};
use crate::inbox::{Inbox, Waiting};

/// Headers a dead letter carries.
pub const DEAD_REASON_HEADER: &str = "Ticketing-Dead-Reason";
pub const DEAD_SUBJECT_HEADER: &str = "Ticketing-Original-Subject";
pub const DEAD_SEQUENCE_HEADER: &str = "Ticketing-Original-Sequence";

/// Rows one sweep of the inbox looks at, at most.
const SWEEP_BATCH: i64 = 100;

/// The durable consumer's name: `orders` and `ticket.created` give `orders-ticket-created`.
pub fn consumer_name(service: &str, subject: &str) -> String {
    format!("{service}-{}", subject.replace('.', "-"))
}

/// Where the consumer `consumer` parks the messages it gives up on (under the prefix).
pub fn dead_letter_subject(consumer: &str) -> String {
    format!("deadletter.{consumer}")
}

type Handle = Arc<dyn Fn(Bytes) -> BoxFuture<'static, Handled> + Send + Sync>;

/// One subject's handler, blind to its event type.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) subject: &'static str,
    handle: Handle,
    message_id: fn(&[u8]) -> Option<String>,
}

impl Entry {
    pub(crate) fn new<E, H, Fut>(handler: H) -> Self
    where
        E: Event,
        H: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Handled> + Send + 'static,
    {
        let handler = Arc::new(handler);
        Self {
            subject: E::SUBJECT,
            handle: Arc::new(move |payload: Bytes| {
                let handler = handler.clone();
                Box::pin(async move {
                    match serde_json::from_slice::<E>(&payload) {
                        Ok(event) => handler(event).await,
                        Err(err) => Err(Failure::Reject(
                            anyhow::Error::new(err).context("payload does not decode"),
                        )),
                    }
                })
            }),
            message_id: |payload| {
                serde_json::from_slice::<E>(payload)
                    .ok()
                    .map(|event| event.message_id())
            },
        }
    }
}

/// Cheap to clone.
#[derive(Clone)]
pub struct Dispatch(Arc<Inner>);

struct Inner {
    bus: Bus,
    service: &'static str,
    entries: HashMap<&'static str, Entry>,
    inbox: Option<Inbox>,
    /// Whether the inbox may hold an event: while it holds none, applying an
    /// event lets nothing through and costs no query. Set when this process
    /// keeps one; the sweep reads it back every second, for the rows other
    /// replicas keep. A replica that applied what a row waits for before it
    /// knew of the row is covered by the keeper's own later look and, when
    /// load delays that reading past it, by the sweep's first look.
    may_wait: AtomicBool,
    /// Events this process has kept, so that the sweep's reading is not
    /// taken for the truth over a keep that came during it.
    kept: AtomicU64,
}

impl Dispatch {
    pub(crate) fn new(
        bus: Bus,
        service: &'static str,
        entries: Vec<Entry>,
        inbox: Option<Inbox>,
    ) -> Self {
        let entries = entries.into_iter().map(|e| (e.subject, e)).collect();
        Self(Arc::new(Inner {
            bus,
            service,
            entries,
            inbox,
            may_wait: AtomicBool::new(true),
            kept: AtomicU64::new(0),
        }))
    }

    pub fn service(&self) -> &'static str {
        self.0.service
    }

    pub fn bus(&self) -> &Bus {
        &self.0.bus
    }

    /// Runs the handler of `subject` (without prefix) on `payload`.
    pub async fn handle(&self, subject: &str, payload: Bytes) -> Handled {
        match self.0.entries.get(subject) {
            Some(entry) => (entry.handle)(payload).await,
            None => Err(Failure::reject(format!("no handler for {subject}"))),
        }
    }

    /// Keeps an early event in the inbox until `gate` opens, then looks at
    /// it once more: what it waits for may have been applied meanwhile, by
    /// another replica whose look at the inbox came before this row.
    /// `Ok` means the message may be acked.
    pub async fn keep_early(
        &self,
        subject: &str,
        sequence: u64,
        payload: Bytes,
        gate: Gate,
    ) -> anyhow::Result<()> {
        let inbox = self
            .0
            .inbox
            .as_ref()
            .context("an early event, and this service keeps no inbox")?;
        let entry = self.0.entries.get(subject).context("no handler")?;
        let message_id = (entry.message_id)(&payload).context("an event that does not decode")?;
        self.0.kept.fetch_add(1, Ordering::SeqCst);
        self.0.may_wait.store(true, Ordering::SeqCst);
        inbox
            .keep(&gate, subject, &message_id, sequence, &payload)
            .await?;
        let kept = Waiting {
            id: mongodb::bson::oid::ObjectId::new(),
            waits_for: gate.to_string(),
            subject: subject.to_string(),
            message_id,
            sequence: i64::try_from(sequence).unwrap_or(i64::MAX),
            payload: String::from_utf8_lossy(&payload).into_owned(),
            received_at: mongodb::bson::DateTime::now(),
            next_look: mongodb::bson::DateTime::now(),
            looks: 0,
        };
        let opens = self.look_again(kept.clone()).await;
        self.drain(opens).await;
        // Another replica may apply what it waits for before it reads back
        // that the inbox holds something: look once more when it has.
        let later = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LATER_LOOK).await;
            let opens = later.look_again(kept).await;
            later.drain(opens).await;
        });
        Ok(())
    }

    /// Lets through, one after the other, every event waiting for `opens`
    /// and for what those open in turn. A failure leaves the row for the sweep.
    pub async fn drain(&self, mut opens: Vec<Gate>) {
        let Some(inbox) = &self.0.inbox else { return };
        if !self.0.may_wait.load(Ordering::SeqCst) {
            return;
        }
        while let Some(gate) = opens.pop() {
            let rows = match inbox.waiting_for(&gate).await {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(%gate, error = %err, "cannot read the inbox; the sweep will");
                    continue;
                }
            };
            for row in rows {
                opens.extend(self.look_again(row).await);
            }
        }
    }

    /// Looks at the rows the sweep is due to look at, and reads back
    /// whether the inbox holds anything.
    pub async fn sweep(&self) -> anyhow::Result<()> {
        let Some(inbox) = &self.0.inbox else {
            return Ok(());
        };
        let kept = self.0.kept.load(Ordering::SeqCst);
        let any = inbox.any().await?;
        if any || self.0.kept.load(Ordering::SeqCst) == kept {
            self.0.may_wait.store(any, Ordering::SeqCst);
        }
        for row in inbox.due_for_sweep(SWEEP_BATCH).await? {
            let opens = self.look_again(row).await;
            self.drain(opens).await;
        }
        Ok(())
    }

    /// Handles a kept event again; the gates it opened if it applied now.
    async fn look_again(&self, mut row: Waiting) -> Vec<Gate> {
        let Some(inbox) = &self.0.inbox else {
            return Vec::new();
        };
        let consumer = consumer_name(self.0.service, &row.subject);
        // An event may wait for one gate after another: look until it settles.
        for _ in 0..4 {
            let outcome = self
                .handle(&row.subject, Bytes::from(row.payload.clone()))
                .await;
            let forget = match outcome {
                Ok(Outcome::Applied { opens }) => {
                    crate::metrics::handled(&consumer, "applied");
                    tracing::info!(
                        subject = row.subject,
                        message_id = row.message_id,
                        "an early event applied"
                    );
                    Some(opens)
                }
                Ok(Outcome::Duplicate) => Some(Vec::new()),
                Ok(Outcome::Early(gate)) if gate == row.gate() => return Vec::new(),
                Ok(Outcome::Early(gate)) => {
                    if let Err(err) = inbox.wait_for(&row, &gate).await {
                        tracing::warn!(error = %err, "cannot move an early event to its gate");
                        return Vec::new();
                    }
                    row.waits_for = gate.to_string();
                    continue;
                }
                Err(Failure::Reject(err)) => {
                    let reason = format!("rejected from the inbox: {err:#}");
                    let sequence = u64::try_from(row.sequence).unwrap_or_default();
                    let subject = self.0.bus.subject(&row.subject);
                    let payload = Bytes::from(row.payload.clone());
                    match self
                        .park(&consumer, &subject, sequence, payload, &reason)
                        .await
                    {
                        Ok(()) => Some(Vec::new()),
                        Err(err) => {
                            tracing::error!(
                                error = format!("{err:#}"),
                                "cannot park an event of the inbox"
                            );
                            return Vec::new();
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, subject = row.subject, "an early event failed; the sweep tries again");
                    return Vec::new();
                }
            };
            if let Some(opens) = forget {
                if let Err(err) = inbox.forget(&row).await {
                    // Seen again later, it is a duplicate.
                    tracing::warn!(error = %err, "cannot take an applied event out of the inbox");
                }
                return opens;
            }
        }
        Vec::new()
    }

    /// Parks a message on `consumer`'s dead-letter subject with `reason`.
    /// Its id names the original message, so parking it twice stores it once.
    pub async fn park(
        &self,
        consumer: &str,
        subject: &str,
        sequence: u64,
        payload: Bytes,
        reason: &str,
    ) -> anyhow::Result<()> {
        tracing::error!(
            consumer,
            subject,
            sequence,
            reason,
            "parking a message on the dead-letter subject"
        );
        let mut headers = HeaderMap::new();
        // A header value cannot hold line breaks.
        headers.insert(
            DEAD_REASON_HEADER,
            reason.replace(['\r', '\n'], " ").as_str(),
        );
        headers.insert(DEAD_SUBJECT_HEADER, subject);
        headers.insert(DEAD_SEQUENCE_HEADER, sequence.to_string().as_str());
        if let Some(traceparent) = crate::telemetry::traceparent() {
            headers.insert(crate::telemetry::TRACEPARENT, traceparent.as_str());
        }
        let message_id = format!("dead:{consumer}:{sequence}");
        self.0
            .bus
            .publish_raw(
                &dead_letter_subject(consumer),
                &message_id,
                payload,
                headers,
            )
            .await?;
        crate::metrics::handled(consumer, "dead_lettered");
        Ok(())
    }
}

/// How long the sweep of the inbox pauses between passes.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// When a kept event is looked at once more: after every replica has read
/// back that the inbox holds something.
const LATER_LOOK: Duration = Duration::from_millis(2500);
