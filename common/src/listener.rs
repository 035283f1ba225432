//! Durable listeners. One durable pull consumer per (service, subject), named
//! `<service>-<event>`; every replica of a service binds to the same one, so
//! the replicas form one queue group. A message is acked only after its
//! handler returned; a transient failure is nak'ed with a growing delay; a
//! message that can never succeed, or has used up its deliveries, is parked
//! on the dead-letter subject with its reason and acked.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{AckKind, Message};
use futures::StreamExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::bus::Bus;
use crate::events::Event;

/// Headers a dead letter carries.
pub const DEAD_REASON_HEADER: &str = "Ticketing-Dead-Reason";
pub const DEAD_SUBJECT_HEADER: &str = "Ticketing-Original-Subject";

/// How long one pull request waits for messages. The client counts the
/// messages a pull still owes it and asks again only when few are owed; now
/// and then the count is off and it waits for the pull to expire (a 30 s
/// stall with the client's default, seen under `make bench`).
const PULL_EXPIRES: Duration = Duration::from_secs(2);
/// Messages one pull asks for, at least.
const PULL_BATCH: usize = 16;

/// How a service consumes.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// How long the server waits for an ack before it redelivers.
    pub ack_wait: Duration,
    /// Deliveries before a failing message is parked on the dead-letter subject.
    pub max_deliver: i64,
    /// The first nak delay; it doubles with every delivery, up to `max_retry_delay`.
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    /// Messages one instance handles at once, per consumer. One by default:
    /// events are then handled in the order the stream holds them, and the
    /// work they set off yields the machine to the requests that caused it
    /// (`make bench` on 2 cores placed orders about 1.5 times as fast as
    /// with 8). More throughput comes from more replicas.
    pub concurrency: usize,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 10,
            retry_delay: Duration::from_millis(200),
            max_retry_delay: Duration::from_secs(30),
            concurrency: 1,
        }
    }
}

/// Why a handler did not finish its work.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Worth another try later: a server unreachable, or an event that came
    /// before the one it builds on.
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Can never succeed: the message is parked on the dead-letter subject.
    #[error("{0:#}")]
    Reject(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Self::Retry(err)
    }
}

impl From<mongodb::error::Error> for Failure {
    fn from(err: mongodb::error::Error) -> Self {
        Self::Retry(err.into())
    }
}

/// What a handler returns.
pub type Handled = Result<(), Failure>;

/// The durable consumer's name: `orders` and `ticket.created` give `orders-ticket-created`.
pub fn consumer_name(service: &str, subject: &str) -> String {
    format!("{service}-{}", subject.replace('.', "-"))
}

/// Where the consumer `consumer` parks the messages it gives up on (under the prefix).
pub fn dead_letter_subject(consumer: &str) -> String {
    format!("deadletter.{consumer}")
}

/// Binds `service`'s durable consumer of `E` and runs `handler` on every
/// message until `shutdown`; then it stops fetching and finishes the
/// messages in hand. The returned task ends when it has.
pub async fn listen<E, H, Fut>(
    bus: &Bus,
    service: &str,
    config: &ListenerConfig,
    shutdown: CancellationToken,
    handler: H,
) -> anyhow::Result<JoinHandle<()>>
where
    E: Event,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Handled> + Send + 'static,
{
    let name = consumer_name(service, E::SUBJECT);
    let stream = bus.jetstream().get_stream(bus.stream_name()).await?;
    let consumer: PullConsumer = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: bus.subject(E::SUBJECT),
                ack_policy: AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                max_deliver: config.max_deliver,
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            },
        )
        .await?;
    let listener = Arc::new(Listener {
        bus: bus.clone(),
        name,
        config: config.clone(),
    });
    Ok(tokio::spawn(listener.run(consumer, handler, shutdown)))
}

struct Listener {
    bus: Bus,
    name: String,
    config: ListenerConfig,
}

impl Listener {
    async fn run<E, H, Fut>(
        self: Arc<Self>,
        consumer: PullConsumer,
        handler: H,
        shutdown: CancellationToken,
    ) where
        E: Event,
        H: Fn(E) -> Fut,
        Fut: Future<Output = Handled>,
    {
        while !shutdown.is_cancelled() {
            self.consume(&consumer, &handler, &shutdown).await;
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
        // Acks are buffered by the client: send them before the task reports it is done.
        if let Err(err) = self.bus.flush().await {
            tracing::warn!(consumer = %self.name, error = %err, "cannot flush acks on shutdown");
        }
    }

    /// Pulls and handles messages until `shutdown` or until the pull stream ends.
    async fn consume<E, H, Fut>(
        &self,
        consumer: &PullConsumer,
        handler: &H,
        shutdown: &CancellationToken,
    ) where
        E: Event,
        H: Fn(E) -> Fut,
        Fut: Future<Output = Handled>,
    {
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
                    Ok(message) => self.deliver(handler, message).await,
                    Err(err) => {
                        tracing::warn!(consumer = %self.name, error = %err, "pull failed")
                    }
                }
            })
            .await;
    }

    #[tracing::instrument(name = "event", skip_all, fields(consumer = %self.name, seq, attempt))]
    async fn deliver<E, H, Fut>(&self, handler: &H, message: Message)
    where
        E: Event,
        H: Fn(E) -> Fut,
        Fut: Future<Output = Handled>,
    {
        let (attempt, sequence) = match message.info() {
            Ok(info) => (info.delivered, info.stream_sequence),
            Err(_) => (1, 0),
        };
        tracing::Span::current()
            .record("seq", sequence)
            .record("attempt", attempt);

        let outcome = match serde_json::from_slice::<E>(&message.payload) {
            Ok(event) => handler(event).await,
            Err(err) => Err(Failure::Reject(
                anyhow::Error::new(err).context("payload does not decode"),
            )),
        };
        let ack = match outcome {
            Ok(()) => AckKind::Ack,
            Err(Failure::Retry(err)) if attempt < self.config.max_deliver => {
                tracing::info!(error = format!("{err:#}"), "handler will retry");
                AckKind::Nak(Some(self.retry_delay(attempt)))
            }
            Err(failure) => {
                let reason = match &failure {
                    Failure::Retry(_) => format!("gave up after {attempt} deliveries: {failure}"),
                    Failure::Reject(_) => format!("rejected: {failure}"),
                };
                tracing::error!(reason, "parking message on the dead-letter subject");
                match self.park(&message, sequence, &reason).await {
                    Ok(()) => AckKind::Ack,
                    Err(err) => {
                        tracing::error!(
                            error = format!("{err:#}"),
                            "cannot park message; will retry"
                        );
                        AckKind::Nak(Some(self.config.retry_delay))
                    }
                }
            }
        };
        if let Err(err) = message.ack_with(ack).await {
            tracing::warn!(error = %err, "cannot acknowledge message; it will be redelivered");
        }
    }

    fn retry_delay(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        self.config
            .retry_delay
            .saturating_mul(1 << doublings)
            .min(self.config.max_retry_delay)
    }

    async fn park(&self, message: &Message, sequence: u64, reason: &str) -> anyhow::Result<()> {
        let mut headers = HeaderMap::new();
        // A header value cannot hold line breaks.
        headers.insert(
            DEAD_REASON_HEADER,
            reason.replace(['\r', '\n'], " ").as_str(),
        );
        headers.insert(DEAD_SUBJECT_HEADER, message.subject.as_str());
        let message_id = format!("dead:{}:{sequence}", self.name);
        self.bus
            .publish_raw(
                &dead_letter_subject(&self.name),
                &message_id,
                message.payload.clone(),
                headers,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
