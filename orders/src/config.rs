//! The orders service's settings: what every service reads, the bus, how
//! long a reservation holds a ticket, and how often overdue orders are swept.

use std::time::Duration;

use common::config::{BusSettings, ConfigError, ServiceSettings, optional, seconds};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub bus: BusSettings,
    /// How long an order holds its ticket before it expires.
    pub expiration_window: Duration,
    /// How often orders whose expiry was never announced are expired: the
    /// longest an order can stay `created` past its `expiresAt`.
    pub expiry_sweep: Duration,
    /// Unpaid orders a buyer may have at once.
    pub max_open_orders: i64,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env("orders")?,
            bus: BusSettings::from_env()?,
            expiration_window: seconds("EXPIRATION_WINDOW_SECONDS", 900)?,
            expiry_sweep: seconds("EXPIRY_SWEEP_SECONDS", 30)?,
            max_open_orders: optional("MAX_OPEN_ORDERS_PER_BUYER", 5)?,
        })
    }
}
