//! Builds the tickets service: database, bus, outbox relay, listeners, routes.

use common::bus::Bus;
use common::health::Readiness;
use common::http::Server;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::repository::Tickets;
use crate::routes::{self, AppState};

/// The tickets service, bound to its port and consuming, not yet serving HTTP.
pub type Application = Server;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let service = &settings.service;
    let (_client, database) = common::mongo::connect(&service.mongo_uri, &service.mongo_db).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let tickets = Tickets::new(&database);
    tickets.init().await?;

    let mut background =
        listeners::start(&bus, &settings.bus.listener, &tickets, &shutdown).await?;
    background.push(tickets.outbox().start_relay(bus.clone(), shutdown.clone()));

    let state = AppState {
        tickets,
        sessions: service.sessions(),
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    let router = common::http::finish(routes::router(state), readiness);
    Server::bind(&service.host, service.port, router, shutdown, background).await
}
