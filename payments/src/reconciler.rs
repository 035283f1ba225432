//! Reconciliation: webhooks can be lost, and a payment can succeed while
//! this service is down. It reads back from Stripe every intent whose
//! outcome we have not heard for a while (all of them once at start), and
//! calls off at Stripe the intents of orders that ended unpaid; one that
//! succeeded just before is recorded, and so refunded.

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::config::ReconcileSettings;
use crate::domain::IntentStatus;
use crate::refunder::Refunder;
use crate::repository::{IntentRecord, Payments};
use crate::stripe::{CallError, Stripe};

/// Intents one pass looks at, at most, of each kind.
const BATCH: i64 = 100;

#[derive(Clone)]
pub struct Reconciler {
    pub payments: Payments,
    pub stripe: Stripe,
    pub refunder: Refunder,
    pub settings: ReconcileSettings,
}

impl Reconciler {
    /// Reconciles until `shutdown`. Run it under supervision.
    pub async fn run(self, shutdown: CancellationToken) {
        // At start, every open intent: its outcome may have come while we were down.
        let mut since = chrono::Duration::zero();
        while !shutdown.is_cancelled() {
            if let Err(err) = self.pass(since).await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "reconciliation failed; will retry"
                );
            }
            since = chrono::Duration::from_std(self.settings.after)
                .unwrap_or(chrono::Duration::minutes(1));
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(self.settings.every) => {}
            }
        }
    }

    /// One pass: intents unheard of for `since` are read back; those whose
    /// orders ended are called off.
    async fn pass(&self, since: chrono::Duration) -> anyhow::Result<()> {
        for record in self
            .payments
            .unsettled_intents(Utc::now() - since, BATCH)
            .await?
        {
            if let Err(err) = self.read_back(&record).await {
                tracing::warn!(order_id = %record.order_id, error = format!("{err:#}"), "cannot read an intent back");
                self.payments.put_back(record.order_id).await?;
            }
        }
        for record in self.payments.intents_to_cancel(BATCH).await? {
            if let Err(err) = self.call_off(&record).await {
                tracing::warn!(order_id = %record.order_id, error = format!("{err:#}"), "cannot cancel an intent");
                self.payments.put_back(record.order_id).await?;
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(order_id = %record.order_id))]
    async fn read_back(&self, record: &IntentRecord) -> anyhow::Result<()> {
        let Some(intent_id) = &record.intent_id else {
            return Ok(());
        };
        let intent = self.stripe.intent(intent_id).await?;
        self.payments.note_intent(record.order_id, &intent).await?;
        if intent.status == IntentStatus::Succeeded {
            tracing::warn!(
                stripe_id = intent.id,
                "an intent succeeded unheard of; recording it"
            );
            crate::settle::paid(&self.payments, &self.refunder, record.order_id, &intent).await?;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(order_id = %record.order_id))]
    async fn call_off(&self, record: &IntentRecord) -> anyhow::Result<()> {
        let Some(intent_id) = &record.intent_id else {
            return Ok(());
        };
        let intent = match self.stripe.cancel(intent_id).await {
            Ok(intent) => intent,
            // Refused (it may have succeeded, or be cancelled already): what Stripe holds says.
            Err(CallError::Unknown(_) | CallError::Declined(_) | CallError::UnknownCard) => {
                self.stripe.intent(intent_id).await?
            }
        };
        self.payments.note_intent(record.order_id, &intent).await?;
        match intent.status {
            IntentStatus::Succeeded => {
                crate::settle::paid(&self.payments, &self.refunder, record.order_id, &intent)
                    .await?;
            }
            IntentStatus::Canceled => tracing::info!(
                stripe_id = intent.id,
                "the intent of an ended order is cancelled"
            ),
            _ => {}
        }
        Ok(())
    }
}
