//! Builds the payments service: database, bus, Stripe, outbox relay,
//! refunder, listeners, routes.

use common::bus::Bus;
use common::health::Readiness;
use common::http::Server;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::refunder::Refunder;
use crate::repository::Payments;
use crate::routes::{self, AppState};
use crate::stripe::Stripe;

/// The payments service, bound to its port and consuming, not yet serving HTTP.
pub type Application = Server;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let service = &settings.service;
    let (_client, database) = common::mongo::connect(&service.mongo_uri, &service.mongo_db).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let payments = Payments::new(&database);
    payments.init().await?;
    let stripe = Stripe::new(&settings.stripe)?;
    let refunder = Refunder::new(payments.clone(), stripe.clone());

    let mut background = listeners::start(
        &bus,
        &settings.bus.listener,
        &payments,
        &refunder,
        &shutdown,
    )
    .await?;
    background.push(payments.outbox().start_relay(bus.clone(), shutdown.clone()));
    background.push(refunder.start(shutdown.clone()));

    let state = AppState {
        payments,
        stripe,
        refunder,
        sessions: service.sessions(),
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    let router = common::http::finish(routes::router(state), readiness);
    Server::bind(&service.host, service.port, router, shutdown, background).await
}
