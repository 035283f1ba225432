//! `payment.refunded`: the payment of a cancelled order was given back; the
//! order shows it.

use common::events::PaymentRefunded;
use common::handling::{Failure, Handled, Outcome};

use super::record_id;
use crate::repository::Orders;

#[tracing::instrument(skip_all, fields(order_id = %event.order_id, payment_id = %event.id))]
pub async fn note(orders: Orders, event: PaymentRefunded) -> Handled {
    let id = record_id(&event.order_id)?;
    if !orders.note_refund(id, &event.stripe_refund_id).await? {
        return Err(Failure::reject("no such order"));
    }
    Ok(Outcome::applied())
}
