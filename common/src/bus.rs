//! The JetStream bus: one stream for the deployment's prefix, and a typed
//! publisher that gives every event its deterministic `Nats-Msg-Id`, so that
//! a retried publish is dropped by the server.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage, stream};
use axum::body::Bytes;

use crate::config::BusSettings;
use crate::events::Event;

/// How long the server remembers message ids to drop duplicates.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// How long a service starting keeps asking for its stream while the
/// servers answer with errors (a cluster electing its leaders).
const STREAM_SETUP: Duration = Duration::from_secs(45);

/// A connection to JetStream, scoped to one prefix and stream. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    prefix: Arc<str>,
    stream: Arc<str>,
}

/// What the server said of a publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub sequence: u64,
    /// The message id was seen within the duplicate window: nothing was stored.
    pub duplicate: bool,
}

/// Where `user`'s replies come (`_INBOX.orders`): its own inboxes, so that
/// no service may read another's deliveries or replies; its NATS rights
/// ([`crate::permissions::of`]) allow these and no others.
pub fn inbox_prefix(user: &str) -> String {
    format!("_INBOX.{user}")
}

/// The servers a `NATS_URL` names: one, or a cluster's several separated
/// by commas, as the NATS tools take them.
pub fn server_addrs(url: &str) -> Vec<&str> {
    url.split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .collect()
}

impl Bus {
    /// Connects and creates (or brings up to date) the stream.
    pub async fn connect(settings: &BusSettings) -> anyhow::Result<Self> {
        let mut options =
            async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(5));
        if let (Some(user), Some(password)) = (&settings.nats_user, &settings.nats_password) {
            // Its own inboxes: the one place the server lets it hear replies.
            options = options
                .user_and_password(user.clone(), password.expose().to_string())
                .custom_inbox_prefix(inbox_prefix(user));
        }
        let client = options
            .connect(server_addrs(&settings.nats_url))
            .await
            .with_context(|| format!("cannot connect to NATS at {}", settings.nats_url))?;
        let bus = Self {
            jetstream: jetstream::new(client.clone()),
            client,
            prefix: settings.prefix.as_str().into(),
            stream: settings.stream.as_str().into(),
        };
        bus.ensure_stream(settings.stream_replicas).await?;
        Ok(bus)
    }

    async fn ensure_stream(&self, replicas: usize) -> anyhow::Result<()> {
        let config = stream::Config {
            name: self.stream.to_string(),
            subjects: vec![format!("{}.>", self.prefix)],
            // Limits retention keeps the log, so any replica can be rebuilt by replay.
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: replicas,
            ..Default::default()
        };
        // A cluster that has just formed, or is electing a leader, times the
        // request out for a moment: ask again until STREAM_SETUP has passed.
        let deadline = tokio::time::Instant::now() + STREAM_SETUP;
        let mut pause = Duration::from_millis(250);
        loop {
            match self.jetstream.create_or_update_stream(config.clone()).await {
                Ok(_) => return Ok(()),
                Err(error) if tokio::time::Instant::now() + pause < deadline => {
                    tracing::warn!(%error, stream = %self.stream, "the stream is not ready yet; asking again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(4));
                }
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!("cannot create or update stream {}", self.stream)
                    });
                }
            }
        }
    }

    /// The full subject of `name` under this deployment's prefix.
    pub fn subject(&self, name: &str) -> String {
        format!("{}.{}", self.prefix, name)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    /// The plain NATS connection (for the server's advisories).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Whether the connection to the server is up (for readiness).
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    /// Sends whatever the client still buffers (acks among them).
    pub async fn flush(&self) -> anyhow::Result<()> {
        Ok(self.client.flush().await?)
    }

    /// Publishes an event, in the current span's trace, and waits until
    /// the server has stored it.
    pub async fn publish<E: Event>(&self, event: &E) -> anyhow::Result<Published> {
        let payload = serde_json::to_vec(event).context("cannot encode event")?;
        let mut headers = HeaderMap::new();
        if let Some(traceparent) = crate::telemetry::traceparent() {
            headers.insert(crate::telemetry::TRACEPARENT, traceparent.as_str());
        }
        self.publish_raw(E::SUBJECT, &event.message_id(), payload.into(), headers)
            .await
    }

    /// Publishes an already encoded payload under `subject` (without prefix).
    pub async fn publish_raw(
        &self,
        subject: &str,
        message_id: &str,
        payload: Bytes,
        headers: HeaderMap,
    ) -> anyhow::Result<Published> {
        self.send_raw(subject, message_id, payload, headers)
            .await?
            .await
    }

    /// Sends an already encoded payload under `subject` (without prefix) and
    /// gives what waits for the server to store it, so that several can be
    /// sent before the first acknowledgement comes back.
    pub async fn send_raw(
        &self,
        subject: &str,
        message_id: &str,
        payload: Bytes,
        headers: HeaderMap,
    ) -> anyhow::Result<impl Future<Output = anyhow::Result<Published>> + use<>> {
        let message = PublishMessage::build()
            .payload(payload)
            .headers(headers)
            .message_id(message_id);
        let ack = self
            .jetstream
            .send_publish(self.subject(subject), message)
            .await
            .with_context(|| format!("cannot publish {subject}"))?;
        let subject = subject.to_string();
        Ok(async move {
            let ack = ack
                .await
                .with_context(|| format!("no acknowledgement for {subject}"))?;
            if !ack.duplicate {
                crate::metrics::published(&subject);
            }
            Ok(Published {
                sequence: ack.sequence,
                duplicate: ack.duplicate,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::server_addrs;

    #[test]
    fn a_cluster_url_names_each_of_its_servers() {
        // Given the URL of a three-server cluster, as `make up` writes it
        let url = "nats://127.0.0.1:4222, nats://127.0.0.1:4223,nats://127.0.0.1:4224";
        // When its servers are read / Then there are the three, trimmed
        assert_eq!(
            server_addrs(url),
            [
                "nats://127.0.0.1:4222",
                "nats://127.0.0.1:4223",
                "nats://127.0.0.1:4224"
            ]
        );
        // And a single server is itself
        assert_eq!(server_addrs("nats://nats:4222"), ["nats://nats:4222"]);
    }
}
