//! `expiration.complete`: an order's time ran out. Only a created order is
//! cancelled; a paid or already cancelled one stays as it is.

use anyhow::anyhow;
use common::events::ExpirationComplete;
use common::listener::{Failure, Handled};

use super::record_id;
use crate::domain::Command;
use crate::repository::{Orders, TransitionRefused, Transitioned};

#[tracing::instrument(skip_all, fields(order_id = %event.order_id))]
pub async fn expire(orders: Orders, event: ExpirationComplete) -> Handled {
    let id = record_id(&event.order_id)?;
    match orders.transition(id, None, Command::Expire).await? {
        Ok(Transitioned::Changed(_)) => tracing::info!("order expired"),
        Ok(Transitioned::Unchanged(order)) => {
            tracing::info!(status = ?order.status, "order already ended; expiry ignored")
        }
        Err(TransitionRefused::NotFound) => return Err(Failure::Reject(anyhow!("no such order"))),
        Err(TransitionRefused::Refused(refusal)) => {
            return Err(Failure::Reject(anyhow!("expiry refused: {refusal}")));
        }
    }
    Ok(())
}
