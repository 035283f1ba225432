//! `order.cancelled`: the ticket is for sale again, but only if that very
//! order still holds it; a later order's hold is never released.

use common::events::OrderCancelled;
use common::listener::Handled;

use super::{parse_id, verdict};
use crate::repository::{Ending, Tickets};

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id))]
pub async fn release(tickets: Tickets, event: OrderCancelled) -> Handled {
    let order = parse_id("order", &event.id)?;
    let ticket = parse_id("ticket", &event.ticket.id)?;
    verdict(
        tickets
            .end_order(order, event.version, ticket, Ending::Release)
            .await?,
    )
}
