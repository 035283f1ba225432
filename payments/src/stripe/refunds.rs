//! Refunds: the whole of a PaymentIntent, once.

use std::time::Instant;

use anyhow::Context as _;
use stripe::{StripeError, StripeRequest};
use stripe_core::refund::{CreateRefund, ListRefund};

use super::{Stripe, observe, strategy};

#[derive(miniserde::Deserialize)]
struct Refund {
    id: String,
    status: Option<String>,
}

#[derive(miniserde::Deserialize)]
struct Refunds {
    data: Vec<Refund>,
}

impl Stripe {
    /// Refunds the whole of a PaymentIntent; returns the refund's id. One
    /// refunded already (a try whose answer was lost, or a retry after
    /// Stripe forgot its key) is found and given instead, never refunded twice.
    #[tracing::instrument(skip(self, idempotency_key))]
    pub async fn refund(
        &self,
        payment_intent: &str,
        idempotency_key: &str,
    ) -> anyhow::Result<String> {
        if let Some(existing) = self.refund_of(payment_intent).await? {
            return Ok(existing);
        }
        let started = Instant::now();
        let refunded: Result<Refund, StripeError> = CreateRefund::new()
            .payment_intent(payment_intent)
            .build()
            .customize()
            .request_strategy(strategy(idempotency_key)?)
            .send(&self.client)
            .await;
        observe("refund", started, &refunded);
        match refunded {
            Ok(refund) => Ok(refund.id),
            Err(StripeError::Stripe(error, _))
                if error.code == Some(stripe::ApiErrorsCode::ChargeAlreadyRefunded) =>
            {
                self.refund_of(payment_intent)
                    .await?
                    .context("Stripe says the payment is refunded, and lists no refund of it")
            }
            Err(err) => Err(anyhow::Error::new(err).context("Stripe refund failed")),
        }
    }

    /// The refund Stripe holds of a PaymentIntent, if it holds one that
    /// went through (or is going through).
    async fn refund_of(&self, payment_intent: &str) -> anyhow::Result<Option<String>> {
        let started = Instant::now();
        let listed = ListRefund::new()
            .payment_intent(payment_intent)
            .build()
            .customize::<Refunds>()
            .send(&self.client)
            .await;
        observe("list_refunds", started, &listed);
        let refunds = listed.context("cannot list the refunds of a payment at Stripe")?;
        Ok(refunds
            .data
            .into_iter()
            .find(|refund| !matches!(refund.status.as_deref(), Some("failed" | "canceled")))
            .map(|refund| refund.id))
    }
}
