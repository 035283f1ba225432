//! `order.created`: the ticket becomes held by the order, once the hold
//! before it has ended here.

use common::events::OrderCreated;
use common::handling::Handled;

use super::apply;
use crate::domain::OrderEvent;
use crate::repository::Tickets;

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id, hold = event.ticket.hold))]
pub async fn hold(tickets: Tickets, event: OrderCreated) -> Handled {
    let placed = OrderEvent::Placed {
        order: &event.id,
        hold: event.ticket.hold,
        buyer: &event.user_id,
    };
    apply(&tickets, &event.id, &event.ticket.id, placed).await
}
