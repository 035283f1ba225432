//! The events the tickets service consumes, one file per event: orders hold,
//! release and buy tickets.

mod order_cancelled;
mod order_completed;
mod order_created;

use common::bus::Bus;
use common::config::ListenerConfig;
use common::consumers::Consumers;
use common::handling::{Failure, Handled};
use common::inbox::Inbox;
use mongodb::bson::oid::ObjectId;

use crate::domain::OrderEvent;
use crate::repository::{Tickets, Unappliable};

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "tickets";

/// Every event this service handles, and with what.
pub fn consumers(bus: &Bus, config: &ListenerConfig, tickets: &Tickets, inbox: Inbox) -> Consumers {
    let (created, cancelled, completed) = (tickets.clone(), tickets.clone(), tickets.clone());
    Consumers::new(bus, SERVICE, config)
        .with_inbox(inbox)
        .on(move |event| order_created::hold(created.clone(), event))
        .on(move |event| order_cancelled::release(cancelled.clone(), event))
        .on(move |event| order_completed::sell(completed.clone(), event))
}

/// A ticket or order id from an event; a malformed one can never succeed.
fn parse_id(what: &str, raw: &str) -> Result<ObjectId, Failure> {
    common::mongo::parse_id(raw)
        .ok_or_else(|| Failure::reject(format!("{what} id {raw:?} is malformed")))
}

/// Applies an order event to its ticket.
async fn apply(tickets: &Tickets, order: &str, ticket: &str, event: OrderEvent<'_>) -> Handled {
    parse_id("order", order)?;
    let ticket = parse_id("ticket", ticket)?;
    match tickets.apply_order(ticket, event).await? {
        Ok(outcome) => Ok(outcome),
        Err(Unappliable::UnknownTicket) => Err(Failure::reject("no such ticket")),
        Err(Unappliable::Contradiction(why)) => Err(Failure::reject(why)),
    }
}
