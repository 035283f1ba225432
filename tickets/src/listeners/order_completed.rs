//! `order.completed`: the ticket is sold and never for sale again.

use common::events::OrderCompleted;
use common::listener::Handled;

use super::{ticket_id, verdict};
use crate::repository::{Ending, Tickets};

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id))]
pub async fn sell(tickets: Tickets, event: OrderCompleted) -> Handled {
    let ticket = ticket_id(&event.ticket.id)?;
    verdict(
        tickets
            .end_order(&event.id, event.version, ticket, Ending::Sell)
            .await?,
    )
}
