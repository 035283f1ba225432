//! `order.created`: a new order joins the replica.

use common::events::OrderCreated;
use common::handling::Handled;

use super::order_id;
use crate::repository::{OrderData, Payments};

#[tracing::instrument(skip_all, fields(order_id = %event.id))]
pub async fn replicate(payments: Payments, event: OrderCreated) -> Handled {
    let order = OrderData {
        id: order_id(&event.id)?,
        version: event.version,
        user_id: event.user_id,
        price: event.ticket.price,
        status: event.status,
        expires_at: event.expires_at,
    };
    Ok(payments.add_order(order).await?)
}
