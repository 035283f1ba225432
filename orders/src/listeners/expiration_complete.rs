//! `expiration.complete`: an order's time ran out. Only a created order is
//! cancelled, and only once its `expiresAt` has passed; a paid or already
//! cancelled one stays as it is.

use std::time::Duration;

use anyhow::anyhow;
use common::events::ExpirationComplete;
use common::handling::{Failure, Handled, Outcome};

use super::record_id;
use crate::domain::{Command, Refusal};
use crate::repository::{Orders, TransitionRefused, Transitioned};

/// The longest an early announcement is put off at a time.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

#[tracing::instrument(skip_all, fields(order_id = %event.order_id))]
pub async fn expire(orders: Orders, event: ExpirationComplete) -> Handled {
    let id = record_id(&event.order_id)?;
    match orders.transition(id, None, Command::Expire).await? {
        Ok(Transitioned::Changed(_)) => tracing::info!("order expired"),
        Ok(Transitioned::Unchanged(order)) => {
            tracing::info!(status = ?order.status, "order already ended; expiry ignored")
        }
        Err(TransitionRefused::NotFound) => return Err(Failure::reject("no such order")),
        Err(TransitionRefused::Refused(Refusal::NotDueYet(early))) => {
            // Clocks a little apart: look again when it is due. Far too
            // early, it ends as a dead letter, and the sweep expires the
            // order on time regardless.
            let wait = early.to_std().unwrap_or_default() + Duration::from_millis(50);
            return Err(Failure::RetryIn(
                wait.min(LONGEST_WAIT),
                anyhow!("announced {early} before the order's time is up"),
            ));
        }
        Err(TransitionRefused::Refused(refusal)) => {
            return Err(Failure::reject(format!("expiry refused: {refusal}")));
        }
    }
    Ok(Outcome::applied())
}
