//! Stripe: the only code of this service that talks to it. Requests use
//! async-stripe's builders; responses are decoded into slim types holding
//! only the fields we use, which localstripe also sends. Every call is
//! timed and counted by operation and outcome.

mod intents;
mod refunds;

use std::time::Instant;

use anyhow::Context as _;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError};

use crate::config::StripeSettings;

pub use intents::Intent;

#[derive(Clone)]
pub struct Stripe {
    client: Client,
}

/// What a call that changes something at Stripe came to, when it did not
/// plainly succeed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Stripe refused the card: its message is for the buyer.
    #[error("{0}")]
    Declined(String),
    /// Stripe knows no such card (a token or payment method id that is not one).
    #[error("no such card")]
    UnknownCard,
    /// No answer, or one that does not say what happened (a timeout, a 5xx,
    /// a 409, an idempotency error): the change may or may not have been
    /// made, so what Stripe holds must be read back.
    #[error(transparent)]
    Unknown(anyhow::Error),
}

impl Stripe {
    pub fn new(settings: &StripeSettings) -> anyhow::Result<Self> {
        // rustls cannot choose when a build links in both of its crypto
        // providers (a test-only crate brings the second): choose ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::new(settings.secret_key.expose())
            .url(settings.api_base.as_str())
            .timeout(settings.timeout)
            .build()
            .context("cannot configure the Stripe client")?;
        Ok(Self { client })
    }
}

/// Reads what Stripe's error says happened.
fn classify(err: StripeError, what: &str) -> CallError {
    match err {
        StripeError::Stripe(error, status) => {
            let code = error
                .code
                .as_ref()
                .map(|code| code.as_str().to_string())
                .unwrap_or_default();
            let param = error.param.clone().unwrap_or_default();
            match status {
                402 => CallError::Declined(
                    error
                        .message
                        .clone()
                        .unwrap_or_else(|| "The card was declined".into()),
                ),
                404 | 400 if code == "resource_missing" && param.contains("payment_method") => {
                    CallError::UnknownCard
                }
                // localstripe names no code or param for an unknown card.
                404 if code.is_empty() => CallError::UnknownCard,
                _ => CallError::Unknown(
                    anyhow::Error::new(StripeError::Stripe(error, status))
                        .context(format!("Stripe {what} failed")),
                ),
            }
        }
        other => {
            CallError::Unknown(anyhow::Error::new(other).context(format!("Stripe {what} failed")))
        }
    }
}

fn strategy(key: &str) -> anyhow::Result<RequestStrategy> {
    let key =
        IdempotencyKey::new(key).map_err(|err| anyhow::anyhow!("bad idempotency key: {err:?}"))?;
    Ok(RequestStrategy::Idempotent(key))
}

/// Counts and times one call to Stripe.
fn observe<T, E>(operation: &'static str, started: Instant, result: &Result<T, E>) {
    let outcome = if result.is_ok() { "ok" } else { "error" };
    let labels = [("operation", operation), ("outcome", outcome)];
    metrics::counter!("stripe_requests_total", &labels).increment(1);
    metrics::histogram!("stripe_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
}
