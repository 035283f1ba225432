//! The events the payments service consumes: the orders it replicates.

mod order_cancelled;
mod order_completed;
mod order_created;

use common::bus::Bus;
use common::config::ListenerConfig;
use common::consumers::Consumers;
use common::handling::Failure;
use common::inbox::Inbox;
use mongodb::bson::oid::ObjectId;

use crate::refunder::Refunder;
use crate::repository::Payments;

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "payments";

/// Every event this service handles, and with what.
pub fn consumers(
    bus: &Bus,
    config: &ListenerConfig,
    payments: &Payments,
    refunder: &Refunder,
    inbox: Inbox,
) -> Consumers {
    let (created, cancelled, completed) = (payments.clone(), payments.clone(), payments.clone());
    let refunder = refunder.clone();
    Consumers::new(bus, SERVICE, config)
        .with_inbox(inbox)
        .on(move |event| order_created::replicate(created.clone(), event))
        .on(move |event| order_cancelled::replicate(cancelled.clone(), refunder.clone(), event))
        .on(move |event| order_completed::replicate(completed.clone(), event))
}

fn order_id(raw: &str) -> Result<ObjectId, Failure> {
    common::mongo::parse_id(raw)
        .ok_or_else(|| Failure::reject(format!("order id {raw:?} is malformed")))
}
