//! The orders service's settings: what every service reads, the bus, and how
//! long a reservation holds a ticket.

use std::time::Duration;

use common::config::{BusSettings, ConfigError, ServiceSettings, seconds};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub bus: BusSettings,
    /// How long an order holds its ticket before it expires.
    pub expiration_window: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env("orders")?,
            bus: BusSettings::from_env()?,
            expiration_window: seconds("EXPIRATION_WINDOW_SECONDS", 900)?,
        })
    }
}
