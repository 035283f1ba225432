//! Builds the auth service: database, routes, listener.

use std::net::SocketAddr;

use anyhow::Context as _;
use common::health::Readiness;
use common::session::Sessions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::Password;
use crate::repository::Users;
use crate::routes::{self, AppState};

/// A built service, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    shutdown: CancellationToken,
}

impl Application {
    pub async fn build(settings: &Settings, shutdown: CancellationToken) -> anyhow::Result<Self> {
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
            sessions: Sessions::new(&settings.jwt_key, settings.session_ttl, !settings.dev_mode),
            decoy_hash: decoy,
        };
        let router = common::http::finish(routes::router(state), Readiness::new().mongo(database));
        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        Ok(Self {
            listener,
            router,
            shutdown,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    /// Serves until the shutdown token is cancelled, then finishes the requests in hand.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        common::http::serve(self.listener, self.router, self.shutdown).await
    }
}
