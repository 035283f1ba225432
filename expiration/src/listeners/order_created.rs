//! `order.created`: the order expires at its `expiresAt`.

use common::events::OrderCreated;
use common::handling::{Failure, Handled, Outcome};

use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

#[tracing::instrument(skip_all, fields(order_id = %event.id, expires_at = %event.expires_at))]
pub async fn schedule(schedule: Schedule, scheduler: Scheduler, event: OrderCreated) -> Handled {
    schedule
        .schedule(&event.id, event.expires_at)
        .await
        .map_err(|err| Failure::Retry(err.into()))?;
    scheduler.scheduled(event.expires_at);
    Ok(Outcome::applied())
}
