//! `ticket.updated`: the next version of a ticket, applied only on top of
//! the one before it.

use common::events::TicketUpdated;
use common::handling::Handled;

use super::record_id;
use crate::repository::{Orders, TicketData};

#[tracing::instrument(skip_all, fields(ticket_id = %event.id, version = event.version))]
pub async fn replicate(orders: Orders, event: TicketUpdated) -> Handled {
    let ticket = TicketData {
        id: record_id(&event.id)?,
        version: event.version,
        title: event.title,
        price: event.price,
        user_id: event.user_id,
        status: event.status,
        starts_at: event.starts_at,
    };
    Ok(orders.apply_ticket(ticket).await?)
}
