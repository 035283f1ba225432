//! `order.created`: the ticket becomes held by the order.

use common::events::OrderCreated;
use common::listener::Handled;

use super::{ticket_id, verdict};
use crate::repository::Tickets;

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id))]
pub async fn hold(tickets: Tickets, event: OrderCreated) -> Handled {
    let ticket = ticket_id(&event.ticket.id)?;
    verdict(tickets.hold(&event.id, event.version, ticket).await?)
}
