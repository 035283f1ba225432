//! The events the expiration service consumes: only `order.created`.

mod order_created;

use common::bus::Bus;
use common::config::ListenerConfig;
use common::consumers::Consumers;

use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "expiration";

/// Every event this service handles, and with what. It has no database,
/// so no inbox: nothing it consumes can be early.
pub fn consumers(
    bus: &Bus,
    config: &ListenerConfig,
    schedule: &Schedule,
    scheduler: &Scheduler,
) -> Consumers {
    let (schedule, scheduler) = (schedule.clone(), scheduler.clone());
    Consumers::new(bus, SERVICE, config)
        .on(move |event| order_created::schedule(schedule.clone(), scheduler.clone(), event))
}
