//! Typed settings read once from the environment at start. A missing or
//! malformed setting stops the service with a message naming it; secrets are
//! wrapped so that they never reach a log. Any setting `NAME` may instead
//! be given as `NAME_FILE`, the path of a file holding it (a secret mounted
//! as a volume), so that secrets need not sit in the environment. A leaf: it
//! builds on nothing of this crate but [`Secret`].

mod source;

use std::time::Duration;

pub use crate::secret::Secret;
pub use source::{millis, optional, optional_secret, required, seconds, secret};

/// A setting that is absent or cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required setting {0}")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("both {0} and {0}_FILE are set: set one of them")]
    Ambiguous(&'static str),
    // The reason is the I/O error's, never anything the file holds.
    #[error("setting {name}_FILE names {path}, which cannot be read: {reason}")]
    Unreadable {
        name: &'static str,
        path: String,
        reason: String,
    },
}

/// How a process serves HTTP: where, with what deadlines.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The address to listen on: all interfaces in a container, loopback locally.
    pub host: String,
    pub port: u16,
    /// Dev mode: session cookies without `Secure`, human-readable logs.
    pub dev_mode: bool,
    /// A request still running after this is answered 503.
    pub request_timeout: Duration,
    /// After SIGTERM, what is still running after this is abandoned: below
    /// Kubernetes' 30 s grace period, so the process ends on its own.
    pub shutdown_timeout: Duration,
}

impl HttpSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            host: optional("HOST", "0.0.0.0".to_string())?,
            port: optional("PORT", 3000)?,
            dev_mode: optional("DEV_MODE", false)?,
            request_timeout: seconds("REQUEST_TIMEOUT_SECONDS", 15)?,
            shutdown_timeout: seconds("SHUTDOWN_TIMEOUT_SECONDS", 20)?,
        })
    }
}

/// What every service with a database and sessions reads.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub http: HttpSettings,
    pub mongo_uri: Secret,
    pub mongo_db: String,
    pub jwt_key: Secret,
    pub session_ttl: Duration,
}

impl ServiceSettings {
    /// Reads the settings; `default_db` is the database name when `MONGO_DB` is unset.
    pub fn from_env(default_db: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpSettings::from_env()?,
            mongo_uri: secret("MONGO_URI")?,
            mongo_db: optional("MONGO_DB", default_db.to_string())?,
            jwt_key: secret("JWT_KEY")?,
            session_ttl: seconds("SESSION_TTL_SECONDS", 3600)?,
        })
    }
}

/// How a service consumes events.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    /// How long the server waits for an ack before it redelivers. A handler
    /// that runs longer tells the server it is still at work.
    pub ack_wait: Duration,
    /// Deliveries of one message in all. The last one is never handled: it
    /// parks the message as a dead letter, whatever became of the ones
    /// before it (failures, ack-wait timeouts, a crash). At least 2.
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
    /// A handler still running after this is abandoned and its message
    /// retried: longer than any transaction retries for.
    pub handler_timeout: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 10,
            retry_delay: Duration::from_millis(200),
            max_retry_delay: Duration::from_secs(30),
            concurrency: 1,
            handler_timeout: Duration::from_secs(90),
        }
    }
}

impl ListenerConfig {
    /// The nak delay after the `delivery`th delivery failed.
    pub fn retry_delay(&self, delivery: i64) -> Duration {
        let doublings = u32::try_from(delivery.saturating_sub(1))
            .unwrap_or(0)
            .min(16);
        self.retry_delay
            .saturating_mul(1 << doublings)
            .min(self.max_retry_delay)
    }

    /// How long a message that fails at once on every delivery takes to be
    /// parked: the sum of its nak delays.
    pub fn retry_budget(&self) -> Duration {
        (1..self.max_deliver.saturating_sub(1))
            .map(|d| self.retry_delay(d))
            .sum()
    }

    fn validated(self) -> Result<Self, ConfigError> {
        if self.max_deliver < 2 {
            return Err(ConfigError::Invalid {
                name: "NATS_MAX_DELIVER",
                reason: "at least 2: the last delivery parks the message".into(),
            });
        }
        if self.concurrency == 0 {
            return Err(ConfigError::Invalid {
                name: "NATS_LISTENER_CONCURRENCY",
                reason: "at least 1".into(),
            });
        }
        Ok(self)
    }
}

/// Where a service that uses events finds JetStream, and how it consumes.
#[derive(Debug, Clone)]
pub struct BusSettings {
    pub nats_url: String,
    /// Credentials for the server, if it asks for them.
    pub nats_user: Option<String>,
    pub nats_password: Option<Secret>,
    pub prefix: String,
    pub stream: String,
    /// Copies the server cluster keeps of the stream (3 in production).
    pub stream_replicas: usize,
    pub listener: ListenerConfig,
}

/// The JetStream stream the services share when `NATS_STREAM` is not set.
pub const DEFAULT_STREAM: &str = "TICKETING";

impl BusSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = ListenerConfig::default();
        let listener = ListenerConfig {
            ack_wait: seconds("NATS_ACK_WAIT_SECONDS", defaults.ack_wait.as_secs())?,
            max_deliver: optional("NATS_MAX_DELIVER", defaults.max_deliver)?,
            retry_delay: millis(
                "NATS_RETRY_DELAY_MS",
                defaults.retry_delay.as_millis() as u64,
            )?,
            max_retry_delay: millis(
                "NATS_MAX_RETRY_DELAY_MS",
                defaults.max_retry_delay.as_millis() as u64,
            )?,
            concurrency: optional("NATS_LISTENER_CONCURRENCY", defaults.concurrency)?,
            handler_timeout: seconds(
                "NATS_HANDLER_TIMEOUT_SECONDS",
                defaults.handler_timeout.as_secs(),
            )?,
        };
        Ok(Self {
            nats_url: required("NATS_URL")?,
            nats_user: Some(optional("NATS_USER", String::new())?).filter(|u| !u.is_empty()),
            nats_password: optional_secret("NATS_PASSWORD")?,
            prefix: optional("NATS_PREFIX", "ticketing".to_string())?,
            stream: optional("NATS_STREAM", DEFAULT_STREAM.to_string())?,
            stream_replicas: optional("NATS_STREAM_REPLICAS", 1)?,
            listener: listener.validated()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nak_delays_double_up_to_the_longest() {
        let config = ListenerConfig::default();
        assert_eq!(config.retry_delay(1), Duration::from_millis(200));
        assert_eq!(config.retry_delay(2), Duration::from_millis(400));
        assert_eq!(config.retry_delay(9), Duration::from_secs(30));
        assert_eq!(config.retry_delay(60), Duration::from_secs(30));
    }

    #[test]
    fn the_retry_budget_sums_the_delays_of_the_deliveries_handled() {
        // Of ten deliveries nine are handled, with eight naks between them:
        // 0.2 s doubling seven times, to 25.6 s.
        let budget = ListenerConfig::default().retry_budget();
        assert_eq!(budget, Duration::from_millis(200 * 255));
    }

    #[test]
    fn a_single_delivery_is_refused_as_it_leaves_no_try() {
        let config = ListenerConfig {
            max_deliver: 1,
            ..Default::default()
        };
        assert!(config.validated().is_err());
    }
}
