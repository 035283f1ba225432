//! `order.cancelled`: the ticket is for sale again, but only if that very
//! order still holds it; a later order's hold is never released.

use common::events::OrderCancelled;
use common::listener::Handled;

use super::{ticket_id, verdict};
use crate::repository::{Ending, Tickets};

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id))]
pub async fn release(tickets: Tickets, event: OrderCancelled) -> Handled {
    let ticket = ticket_id(&event.ticket.id)?;
    verdict(
        tickets
            .end_order(&event.id, event.version, ticket, Ending::Release)
            .await?,
    )
}
