//! Stripe: the only code of this service that talks to it. Requests use
//! async-stripe's builders; responses are decoded into slim types holding
//! only the fields we use, which localstripe also sends.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::CreatePaymentIntent;
use stripe_core::refund::CreateRefund;
use stripe_types::Currency;

use crate::config::StripeSettings;
use crate::domain::PaymentToken;

/// How long one call to Stripe may take.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(miniserde::Deserialize)]
struct Intent {
    id: String,
    status: String,
}

#[derive(miniserde::Deserialize)]
struct Refund {
    id: String,
}

/// Why a charge did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ChargeError {
    /// Stripe refused the card or the request; its message is for the buyer.
    #[error("{0}")]
    Refused(String),
    /// The payment did not complete (it needs an action we do not support).
    #[error("the payment is {0}, not succeeded")]
    Incomplete(String),
    /// Stripe could not be reached or answered unexpectedly: the charge may
    /// or may not have happened, so it is retried under the same key.
    #[error(transparent)]
    Unavailable(anyhow::Error),
}

#[derive(Clone)]
pub struct Stripe {
    client: Client,
}

impl Stripe {
    pub fn new(settings: &StripeSettings) -> anyhow::Result<Self> {
        // rustls cannot choose when a build links in both of its crypto
        // providers (a test-only crate brings the second): choose ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::new(settings.secret_key.expose())
            .url(settings.api_base.as_str())
            .timeout(TIMEOUT)
            .build()
            .context("cannot configure the Stripe client")?;
        Ok(Self { client })
    }

    /// Charges `amount` cents with the card `token`, confirmed at once.
    /// Stripe runs a request with a key it has seen only once.
    pub async fn charge(
        &self,
        amount: i64,
        token: &PaymentToken,
        order_id: &str,
        idempotency_key: &str,
    ) -> Result<String, ChargeError> {
        let request = CreatePaymentIntent::new(amount, Currency::USD)
            .payment_method(token.as_str())
            .confirm(true)
            .metadata(HashMap::from([(
                "orderId".to_string(),
                order_id.to_string(),
            )]));
        let intent: Intent = request
            .build()
            .customize()
            .request_strategy(strategy(idempotency_key).map_err(ChargeError::Unavailable)?)
            .send(&self.client)
            .await
            .map_err(|err| match err {
                StripeError::Stripe(error, status) if (400..500).contains(&status) => {
                    ChargeError::Refused(
                        error
                            .message
                            .unwrap_or_else(|| "The card was declined".into()),
                    )
                }
                other => ChargeError::Unavailable(
                    anyhow::Error::new(other).context("Stripe charge failed"),
                ),
            })?;
        if intent.status != "succeeded" {
            return Err(ChargeError::Incomplete(intent.status));
        }
        Ok(intent.id)
    }

    /// Refunds the whole of a PaymentIntent; returns the refund's id.
    pub async fn refund(
        &self,
        payment_intent: &str,
        idempotency_key: &str,
    ) -> anyhow::Result<String> {
        let refund: Refund = CreateRefund::new()
            .payment_intent(payment_intent)
            .build()
            .customize()
            .request_strategy(strategy(idempotency_key)?)
            .send(&self.client)
            .await
            .context("Stripe refund failed")?;
        Ok(refund.id)
    }
}

fn strategy(key: &str) -> anyhow::Result<RequestStrategy> {
    let key =
        IdempotencyKey::new(key).map_err(|err| anyhow::anyhow!("bad idempotency key: {err:?}"))?;
    Ok(RequestStrategy::Idempotent(key))
}
