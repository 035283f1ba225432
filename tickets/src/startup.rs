//! Builds the tickets service: database, bus, then (port bound) the
//! listeners and the outbox relay under supervision, and the routes.

use common::bus::Bus;
use common::health::Readiness;
use common::inbox::Inbox;
use common::revocations::Revocations;
use common::service::{Application, Builder};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::repository::Tickets;
use crate::routes::{self, AppState};

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let service = &settings.service;
    let (_client, database) = common::mongo::connect(&service.mongo_uri, &service.mongo_db).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let tickets = Tickets::new(&database);
    tickets.init().await?;

    let revocations = Revocations::new(&database);
    revocations.init().await?;

    let mut app = Builder::bind(listeners::SERVICE, &service.http, shutdown).await?;
    let consumers = listeners::consumers(
        &bus,
        &settings.bus.listener,
        &tickets,
        Inbox::new(&database),
    );
    let sellers = tickets.clone();
    revocations
        .consume(consumers, move |seller, banned| {
            let sellers = sellers.clone();
            async move { Ok(sellers.seller_banned(&seller, banned).await?) }
        })
        .start(app.supervisor())
        .await?;
    let sessions = app.checked_sessions(&service.sessions(), &revocations);
    let relay = common::relay::run(tickets.outbox().clone(), bus.clone(), app.shutdown());
    app.spawn("outbox relay", relay);

    let state = AppState {
        tickets,
        sessions: sessions.clone(),
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    Ok(app.api_with_sessions(routes::router(state), readiness, sessions))
}
