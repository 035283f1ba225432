//! `order.completed`: the ticket is sold and never for sale again.

use common::events::OrderCompleted;
use common::handling::Handled;

use super::apply;
use crate::domain::{Ending, OrderEvent};
use crate::repository::Tickets;

#[tracing::instrument(skip_all, fields(order_id = %event.id, ticket_id = %event.ticket.id, hold = event.ticket.hold))]
pub async fn sell(tickets: Tickets, event: OrderCompleted) -> Handled {
    let ended = OrderEvent::Ended {
        order: &event.id,
        hold: event.ticket.hold,
        ending: Ending::Sell,
    };
    apply(&tickets, &event.id, &event.ticket.id, ended).await
}
