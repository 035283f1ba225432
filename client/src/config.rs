//! The client's settings.

use common::config::{ConfigError, HttpSettings, Secret, optional, required, secret};

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    /// Where the APIs answer under `/api/...`: the local proxy, or the
    /// ingress controller inside the cluster.
    pub api_base_url: String,
    /// Stripe's publishable key, for Stripe.js in the browser.
    pub stripe_publishable_key: String,
    /// Where the browser loads Stripe.js from (localstripe's stand-in locally).
    pub stripe_js_url: String,
    /// The sessions' key, which also signs the forms' CSRF tokens.
    pub jwt_key: Secret,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpSettings::from_env()?,
            api_base_url: required("API_BASE_URL")?.trim_end_matches('/').to_string(),
            stripe_publishable_key: required("STRIPE_PUBLISHABLE_KEY")?,
            stripe_js_url: optional("STRIPE_JS_URL", "https://js.stripe.com/v3/".to_string())?,
            jwt_key: secret("JWT_KEY")?,
        })
    }
}
