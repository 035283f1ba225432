//! Builds the expiration service: Redis, bus, the scheduler, the listener,
//! and the health routes.

use common::bus::Bus;
use common::health::Readiness;
use common::http::Server;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

/// The expiration service, bound to its port and consuming, not yet serving HTTP.
pub type Application = Server;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let schedule = Schedule::connect(settings.redis_url.expose(), &settings.redis_prefix).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let scheduler = Scheduler::new(schedule.clone(), bus.clone(), settings.claim_lease);

    let mut background = listeners::start(
        &bus,
        &settings.bus.listener,
        &schedule,
        &scheduler,
        &shutdown,
    )
    .await?;
    background.push(scheduler.start(shutdown.clone()));

    let readiness = Readiness::new().nats(bus).check("redis", move || {
        let schedule = schedule.clone();
        async move { schedule.ping().await }
    });
    let router = common::http::finish(axum::Router::new(), readiness);
    Server::bind(&settings.host, settings.port, router, shutdown, background).await
}
