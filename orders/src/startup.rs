//! Builds the orders service: database, bus, outbox relay, listeners, routes.

use anyhow::Context as _;
use common::bus::Bus;
use common::health::Readiness;
use common::http::Server;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::repository::Orders;
use crate::routes::{self, AppState};

/// The orders service, bound to its port and consuming, not yet serving HTTP.
pub type Application = Server;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let service = &settings.service;
    let (_client, database) = common::mongo::connect(&service.mongo_uri, &service.mongo_db).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let orders = Orders::new(&database);
    orders.init().await?;

    let mut background = listeners::start(&bus, &settings.bus.listener, &orders, &shutdown).await?;
    background.push(orders.outbox().start_relay(bus.clone(), shutdown.clone()));

    let state = AppState {
        orders,
        sessions: service.sessions(),
        expiration_window: chrono::Duration::from_std(settings.expiration_window)
            .context("EXPIRATION_WINDOW_SECONDS is too large")?,
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    let router = common::http::finish(routes::router(state), readiness);
    Server::bind(&service.host, service.port, router, shutdown, background).await
}
