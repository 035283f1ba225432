//! The auth service's settings: only what every service reads. It neither
//! publishes nor consumes events, so it needs no NATS connection.

pub use common::config::ServiceSettings as Settings;

pub fn from_env() -> Result<Settings, common::config::ConfigError> {
    Settings::from_env("auth")
}
