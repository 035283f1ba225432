//! The events a service consumes, declared in one place: a handler per
//! event type, the inbox its early events wait in, and, once started, a
//! listener per durable consumer, the inbox's sweep, and a watch on the
//! server's word that a message's deliveries ran out.

use std::sync::Arc;

use anyhow::Context as _;
use futures::StreamExt;

use crate::bus::Bus;
use crate::config::ListenerConfig;
use crate::dispatch::{Dispatch, Entry, SWEEP_EVERY, consumer_name};
use crate::events::Event;
use crate::handling::Handled;
use crate::inbox::Inbox;
use crate::listener::{Listener, bind};
use crate::supervisor::Supervisor;

/// A service's consumers, before they start.
pub struct Consumers {
    bus: Bus,
    service: &'static str,
    config: ListenerConfig,
    inbox: Option<Inbox>,
    entries: Vec<Entry>,
}

impl Consumers {
    pub fn new(bus: &Bus, service: &'static str, config: &ListenerConfig) -> Self {
        Self {
            bus: bus.clone(),
            service,
            config: config.clone(),
            inbox: None,
            entries: Vec::new(),
        }
    }

    /// Where early events wait: the service's own database.
    pub fn with_inbox(mut self, inbox: Inbox) -> Self {
        self.inbox = Some(inbox);
        self
    }

    /// Handles every `E` with `handler`.
    pub fn on<E, H, Fut>(mut self, handler: H) -> Self
    where
        E: Event,
        H: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Handled> + Send + 'static,
    {
        self.entries.push(Entry::new(handler));
        self
    }

    /// Binds every durable consumer and starts its listener, the inbox's
    /// sweep and the watch for exhausted deliveries, each under `supervisor`.
    pub async fn start(self, supervisor: &mut Supervisor) -> anyhow::Result<Dispatch> {
        if let Some(inbox) = &self.inbox {
            inbox.init().await?;
        }
        let subjects: Vec<&'static str> = self.entries.iter().map(|e| e.subject).collect();
        // The broker lets a service bind only the consumers the catalogue
        // names; saying so here beats a refused request at the first bind.
        if let Some(subject) = subjects
            .iter()
            .find(|s| !crate::events::consumes(self.service, s))
        {
            anyhow::bail!(
                "{} consumes {subject}, which the catalogue (common::events::ROUTES) does not say",
                self.service
            );
        }
        let inbox = self.inbox.clone();
        let dispatch = Dispatch::new(self.bus.clone(), self.service, self.entries, self.inbox);
        let mut names = Vec::new();
        for subject in subjects {
            let (consumer, config) = bind(&self.bus, self.service, subject, &self.config).await?;
            let name = consumer_name(self.service, subject);
            crate::metrics::consumer_started(&name);
            let listener = Arc::new(Listener {
                dispatch: dispatch.clone(),
                name: name.clone(),
                subject,
                config,
            });
            supervisor.spawn(
                format!("listener {name}"),
                listener.run(consumer, supervisor.shutdown()),
            );
            names.push(name);
        }
        let gauges = gauges(
            self.bus.clone(),
            names.clone(),
            inbox,
            supervisor.shutdown(),
        );
        supervisor.spawn("consumer gauges", gauges);
        let watch = watch_exhausted(dispatch.clone(), names, supervisor.shutdown()).await?;
        supervisor.spawn("dead-letter watch", watch);
        let (sweeping, shutdown) = (dispatch.clone(), supervisor.shutdown());
        supervisor.spawn("inbox sweep", async move {
            while !shutdown.is_cancelled() {
                if let Err(err) = sweeping.sweep().await {
                    tracing::warn!(error = format!("{err:#}"), "cannot sweep the inbox");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(SWEEP_EVERY) => {}
                }
            }
        });
        Ok(dispatch)
    }
}

/// Keeps `consumer_pending_messages` of each of `consumers` (what the
/// server has not yet delivered, and what it waits to see acked) and
/// `inbox_waiting_events` up to date. Every replica reports the same
/// server-side figures.
async fn gauges(
    bus: Bus,
    consumers: Vec<String>,
    inbox: Option<Inbox>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    crate::metrics::sample_every("consumers", shutdown, || {
        let (bus, consumers, inbox) = (&bus, &consumers, &inbox);
        async move {
            let stream = bus.jetstream().get_stream(bus.stream_name()).await?;
            for consumer in consumers {
                let info = stream.consumer_info(consumer).await?;
                let pending = info.num_pending + info.num_ack_pending as u64;
                crate::metrics::consumer_pending(consumer, pending);
            }
            if let Some(inbox) = inbox {
                crate::metrics::set("inbox_waiting_events", inbox.waiting().await?);
            }
            Ok(())
        }
    })
    .await;
}

/// The server's advisory that a message was delivered as often as its
/// consumer allows and never acked.
#[derive(serde::Deserialize)]
struct MaxDeliveries {
    stream_seq: u64,
    deliveries: u64,
}

/// Subscribes to the server's max-deliveries advisories for `consumers`
/// and parks each message they name: the last delivery parks a message
/// itself, and this catches what it could not (a crash, or its handler
/// outliving the ack wait, during that very delivery). Replicas share the
/// advisories as one queue group; parking twice stores one dead letter.
async fn watch_exhausted(
    dispatch: Dispatch,
    consumers: Vec<String>,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    let bus = dispatch.bus().clone();
    let mut subscriptions = Vec::new();
    for consumer in &consumers {
        let subject = format!(
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{}.{consumer}",
            bus.stream_name()
        );
        let group = format!("{}-advisories", dispatch.service());
        subscriptions.push(
            bus.client()
                .queue_subscribe(subject, group)
                .await
                .context("cannot watch for exhausted deliveries")?,
        );
    }
    let mut advisories = futures::stream::select_all(subscriptions);
    Ok(async move {
        loop {
            let message = tokio::select! {
                _ = shutdown.cancelled() => break,
                message = advisories.next() => match message {
                    Some(message) => message,
                    None => break,
                },
            };
            let consumer = message
                .subject
                .rsplit('.')
                .next()
                .unwrap_or_default()
                .to_string();
            let advisory: MaxDeliveries = match serde_json::from_slice(&message.payload) {
                Ok(advisory) => advisory,
                Err(err) => {
                    tracing::warn!(error = %err, "an advisory that does not decode");
                    continue;
                }
            };
            if let Err(err) = park_exhausted(&dispatch, &consumer, &advisory).await {
                tracing::error!(
                    consumer,
                    seq = advisory.stream_seq,
                    error = format!("{err:#}"),
                    "cannot park a message whose deliveries ran out"
                );
            }
        }
    })
}

async fn park_exhausted(
    dispatch: &Dispatch,
    consumer: &str,
    advisory: &MaxDeliveries,
) -> anyhow::Result<()> {
    let bus = dispatch.bus();
    let stream = bus.jetstream().get_stream(bus.stream_name()).await?;
    let message = stream
        .get_raw_message(advisory.stream_seq)
        .await
        .context("cannot read the message back from the stream")?;
    let reason = format!(
        "deliveries ran out: the server gave up after {} deliveries (the last ones outlived \
         the ack wait, or their handler crashed)",
        advisory.deliveries
    );
    dispatch
        .park(
            consumer,
            message.subject.as_str(),
            advisory.stream_seq,
            message.payload,
            &reason,
        )
        .await
}
