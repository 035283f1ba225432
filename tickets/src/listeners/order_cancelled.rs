//! `order.cancelled`: the ticket is for sale again, but only if that very
//! hold is the ticket's latest; a later order's hold is never released.

use common::events::OrderCancelled;
use common::handling::Handled;

use super::apply;
use crate::domain::{Ending, OrderEvent};
use crate::repository::Tickets;

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id, hold = event.ticket.hold))]
pub async fn release(tickets: Tickets, event: OrderCancelled) -> Handled {
    let ended = OrderEvent::Ended {
        order: &event.id,
        hold: event.ticket.hold,
        ending: Ending::Release,
    };
    apply(&tickets, &event.id, &event.ticket.id, ended).await
}
