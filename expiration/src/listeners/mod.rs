//! The events the expiration service consumes: only `order.created`.

mod order_created;

use common::bus::Bus;
use common::listener::{ListenerConfig, listen};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "expiration";

pub async fn start(
    bus: &Bus,
    config: &ListenerConfig,
    schedule: &Schedule,
    scheduler: &Scheduler,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let (schedule, scheduler) = (schedule.clone(), scheduler.clone());
    Ok(vec![
        listen(bus, SERVICE, config, shutdown.clone(), move |event| {
            order_created::schedule(schedule.clone(), scheduler.clone(), event)
        })
        .await?,
    ])
}
