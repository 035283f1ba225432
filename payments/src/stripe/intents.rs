//! PaymentIntents: one per order, created unconfirmed (it moves no money),
//! then confirmed with each card the buyer tries, read back whenever an
//! answer was lost, and cancelled when the order ended unpaid.

use std::collections::HashMap;
use std::time::Instant;

use stripe::StripeRequest;
use stripe_core::payment_intent::{
    CancelPaymentIntent, ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent,
};
use stripe_types::Currency;

use super::{CallError, Stripe, classify, observe, strategy};
use crate::domain::{IntentStatus, PaymentToken};

#[derive(miniserde::Deserialize)]
struct Wire {
    id: String,
    status: String,
    client_secret: Option<String>,
    amount: i64,
    last_payment_error: Option<WireError>,
    metadata: Option<WireMetadata>,
}

#[derive(miniserde::Deserialize)]
struct WireError {
    message: Option<String>,
}

#[derive(miniserde::Deserialize)]
struct WireMetadata {
    #[serde(rename = "orderId")]
    order_id: Option<String>,
}

/// A PaymentIntent as far as we need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub status: IntentStatus,
    /// What Stripe.js needs to complete 3-D Secure in the browser.
    pub client_secret: Option<String>,
    /// In cents.
    pub amount: i64,
    /// Why the last card was refused, in Stripe's words for the buyer.
    pub last_error: Option<String>,
    /// The order its metadata names.
    pub order_id: Option<String>,
}

impl From<Wire> for Intent {
    fn from(wire: Wire) -> Self {
        Self {
            id: wire.id,
            status: IntentStatus::parse(&wire.status),
            client_secret: wire.client_secret,
            amount: wire.amount,
            last_error: wire.last_payment_error.and_then(|e| e.message),
            order_id: wire.metadata.and_then(|m| m.order_id),
        }
    }
}

impl Stripe {
    /// Creates the order's one PaymentIntent, unconfirmed, under a key
    /// derived from the order alone: Stripe answers a repeat with the same
    /// intent (localstripe does not; the caller stores the id before it
    /// confirms, so at worst an unconfirmed one is left over).
    #[tracing::instrument(skip(self))]
    pub async fn create_intent(&self, order_id: &str, amount: i64) -> Result<Intent, CallError> {
        let started = Instant::now();
        let created = CreatePaymentIntent::new(amount, Currency::USD)
            .payment_method_types(vec!["card".to_string()])
            .metadata(HashMap::from([(
                "orderId".to_string(),
                order_id.to_string(),
            )]))
            .build()
            .customize::<Wire>()
            .request_strategy(strategy(&format!("intent:{order_id}")).map_err(CallError::Unknown)?)
            .send(&self.client)
            .await;
        observe("create_intent", started, &created);
        created
            .map(Intent::from)
            .map_err(|err| classify(err, "create intent"))
    }

    /// Confirms the intent with the card `token`.
    #[tracing::instrument(skip(self, token))]
    pub async fn confirm(
        &self,
        intent_id: &str,
        token: &PaymentToken,
    ) -> Result<Intent, CallError> {
        let started = Instant::now();
        let confirmed = ConfirmPaymentIntent::new(intent_id)
            .payment_method(token.as_str())
            .build()
            .customize::<Wire>()
            .send(&self.client)
            .await;
        observe("confirm_intent", started, &confirmed);
        confirmed
            .map(Intent::from)
            .map_err(|err| classify(err, "confirm"))
    }

    /// The intent as Stripe holds it now.
    #[tracing::instrument(skip(self))]
    pub async fn intent(&self, intent_id: &str) -> anyhow::Result<Intent> {
        let started = Instant::now();
        let read = RetrievePaymentIntent::new(intent_id)
            .build()
            .customize::<Wire>()
            .send(&self.client)
            .await;
        observe("retrieve_intent", started, &read);
        Ok(read.map(Intent::from)?)
    }

    /// Calls the intent off: its order ended unpaid.
    #[tracing::instrument(skip(self))]
    pub async fn cancel(&self, intent_id: &str) -> Result<Intent, CallError> {
        let started = Instant::now();
        let cancelled = CancelPaymentIntent::new(intent_id)
            .build()
            .customize::<Wire>()
            .send(&self.client)
            .await;
        observe("cancel_intent", started, &cancelled);
        cancelled
            .map(Intent::from)
            .map_err(|err| classify(err, "cancel"))
    }
}

impl Intent {
    /// The intent a webhook event carries (`data.object`), in Stripe's JSON.
    pub fn from_json(object: &serde_json::Value) -> Option<Self> {
        Some(Self {
            id: object["id"].as_str()?.to_string(),
            status: IntentStatus::parse(object["status"].as_str()?),
            client_secret: object["client_secret"].as_str().map(str::to_string),
            amount: object["amount"].as_i64()?,
            last_error: object["last_payment_error"]["message"]
                .as_str()
                .map(str::to_string),
            order_id: object["metadata"]["orderId"].as_str().map(str::to_string),
        })
    }
}
