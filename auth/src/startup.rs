//! Builds the auth service: database, bus, then (port bound) the outbox
//! relay, its own listeners of bans and ended sessions, and the routes.

use std::sync::Arc;

use common::bus::Bus;
use common::consumers::Consumers;
use common::health::Readiness;
use common::inbox::Inbox;
use common::revocations::Revocations;
use common::service::{Application, Builder};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::{Hasher, Password};
use crate::repository::{Attempts, Users};
use crate::routes::{self, Admins, AppState};

/// The name the durable consumers are bound under.
pub const SERVICE: &str = "auth";

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let service = &settings.service;
    let (_client, database) = common::mongo::connect(&service.mongo_uri, &service.mongo_db).await?;
    let bus = Bus::connect(&settings.bus).await?;
    let users = Users::new(&database);
    users.init().await?;
    let attempts = Attempts::new(&database);
    attempts.init().await?;
    let revocations = Revocations::new(&database);
    revocations.init().await?;
    let hasher = Hasher::for_this_machine();
    let decoy = Password::parse("decoy password, never anyone's")
        .map_err(anyhow::Error::msg)?
        .hash(&hasher)
        .await
        .map_err(|_| anyhow::anyhow!("cannot hash the decoy password"))??;

    let mut app = Builder::bind(SERVICE, &service.http, shutdown).await?;
    // Auth hears its own bans and sign-outs as every service does.
    let consumers =
        Consumers::new(&bus, SERVICE, &settings.bus.listener).with_inbox(Inbox::new(&database));
    revocations
        .consume(consumers, |_, _| async { Ok(()) })
        .start(app.supervisor())
        .await?;
    app.spawn(
        "outbox relay",
        common::relay::run(users.outbox().clone(), bus.clone(), app.shutdown()),
    );
    let sessions = app.checked_sessions(&service.sessions(), &revocations);

    let state = AppState {
        users,
        attempts,
        sessions: sessions.clone(),
        decoy_hash: decoy,
        hasher,
        admins: Admins(Arc::new(settings.admin_emails.clone())),
        attempts_per_minute: settings.attempts_per_minute,
    };
    let readiness = Readiness::new().mongo(database).nats(bus);
    Ok(app.api_with_sessions(routes::router(state), readiness, sessions))
}
