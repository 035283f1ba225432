//! `order.created`: the ticket becomes held by the order.

use common::events::OrderCreated;
use common::listener::Handled;

use super::{parse_id, verdict};
use crate::repository::Tickets;

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id))]
pub async fn hold(tickets: Tickets, event: OrderCreated) -> Handled {
    let order = parse_id("order", &event.id)?;
    let ticket = parse_id("ticket", &event.ticket.id)?;
    verdict(tickets.hold(order, event.version, ticket).await?)
}
