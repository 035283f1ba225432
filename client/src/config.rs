//! The client's settings.

use common::config::{ConfigError, optional, required};

#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub dev_mode: bool,
    /// Where the APIs answer under `/api/...`: the local proxy, or the
    /// ingress controller inside the cluster.
    pub api_base_url: String,
    /// Stripe's publishable key, for Stripe.js in the browser.
    pub stripe_publishable_key: String,
    /// Where the browser loads Stripe.js from (localstripe's stand-in locally).
    pub stripe_js_url: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            host: optional("HOST", "0.0.0.0".to_string())?,
            port: optional("PORT", 3000)?,
            dev_mode: optional("DEV_MODE", false)?,
            api_base_url: required("API_BASE_URL")?.trim_end_matches('/').to_string(),
            stripe_publishable_key: required("STRIPE_PUBLISHABLE_KEY")?,
            stripe_js_url: optional("STRIPE_JS_URL", "https://js.stripe.com/v3/".to_string())?,
        })
    }
}
