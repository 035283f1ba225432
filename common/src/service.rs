//! The one way every service is put together (zero2prod's
//! `Application::build`): bind the port first, then start the background
//! work under supervision, then serve with the shared layers, and on
//! shutdown give everything a deadline below the platform's grace period.

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::HttpSettings;
use crate::error::not_found;
use crate::health::Readiness;
use crate::revocations::Revocations;
use crate::session::Sessions;
use crate::supervisor::Supervisor;

/// A service being built: its port bound, its background work starting.
pub struct Builder {
    name: &'static str,
    http: HttpSettings,
    listener: TcpListener,
    supervisor: Supervisor,
}

impl Builder {
    /// Binds `host:port` (port 0 picks a free one) before anything consumes.
    pub async fn bind(
        name: &'static str,
        http: &HttpSettings,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        // Metrics recorded from now on reach `/metrics`.
        crate::metrics::exporter();
        let address = format!("{}:{}", http.host, http.port);
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        Ok(Self {
            name,
            http: http.clone(),
            listener,
            supervisor: Supervisor::new(shutdown),
        })
    }

    /// Where background work is started: it must end on `shutdown()`.
    pub fn supervisor(&mut self) -> &mut Supervisor {
        &mut self.supervisor
    }

    pub fn shutdown(&self) -> CancellationToken {
        self.supervisor.shutdown()
    }

    /// Runs `task` as `name` under supervision.
    pub fn spawn(
        &mut self,
        name: impl Into<String>,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        self.supervisor.spawn(name, task);
    }

    /// Sessions checked against `revocations`, which is read back under
    /// supervision from now on.
    pub fn checked_sessions(&mut self, sessions: &Sessions, revocations: &Revocations) -> Sessions {
        let refresher = revocations.clone().run(self.shutdown());
        self.spawn("revocations", refresher);
        sessions.checked_against(revocations.view())
    }

    /// An API whose stale session cookies (tampered with, expired, ended,
    /// a banned user's) are cleared in every answer.
    pub fn api_with_sessions(
        self,
        routes: Router,
        readiness: Readiness,
        sessions: Sessions,
    ) -> Application {
        let routes = routes.layer(axum::middleware::from_fn_with_state(
            sessions,
            crate::session::clear_stale_cookie,
        ));
        self.api(routes, readiness)
    }

    /// An API: unknown routes answer 404 and unknown methods 405, in the
    /// error shape, and browsers may change things only from the
    /// platform's own pages.
    pub fn api(self, routes: Router, readiness: Readiness) -> Application {
        let routes = routes
            .method_not_allowed_fallback(crate::error::method_not_allowed)
            .fallback(not_found)
            .layer(axum::middleware::from_fn(crate::http::same_origin_only));
        self.pages(routes, readiness)
    }

    /// Routes that bring their own fallback (the web client's HTML pages).
    pub fn pages(self, routes: Router, readiness: Readiness) -> Application {
        let own = readiness
            .router(self.supervisor.liveness())
            .route("/metrics", axum::routing::get(crate::metrics::render))
            .method_not_allowed_fallback(crate::error::method_not_allowed);
        let routes = routes.merge(own);
        Application {
            name: self.name,
            router: crate::http::with_layers(routes, self.http.request_timeout),
            listener: self.listener,
            supervisor: self.supervisor,
            http: self.http,
        }
    }
}

/// A built service: bound, its background work running, not yet serving.
pub struct Application {
    name: &'static str,
    listener: TcpListener,
    router: Router,
    supervisor: Supervisor,
    http: HttpSettings,
}

impl Application {
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    /// Serves until shutdown, then lets the requests and the messages in
    /// hand finish, for at most the shutdown deadline.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.supervisor.shutdown();
        let mut server = tokio::spawn(
            axum::serve(self.listener, self.router)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .into_future(),
        );
        let ended = tokio::select! {
            ended = &mut server => Some(ended),
            _ = shutdown.cancelled() => None,
        };
        // A server that ended by itself takes the background work with it.
        shutdown.cancel();
        let supervisor = self.supervisor;
        let finished = async {
            let served = match ended {
                Some(ended) => ended,
                None => server.await,
            };
            supervisor.join().await;
            served
                .context("the server task failed")?
                .context("serving failed")
        };
        let stopped = tokio::time::timeout(self.http.shutdown_timeout, finished).await;
        crate::telemetry::flush();
        match stopped {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    service = self.name,
                    deadline = ?self.http.shutdown_timeout,
                    "shutdown passed its deadline; what is left is abandoned"
                );
                Ok(())
            }
        }
    }
}
