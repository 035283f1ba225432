//! The payments service's settings: what every service reads, the bus,
//! Stripe, and how often open PaymentIntents are looked at again.

use std::time::Duration;

use common::config::{
    BusSettings, ConfigError, Secret, ServiceSettings, optional, seconds, secret,
};

/// How long one call to Stripe may take by default: well within a request's deadline.
pub const STRIPE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub bus: BusSettings,
    pub stripe: StripeSettings,
    pub reconcile: ReconcileSettings,
}

#[derive(Debug, Clone)]
pub struct StripeSettings {
    pub secret_key: Secret,
    /// Stripe's API, or a stand-in such as localstripe.
    pub api_base: String,
    /// What Stripe signs the webhooks it sends us with.
    pub webhook_secret: Secret,
    /// How long one call to Stripe may take.
    pub timeout: Duration,
}

/// Webhooks can be lost: intents whose outcome we have not heard are read
/// back from Stripe.
#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    /// An intent neither succeeded nor final this long is read back.
    pub after: Duration,
    /// How often the reconciler looks.
    pub every: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            service: ServiceSettings::from_env("payments")?,
            bus: BusSettings::from_env()?,
            stripe: StripeSettings {
                secret_key: secret("STRIPE_SECRET_KEY")?,
                api_base: optional("STRIPE_API_BASE", "https://api.stripe.com/".to_string())?,
                webhook_secret: secret("STRIPE_WEBHOOK_SECRET")?,
                timeout: seconds("STRIPE_TIMEOUT_SECONDS", STRIPE_TIMEOUT.as_secs())?,
            },
            reconcile: ReconcileSettings {
                after: seconds("RECONCILE_AFTER_SECONDS", 60)?,
                every: seconds("RECONCILE_EVERY_SECONDS", 15)?,
            },
        })
    }
}
