//! Gives the money back for payments whose order was cancelled: asks Stripe
//! for a refund (finding one it made already rather than refunding twice),
//! then records it and stages payment.refunded. A payment marked for a
//! refund stays marked until Stripe has refunded it, across crashes and
//! restarts; one whose refund fails waits longer each time, on its own, so
//! that it never holds up the others.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::repository::{PaymentRecord, Payments};
use crate::stripe::Stripe;

/// How often it looks for refunds that fell due.
const POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Refunder {
    payments: Payments,
    stripe: Stripe,
    wake: Arc<Notify>,
}

impl Refunder {
    pub fn new(payments: Payments, stripe: Stripe) -> Self {
        Self {
            payments,
            stripe,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Tells the loop a refund became due.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Refunds what falls due until `shutdown`. Run it under supervision.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            self.refund_due().await;
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn refund_due(&self) {
        let due = match self.payments.refunds_due().await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the refunds due");
                return;
            }
        };
        for payment in due {
            if let Err(err) = self.refund(&payment).await {
                tracing::warn!(payment_id = %payment.id, failures = payment.refund_failures + 1, error = format!("{err:#}"), "refund failed; will retry later");
                if let Err(err) = self.payments.refund_failed(&payment).await {
                    tracing::warn!(payment_id = %payment.id, error = %err, "cannot note a failed refund");
                }
            }
        }
    }

    #[tracing::instrument(skip_all, fields(payment_id = %payment.id, order_id = %payment.order_id))]
    async fn refund(&self, payment: &PaymentRecord) -> anyhow::Result<()> {
        let key = format!("refund:{}", payment.id.to_hex());
        let refund_id = self.stripe.refund(&payment.stripe_id, &key).await?;
        self.payments.refunded(payment, &refund_id).await?;
        tracing::info!(%refund_id, "payment refunded");
        Ok(())
    }
}
