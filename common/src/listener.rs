//! Durable listeners. One durable pull consumer per (service, subject), named
//! `<service>-<event>`; every replica of a service binds to the same one, so
//! the replicas form one queue group. A service that starts with settings
//! other than the consumer's stored ones updates it, and then goes by what
//! the server holds.
//!
//! A message is acked once its handler's work is committed, or once it is
//! kept in the inbox as early. A transient failure is nak'ed with a growing
//! delay; a handler that runs long tells the server it is still working,
//! up to its deadline. A message that can never succeed is parked on the
//! dead-letter subject at once, and so is one on its last delivery, before
//! any work: whatever became of the deliveries before it (failures,
//! ack-wait timeouts, a crash), it is never dropped silently.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{AckKind, Message};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::bus::Bus;
use crate::config::ListenerConfig;
use crate::dispatch::{Dispatch, consumer_name};
use crate::handling::{Failure, Outcome};

/// How long one pull request waits for messages. The client counts the
/// messages a pull still owes it and asks again only when few are owed; now
/// and then the count is off and it waits for the pull to expire (a 30 s
/// stall with the client's default, seen under `make bench`).
const PULL_EXPIRES: Duration = Duration::from_secs(2);
/// Messages one pull asks for, at least.
const PULL_BATCH: usize = 16;

/// Creates `service`'s durable consumer of `subject`, or brings the one the
/// server holds up to `config`; gives it with the settings in force (the
/// server's).
pub async fn bind(
    bus: &Bus,
    service: &str,
    subject: &str,
    config: &ListenerConfig,
) -> anyhow::Result<(PullConsumer, ListenerConfig)> {
    let name = consumer_name(service, subject);
    let stream = bus.jetstream().get_stream(bus.stream_name()).await?;
    let wanted = pull::Config {
        durable_name: Some(name.clone()),
        filter_subject: bus.subject(subject),
        ack_policy: AckPolicy::Explicit,
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        deliver_policy: DeliverPolicy::All,
        ..Default::default()
    };
    let existing = stream.consumer_info(&name).await.ok();
    let mut consumer: PullConsumer = match existing {
        Some(info) if in_force(&info.config, &wanted) => stream
            .get_consumer(&name)
            .await
            .map_err(anyhow::Error::from_boxed)?,
        Some(info) => {
            tracing::info!(
                consumer = name,
                ack_wait = ?info.config.ack_wait,
                max_deliver = info.config.max_deliver,
                "the consumer's stored settings differ from ours; updating it"
            );
            stream.create_consumer(wanted.clone()).await?
        }
        None => stream.create_consumer(wanted.clone()).await?,
    };
    let stored = consumer
        .info()
        .await
        .context("cannot read the consumer back")?
        .config
        .clone();
    if !in_force(&stored, &wanted) {
        tracing::warn!(
            consumer = name,
            ack_wait = ?stored.ack_wait,
            max_deliver = stored.max_deliver,
            "the server keeps other settings for the consumer; going by them"
        );
    }
    let config = ListenerConfig {
        ack_wait: stored.ack_wait,
        max_deliver: stored.max_deliver,
        ..config.clone()
    };
    Ok((consumer, config))
}

/// Whether the consumer the server holds has the settings we want.
fn in_force(stored: &async_nats::jetstream::consumer::Config, wanted: &pull::Config) -> bool {
    stored.ack_wait == wanted.ack_wait
        && stored.max_deliver == wanted.max_deliver
        && stored.filter_subject == wanted.filter_subject
}

/// One replica's pull loop on one durable consumer.
pub(crate) struct Listener {
    pub(crate) dispatch: Dispatch,
    pub(crate) name: String,
    pub(crate) subject: &'static str,
    /// With the server's ack wait and deliveries.
    pub(crate) config: ListenerConfig,
}

impl Listener {
    /// Handles messages until `shutdown`; then it stops fetching, finishes
    /// the messages in hand and sends their acks.
    pub(crate) async fn run(self: Arc<Self>, consumer: PullConsumer, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            self.consume(&consumer, &shutdown).await;
            if !shutdown.is_cancelled() {
                // Pulling failed or the stream ended by itself (the consumer was
                // deleted, say): start again, but not in a tight loop.
                tracing::warn!(consumer = %self.name, "message stream ended; pulling again in a second");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
        if let Err(err) = self.dispatch.bus().flush().await {
            tracing::warn!(consumer = %self.name, error = %err, "cannot flush acks on shutdown");
        }
    }

    /// Pulls and handles messages until `shutdown` or until the pull stream ends.
    async fn consume(&self, consumer: &PullConsumer, shutdown: &CancellationToken) {
        // Each pull is a request to the server, so not one per message; and
        // pulls stay small so that one replica does not hoard what another
        // could handle.
        let batch = (self.config.concurrency * 2).max(PULL_BATCH);
        let messages = match consumer
            .stream()
            .max_messages_per_batch(batch)
            .expires(PULL_EXPIRES)
            .messages()
            .await
        {
            Ok(messages) => messages,
            Err(err) => {
                tracing::warn!(consumer = %self.name, error = %err, "cannot pull messages");
                return;
            }
        };
        messages
            .take_until(shutdown.cancelled())
            .for_each_concurrent(self.config.concurrency, |message| async {
                match message {
                    Ok(message) => {
                        let span = tracing::info_span!(
                            "event",
                            consumer = %self.name,
                            seq = tracing::field::Empty,
                            delivery = tracing::field::Empty,
                            trace_id = tracing::field::Empty,
                        );
                        let headers = message.headers.as_ref().map(crate::telemetry::NatsHeaders);
                        crate::telemetry::continue_trace(
                            &span,
                            headers
                                .as_ref()
                                .map(|h| h as &dyn opentelemetry::propagation::Extractor),
                        );
                        self.deliver(message).instrument(span).await
                    }
                    Err(err) => {
                        tracing::warn!(consumer = %self.name, error = %err, "pull failed")
                    }
                }
            })
            .await;
    }

    /// Handles one message, in the span of the trace it carries.
    async fn deliver(&self, message: Message) {
        let (delivery, sequence) = match message.info() {
            Ok(info) => (info.delivered, info.stream_sequence),
            Err(_) => (1, 0),
        };
        tracing::Span::current()
            .record("seq", sequence)
            .record("delivery", delivery);
        let max = self.config.max_deliver;
        if max > 0 && delivery >= max {
            let reason = format!(
                "deliveries ran out: delivery {delivery} of {max}, and the ones before it were \
                 not settled in time (a handler that outlived the ack wait, or a crash)"
            );
            return self.park(&message, sequence, &reason).await;
        }

        let started = Instant::now();
        let outcome = self.handle(&message).await;
        crate::metrics::handle_duration(&self.name, started.elapsed().as_secs_f64());
        let label = match &outcome {
            Ok(outcome) => outcome.label(),
            Err(Failure::Reject(_)) => "rejected",
            Err(_) => "retried",
        };
        // One line per event handled, as there is one per request.
        let latency = format!("{} ms", started.elapsed().as_millis());
        tracing::info!(outcome = label, latency, "event handled");
        match outcome {
            Ok(Outcome::Applied { opens }) => {
                crate::metrics::handled(&self.name, label);
                self.ack(&message, AckKind::Ack).await;
                self.dispatch.drain(opens).await;
            }
            Ok(Outcome::Duplicate) => {
                crate::metrics::handled(&self.name, label);
                tracing::info!("already applied; ignored");
                self.ack(&message, AckKind::Ack).await;
            }
            Ok(Outcome::Early(gate)) => {
                crate::metrics::handled(&self.name, label);
                tracing::info!(%gate, "early: kept in the inbox until what it follows is applied");
                let kept = self
                    .dispatch
                    .keep_early(self.subject, sequence, message.payload.clone(), gate)
                    .await;
                match kept {
                    Ok(()) => self.ack(&message, AckKind::Ack).await,
                    Err(err) => self.retry(&message, delivery, None, err).await,
                }
            }
            Err(Failure::Retry(err)) => self.retry(&message, delivery, None, err).await,
            Err(Failure::RetryIn(delay, err)) => {
                self.retry(&message, delivery, Some(delay), err).await
            }
            Err(Failure::Reject(err)) => {
                self.park(&message, sequence, &format!("rejected: {err:#}"))
                    .await
            }
        }
    }

    /// Runs the handler, telling the server it is still at work every third
    /// of the ack wait, and gives up on it after its deadline.
    async fn handle(&self, message: &Message) -> Result<Outcome, Failure> {
        let handling = self.dispatch.handle(self.subject, message.payload.clone());
        tokio::pin!(handling);
        let deadline = tokio::time::sleep(self.config.handler_timeout);
        tokio::pin!(deadline);
        let beat = (self.config.ack_wait / 3).max(Duration::from_millis(100));
        let mut progress = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
        loop {
            tokio::select! {
                outcome = &mut handling => return outcome,
                _ = progress.tick() => {
                    if let Err(err) = message.ack_with(AckKind::Progress).await {
                        tracing::warn!(error = %err, "cannot tell the server the handler is still working");
                    }
                }
                _ = &mut deadline => {
                    return Err(Failure::Retry(anyhow::anyhow!(
                        "the handler did not finish within {:?}",
                        self.config.handler_timeout
                    )));
                }
            }
        }
    }

    /// Naks with a delay, or parks the message if this was the last delivery
    /// that may run the handler.
    async fn retry(
        &self,
        message: &Message,
        delivery: i64,
        delay: Option<Duration>,
        err: anyhow::Error,
    ) {
        let max = self.config.max_deliver;
        if max > 0 && delivery + 1 >= max {
            let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            let reason = format!("gave up after {delivery} deliveries: {err:#}");
            return self.park(message, sequence, &reason).await;
        }
        crate::metrics::handled(&self.name, "retried");
        tracing::info!(error = format!("{err:#}"), "handler will retry");
        let delay = delay.unwrap_or_else(|| self.config.retry_delay(delivery));
        self.ack(message, AckKind::Nak(Some(delay))).await;
    }

    async fn park(&self, message: &Message, sequence: u64, reason: &str) {
        let parked = self
            .dispatch
            .park(
                &self.name,
                message.subject.as_str(),
                sequence,
                message.payload.clone(),
                reason,
            )
            .await;
        match parked {
            Ok(()) => self.ack(message, AckKind::Ack).await,
            Err(err) => {
                tracing::error!(
                    error = format!("{err:#}"),
                    "cannot park message; will retry"
                );
                self.ack(message, AckKind::Nak(Some(self.config.retry_delay)))
                    .await;
            }
        }
    }

    async fn ack(&self, message: &Message, kind: AckKind) {
        if let Err(err) = message.ack_with(kind).await {
            tracing::warn!(error = %err, "cannot acknowledge message; it will be redelivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::dispatch::dead_letter_subject;

    use super::*;

    #[test]
    fn consumers_are_named_after_service_and_event() {
        assert_eq!(
            consumer_name("orders", "ticket.created"),
            "orders-ticket-created"
        );
        assert_eq!(
            dead_letter_subject("orders-ticket-created"),
            "deadletter.orders-ticket-created"
        );
    }
}
