//! Builds the orders service: database, bus, then (port bound) the
//! listeners, the outbox relay and the expiry sweep under supervision, and
//! the routes.

use anyhow::Context as _;
use common::bus::Bus;
use common::health::Readiness;
use common::inbox::Inbox;
use common::revocations::Revocations;
use common::service::{Application, Builder};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::repository::Orders;
use crate::routes::{self, AppState};

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let service = &settings.service;
    let (_client, database) = common::mongo::connect(&service.mongo_uri, &service.mongo_db).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let orders = Orders::new(&database);
    orders.init().await?;

    let revocations = Revocations::new(&database);
    revocations.init().await?;

    let mut app = Builder::bind(listeners::SERVICE, &service.http, shutdown).await?;
    let consumers =
        listeners::consumers(&bus, &settings.bus.listener, &orders, Inbox::new(&database));
    let buyers = orders.clone();
    revocations
        .consume(consumers, move |user, banned| {
            // A banned buyer's unpaid orders end, and their tickets with them.
            let buyers = buyers.clone();
            async move {
                if banned {
                    buyers.cancel_unpaid_of(&user).await?;
                }
                Ok(())
            }
        })
        .start(app.supervisor())
        .await?;
    let sessions = app.checked_sessions(&service.sessions(), &revocations);
    let relay = common::relay::run(orders.outbox().clone(), bus.clone(), app.shutdown());
    app.spawn("outbox relay", relay);
    let sweep = crate::sweep::run(orders.clone(), settings.expiry_sweep, app.shutdown());
    app.spawn("expiry sweep", sweep);

    let state = AppState {
        orders,
        sessions: sessions.clone(),
        expiration_window: chrono::Duration::from_std(settings.expiration_window)
            .context("EXPIRATION_WINDOW_SECONDS is too large")?,
        max_open_orders: settings.max_open_orders,
        revocations,
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    Ok(app.api_with_sessions(routes::router(state), readiness, sessions))
}
