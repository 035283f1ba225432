//! Test support: every test gets its own database, NATS prefix and stream,
//! and Redis key prefix on the real servers that `make test` started, and
//! waits for outcomes by polling with a deadline, never by sleeping.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt;

use crate::bus::Bus;
use crate::config::{BusSettings, HttpSettings, ListenerConfig, Secret, ServiceSettings};
use crate::error::ErrorBody;
use crate::events::Event;
use crate::session::{SessionUser, Sessions};

/// The key every test service signs sessions with.
pub const JWT_KEY: &str = "test-only-signing-key";

/// How long a test waits for an outcome before it fails: generous, since a
/// loaded 2-core machine can be slow, and only a failing test waits it out.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Where the servers `make test` started are.
#[derive(Debug, Clone)]
pub struct TestServers {
    pub mongo_uri: String,
    pub nats_url: String,
    pub redis_url: Option<String>,
    pub stripe_url: Option<String>,
}

/// Reads the servers' addresses that `scripts/test.sh` exports.
pub fn servers() -> TestServers {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(mongo_uri), Some(nats_url)) = (var("TEST_MONGO_URI"), var("TEST_NATS_URL")) else {
        panic!(
            "TEST_MONGO_URI and TEST_NATS_URL are not set: run the tests with `make test`, which starts the servers"
        );
    };
    TestServers {
        mongo_uri,
        nats_url,
        redis_url: var("TEST_REDIS_URL"),
        stripe_url: var("TEST_STRIPE_URL"),
    }
}

/// A name no other test uses: `label` and a random suffix.
pub fn unique(label: &str) -> String {
    format!(
        "{label}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Shows the services' logs in a test's output when `TEST_LOG` is set
/// (to a filter such as `info` or `payments=debug`).
pub fn show_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// How a service under test serves: on loopback, port 0, in dev mode, with
/// the production deadlines.
pub fn http_settings() -> HttpSettings {
    show_logs();
    HttpSettings {
        host: "127.0.0.1".to_string(),
        port: 0,
        dev_mode: true,
        request_timeout: Duration::from_secs(15),
        shutdown_timeout: Duration::from_secs(20),
    }
}

/// Settings for a service under test: port 0, a fresh database, dev mode.
pub fn service_settings(service: &str) -> ServiceSettings {
    ServiceSettings {
        http: http_settings(),
        mongo_uri: Secret::new(servers().mongo_uri),
        mongo_db: unique(&format!("test_{service}")),
        jwt_key: Secret::new(JWT_KEY),
        session_ttl: Duration::from_secs(3600),
    }
}

/// A fresh prefix and stream, consumed with the production delivery and
/// retry settings.
pub fn bus_settings() -> BusSettings {
    let name = unique("t");
    BusSettings {
        nats_url: servers().nats_url,
        nats_user: None,
        nats_password: None,
        prefix: name.clone(),
        stream: name.to_uppercase(),
        stream_replicas: 1,
        listener: ListenerConfig::default(),
    }
}

/// A Redis key prefix no other test uses.
pub fn redis_prefix() -> String {
    format!("{}:", unique("t"))
}

/// A user no other test has, and the `Cookie` header value that signs them
/// in with [`JWT_KEY`]: what the auth service would have issued.
pub fn signed_in(label: &str) -> (SessionUser, String) {
    let user = SessionUser {
        id: mongodb::bson::oid::ObjectId::new().to_hex(),
        email: format!("{}@example.com", unique(label)),
        role: crate::session::Role::User,
    };
    let sessions = Sessions::new(&Secret::new(JWT_KEY), Duration::from_secs(3600), false);
    let token = sessions.token_for(&user).expect("a token");
    (user, format!("session={token}"))
}

/// Asserts that `response` has `status` and the error shape, and returns its
/// items as (message, field) pairs.
pub async fn error_items(
    response: reqwest::Response,
    status: reqwest::StatusCode,
) -> Vec<(String, Option<String>)> {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let body: ErrorBody = response.json().await.expect("a body in the error shape");
    assert!(!body.errors.is_empty(), "the error list is empty");
    body.errors
        .into_iter()
        .map(|e| (e.message, e.field))
        .collect()
}

/// Polls `check` until it gives `Some`, failing the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(DEADLINE, what, check).await
}

/// As [`eventually`], for an outcome that takes longer by design (an alert
/// whose condition must hold for a while first).
pub async fn eventually_within<T, F, Fut>(deadline: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the durable consumer `consumer` has nothing pending and
/// nothing unacknowledged: every message so far was handled.
pub async fn drained(bus: &Bus, consumer: &str) {
    let stream = bus
        .jetstream()
        .get_stream(bus.stream_name())
        .await
        .expect("stream exists");
    eventually(&format!("{consumer} to be drained"), || {
        let stream = stream.clone();
        async move {
            let mut consumer: async_nats::jetstream::consumer::PullConsumer =
                stream.get_consumer(consumer).await.ok()?;
            let info = consumer.info().await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
        }
    })
    .await;
}

/// Waits until the relay published every event staged in `database`'s
/// outbox: a staged event reaches the stream after its commit, not with it.
pub async fn outbox_empty(database: &mongodb::Database) {
    let outbox = crate::outbox::Outbox::new(database);
    eventually("the outbox to be empty", || async {
        (outbox.pending().await.ok()? == 0).then_some(())
    })
    .await;
}

/// Messages the stream holds on `subject` (without prefix).
pub async fn stored(bus: &Bus, subject: &str) -> u64 {
    let stream = bus
        .jetstream()
        .get_stream(bus.stream_name())
        .await
        .expect("stream exists");
    let mut info = stream
        .info_with_subjects(bus.subject(subject))
        .await
        .expect("stream info");
    let mut total = 0;
    while let Some(Ok((_, count))) = info.next().await {
        total += count as u64;
    }
    total
}

/// Publishes `event` again under a fresh message id, as a publisher that
/// retried after the server's duplicate window would: the server stores it
/// again, so the listener itself must recognise the duplicate.
pub async fn publish_again<E: Event>(bus: &Bus, event: &E) {
    let payload = serde_json::to_vec(event).expect("event encodes");
    bus.publish_raw(
        E::SUBJECT,
        &unique("again"),
        payload.into(),
        async_nats::HeaderMap::new(),
    )
    .await
    .expect("published");
}

/// Reads every event of one type from the start of the stream, in order.
pub struct Probe<E> {
    messages: pull::Ordered,
    _event: PhantomData<E>,
}

impl<E: Event> Probe<E> {
    /// Watches `E::SUBJECT` (or `subject`, for dead letters) from the first message on.
    pub async fn start(bus: &Bus) -> Self {
        Self::on_subject(bus, E::SUBJECT).await
    }

    pub async fn on_subject(bus: &Bus, subject: &str) -> Self {
        let stream = bus
            .jetstream()
            .get_stream(bus.stream_name())
            .await
            .expect("stream exists");
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: bus.subject(subject),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .expect("ordered consumer");
        Self {
            messages: consumer.messages().await.expect("message stream"),
            _event: PhantomData,
        }
    }

    /// The next message, raw, within `timeout`.
    pub async fn next_message(
        &mut self,
        timeout: Duration,
    ) -> Option<async_nats::jetstream::Message> {
        match tokio::time::timeout(timeout, self.messages.next()).await {
            Ok(Some(Ok(message))) => Some(message),
            Ok(Some(Err(err))) => panic!("probe failed: {err}"),
            Ok(None) | Err(_) => None,
        }
    }

    /// The next event; fails the test after [`DEADLINE`].
    pub async fn next(&mut self) -> E {
        let message = self
            .next_message(DEADLINE)
            .await
            .unwrap_or_else(|| panic!("no {} within the deadline", E::SUBJECT));
        serde_json::from_slice(&message.payload).expect("event decodes")
    }

    /// Asserts that nothing more arrives within `quiet`.
    pub async fn assert_no_more(&mut self, quiet: Duration) {
        if let Some(message) = self.next_message(quiet).await {
            panic!(
                "unexpected {}: {:?}",
                E::SUBJECT,
                String::from_utf8_lossy(&message.payload)
            );
        }
    }
}

/// When the stream stored `message`: when its publisher published it.
pub fn published_at(message: &async_nats::jetstream::Message) -> chrono::DateTime<chrono::Utc> {
    let at = message.info().expect("a JetStream message").published;
    chrono::DateTime::from_timestamp_nanos(at.unix_timestamp_nanos() as i64)
}

/// The value of `series` (a metric's name with its labels as rendered, say
/// `events_published_total{subject="ticket.created"}`) in a page of
/// Prometheus's text format; `None` if the page has no such sample.
pub fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}
