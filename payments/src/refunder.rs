//! Gives the money back for payments whose order was cancelled: asks Stripe
//! for a refund (keyed by the payment, so asking twice refunds once), then
//! records it and stages payment.refunded. A payment marked for a refund
//! stays marked until Stripe has refunded it, across crashes and restarts.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::repository::{PaymentRecord, Payments};
use crate::stripe::Stripe;

/// How often it looks for refunds nobody told it about.
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

    pub fn start(&self, shutdown: CancellationToken) -> JoinHandle<()> {
        let refunder = self.clone();
        tokio::spawn(async move {
            while !shutdown.is_cancelled() {
                refunder.refund_due().await;
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = refunder.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        })
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
                tracing::warn!(payment_id = %payment.id, error = format!("{err:#}"), "refund failed; will retry");
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
