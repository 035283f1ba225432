//! The events the orders service consumes, one file per event: the tickets
//! it replicates, expiry and payment.

mod expiration_complete;
mod payment_created;
mod payment_refunded;
mod ticket_created;
mod ticket_updated;

use common::bus::Bus;
use common::config::ListenerConfig;
use common::consumers::Consumers;
use common::handling::Failure;
use common::inbox::Inbox;
use mongodb::bson::oid::ObjectId;

use crate::repository::Orders;

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "orders";

/// Every event this service handles, and with what.
pub fn consumers(bus: &Bus, config: &ListenerConfig, orders: &Orders, inbox: Inbox) -> Consumers {
    let (created, updated, expired, paid, refunded) = (
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
        orders.clone(),
    );
    Consumers::new(bus, SERVICE, config)
        .with_inbox(inbox)
        .on(move |event| ticket_created::replicate(created.clone(), event))
        .on(move |event| ticket_updated::replicate(updated.clone(), event))
        .on(move |event| expiration_complete::expire(expired.clone(), event))
        .on(move |event| payment_created::complete(paid.clone(), event))
        .on(move |event| payment_refunded::note(refunded.clone(), event))
}

/// A record id from an event; one that cannot be ours can never succeed.
fn record_id(raw: &str) -> Result<ObjectId, Failure> {
    common::mongo::parse_id(raw).ok_or_else(|| Failure::reject(format!("id {raw:?} is malformed")))
}
