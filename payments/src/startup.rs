//! Builds the payments service: database, bus, Stripe, then (port bound)
//! the listeners, the outbox relay, the refunder and the reconciler under
//! supervision, and the routes.

use common::bus::Bus;
use common::health::Readiness;
use common::inbox::Inbox;
use common::revocations::Revocations;
use common::service::{Application, Builder};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::listeners;
use crate::reconciler::Reconciler;
use crate::refunder::Refunder;
use crate::repository::Payments;
use crate::routes::{self, AppState};
use crate::stripe::Stripe;

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

    let revocations = Revocations::new(&database);
    revocations.init().await?;

    let mut app = Builder::bind(listeners::SERVICE, &service.http, shutdown).await?;
    let inbox = Inbox::new(&database);
    let consumers = listeners::consumers(&bus, &settings.bus.listener, &payments, &refunder, inbox);
    // A banned buyer is refused by the session check; their payments stay.
    revocations
        .consume(consumers, |_, _| async { Ok(()) })
        .start(app.supervisor())
        .await?;
    let sessions = app.checked_sessions(&service.sessions(), &revocations);
    let relay = common::relay::run(payments.outbox().clone(), bus.clone(), app.shutdown());
    app.spawn("outbox relay", relay);
    app.spawn("refunder", refunder.clone().run(app.shutdown()));
    let reconciler = Reconciler {
        payments: payments.clone(),
        stripe: stripe.clone(),
        refunder: refunder.clone(),
        settings: settings.reconcile.clone(),
    };
    app.spawn("reconciler", reconciler.run(app.shutdown()));

    let state = AppState {
        payments,
        stripe,
        refunder,
        sessions: sessions.clone(),
        webhook_secret: settings.stripe.webhook_secret.clone(),
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    Ok(app.api_with_sessions(routes::router(state), readiness, sessions))
}
