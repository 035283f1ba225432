//! `order.completed`: the ticket is sold and never for sale again.

use common::events::OrderCompleted;
use common::listener::Handled;

use super::{parse_id, verdict};
use crate::repository::{Ending, Tickets};

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id))]
pub async fn sell(tickets: Tickets, event: OrderCompleted) -> Handled {
    let order = parse_id("order", &event.id)?;
    let ticket = parse_id("ticket", &event.ticket.id)?;
    verdict(
        tickets
            .end_order(order, event.version, ticket, Ending::Sell)
            .await?,
    )
}
