//! Builds the expiration service: Redis, bus, then (port bound) the
//! listener and the scheduler under supervision, and the health routes.

use common::bus::Bus;
use common::health::Readiness;
use common::service::{Application, Builder};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::schedule::Schedule;
use crate::scheduler::Scheduler;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let schedule = Schedule::connect(settings.redis_url.expose(), &settings.redis_prefix).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let scheduler = Scheduler::new(schedule.clone(), bus.clone(), settings.claim_lease);

    let mut app = Builder::bind(listeners::SERVICE, &settings.http, shutdown).await?;
    listeners::consumers(&bus, &settings.bus.listener, &schedule, &scheduler)
        .start(app.supervisor())
        .await?;
    app.spawn("expiration gauge", scheduler.clone().gauge(app.shutdown()));
    app.spawn("expiry scheduler", scheduler.run(app.shutdown()));

    let readiness = Readiness::new().nats(bus).check("redis", move || {
        let schedule = schedule.clone();
        async move { schedule.ping().await }
    });
    Ok(app.api(axum::Router::new(), readiness))
}
