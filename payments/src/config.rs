//! The payments service's settings: what every service reads, the bus, and
//! Stripe.

use common::config::{BusSettings, ConfigError, Secret, ServiceSettings, optional, secret};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub bus: BusSettings,
    pub stripe: StripeSettings,
}

#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub secret_key: Secret,
    /// Stripe's API, or a stand-in such as localstripe.
    pub api_base: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env("payments")?,
            bus: BusSettings::from_env()?,
            stripe: StripeSettings {
                secret_key: secret("STRIPE_SECRET_KEY")?,
                api_base: optional("STRIPE_API_BASE", "https://api.stripe.com/".to_string())?,
            },
        })
    }
}
