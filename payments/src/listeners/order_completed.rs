//! `order.completed`: the order is paid and complete.

use common::events::{OrderCompleted, OrderStatus};
use common::handling::Handled;

use super::order_id;
use crate::repository::Payments;

#[tracing::instrument(skip_all, fields(order_id = %event.id, version = event.version))]
pub async fn replicate(payments: Payments, event: OrderCompleted) -> Handled {
    let changed = payments
        .change_status(order_id(&event.id)?, event.version, OrderStatus::Complete)
        .await?;
    Ok(changed.outcome)
}
