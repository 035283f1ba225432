//! `ticket.created`: a new ticket joins the replica.

use common::events::{TicketCreated, TicketStatus};
use common::handling::Handled;

use super::record_id;
use crate::repository::{Orders, TicketData};

#[tracing::instrument(skip_all, fields(ticket_id = %event.id, version = event.version))]
pub async fn replicate(orders: Orders, event: TicketCreated) -> Handled {
    let ticket = TicketData {
        id: record_id(&event.id)?,
        version: event.version,
        title: event.title,
        price: event.price,
        user_id: event.user_id,
        status: TicketStatus::Available,
        starts_at: event.starts_at,
    };
    Ok(orders.apply_ticket(ticket).await?)
}
