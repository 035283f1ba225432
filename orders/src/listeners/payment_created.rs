//! `payment.created`: the order is paid and complete. A payment for an
//! order that was cancelled meanwhile leaves it cancelled; payments refunds it.

use common::events::PaymentCreated;
use common::handling::{Failure, Handled, Outcome};

use super::record_id;
use crate::domain::Command;
use crate::repository::{Orders, TransitionRefused, Transitioned};

#[tracing::instrument(skip_all, fields(order_id = %event.order_id, payment_id = %event.id))]
pub async fn complete(orders: Orders, event: PaymentCreated) -> Handled {
    let id = record_id(&event.order_id)?;
    match orders.transition(id, None, Command::Pay).await? {
        Ok(Transitioned::Changed(_)) => tracing::info!("order complete"),
        Ok(Transitioned::Unchanged(_)) => return Ok(Outcome::Duplicate),
        Err(TransitionRefused::Refused(refusal)) => {
            tracing::info!(%refusal, "payment for an ended order; payments refunds it")
        }
        Err(TransitionRefused::NotFound) => return Err(Failure::reject("no such order")),
    }
    Ok(Outcome::applied())
}
