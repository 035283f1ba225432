//! The expiration service's settings. It keeps its state in Redis, so it
//! reads neither `MONGO_URI` nor `JWT_KEY`.

use std::time::Duration;

use common::config::{BusSettings, ConfigError, HttpSettings, Secret, optional, seconds, secret};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub redis_url: Secret,
    /// Put before every key, so that deployments sharing a Redis never meet.
    pub redis_prefix: String,
    /// How long an instance may take to publish what it claimed before
    /// another instance claims it again.
    pub claim_lease: Duration,
    pub bus: BusSettings,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpSettings::from_env()?,
            redis_url: secret("REDIS_URL")?,
            redis_prefix: optional("REDIS_KEY_PREFIX", "ticketing:".to_string())?,
            claim_lease: seconds("EXPIRATION_CLAIM_LEASE_SECONDS", 30)?,
            bus: BusSettings::from_env()?,
        })
    }
}
