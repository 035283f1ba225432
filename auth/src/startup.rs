//! Builds the auth service: database, routes.

use common::health::Readiness;
use common::http::Server;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::Password;
use crate::repository::Users;
use crate::routes::{self, AppState};

/// The auth service, bound to its port, not yet serving.
pub type Application = Server;

pub async fn build(
    settings: &Settings,
    shutdown: CancellationToken,
) -> anyhow::Result<Application> {
    let (_client, database) =
        common::mongo::connect(&settings.mongo_uri, &settings.mongo_db).await?;
    let users = Users::new(&database);
    users.init().await?;
    let decoy = Password::parse("decoy password, never anyone's")
        .map_err(anyhow::Error::msg)?
        .hash()
        .await?;
    let state = AppState {
        users,
        sessions: settings.sessions(),
        decoy_hash: decoy,
    };
    let router = common::http::finish(routes::router(state), Readiness::new().mongo(database));
    Server::bind(&settings.host, settings.port, router, shutdown, Vec::new()).await
}
