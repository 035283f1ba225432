//! `order.cancelled`: the order can no longer be paid; if it was paid
//! meanwhile, the payment is refunded.

use common::events::{OrderCancelled, OrderStatus};
use common::handling::Handled;

use super::order_id;
use crate::refunder::Refunder;
use crate::repository::Payments;

#[tracing::instrument(skip_all, fields(order_id = %event.id, version = event.version))]
pub async fn replicate(payments: Payments, refunder: Refunder, event: OrderCancelled) -> Handled {
    let changed = payments
        .change_status(order_id(&event.id)?, event.version, OrderStatus::Cancelled)
        .await?;
    if changed.refund_due {
        tracing::warn!("a paid order was cancelled; refunding");
        refunder.wake();
    }
    Ok(changed.outcome)
}
