//! Typed settings read once from the environment at start. A missing or
//! malformed setting stops the service with a message naming it; secrets are
//! wrapped so that they never reach a log.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A setting that is absent or cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required setting {0}")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A value that must not be logged: its `Debug` prints a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A setting that must be present and not empty.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// A setting that must be present, kept out of logs.
pub fn secret(name: &'static str) -> Result<Secret, ConfigError> {
    required(name).map(Secret)
}

/// A setting with a default, parsed into `T`.
pub fn optional<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value
                .trim()
                .parse()
                .map_err(|err: T::Err| ConfigError::Invalid {
                    name,
                    reason: err.to_string(),
                })
        }
        _ => Ok(default),
    }
}

/// A duration given in whole seconds.
pub fn seconds(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    optional(name, default).map(Duration::from_secs)
}

/// A duration given in milliseconds.
pub fn millis(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    optional(name, default).map(Duration::from_millis)
}

/// What every service reads: where it listens, its database, its sessions.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// The address to listen on: all interfaces in a container, loopback locally.
    pub host: String,
    pub port: u16,
    pub mongo_uri: Secret,
    pub mongo_db: String,
    pub jwt_key: Secret,
    pub session_ttl: Duration,
    /// Dev mode: session cookies without `Secure`, human-readable logs.
    pub dev_mode: bool,
}

impl ServiceSettings {
    /// The sessions this service issues or checks: `Secure` cookies
    /// everywhere but dev mode.
    pub fn sessions(&self) -> crate::session::Sessions {
        crate::session::Sessions::new(&self.jwt_key, self.session_ttl, !self.dev_mode)
    }

    /// Reads the settings; `default_db` is the database name when `MONGO_DB` is unset.
    pub fn from_env(default_db: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            host: optional("HOST", "0.0.0.0".to_string())?,
            port: optional("PORT", 3000)?,
            mongo_uri: secret("MONGO_URI")?,
            mongo_db: optional("MONGO_DB", default_db.to_string())?,
            jwt_key: secret("JWT_KEY")?,
            session_ttl: seconds("SESSION_TTL_SECONDS", 3600)?,
            dev_mode: optional("DEV_MODE", false)?,
        })
    }
}

/// Where a service that uses events finds JetStream, and how it consumes.
#[derive(Debug, Clone)]
pub struct BusSettings {
    pub nats_url: String,
    pub prefix: String,
    pub stream: String,
    /// Copies the server cluster keeps of the stream (3 in production).
    pub stream_replicas: usize,
    pub listener: crate::listener::ListenerConfig,
}

/// The JetStream stream the services share when `NATS_STREAM` is not set.
pub const DEFAULT_STREAM: &str = "TICKETING";

impl BusSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = crate::listener::ListenerConfig::default();
        Ok(Self {
            nats_url: required("NATS_URL")?,
            prefix: optional("NATS_PREFIX", "ticketing".to_string())?,
            stream: optional("NATS_STREAM", DEFAULT_STREAM.to_string())?,
            stream_replicas: optional("NATS_STREAM_REPLICAS", 1)?,
            listener: crate::listener::ListenerConfig {
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
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_missing_setting_is_named() {
        let err = required("COMMON_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required setting COMMON_TEST_SURELY_UNSET"
        );
    }

    #[test]
    fn an_absent_optional_setting_takes_its_default() {
        assert_eq!(optional("COMMON_TEST_ALSO_UNSET", 42u16).unwrap(), 42);
    }
}
