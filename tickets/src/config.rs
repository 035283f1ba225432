//! The tickets service's settings: what every service reads, and the bus.

use common::config::{BusSettings, ConfigError, ServiceSettings};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub bus: BusSettings,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env("tickets")?,
            bus: BusSettings::from_env()?,
        })
    }
}
