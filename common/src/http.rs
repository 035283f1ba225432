//! What every service's HTTP side shares: the layers (request ids, one log
//! line per request, body limit), the 404 fallback, serving with graceful
//! shutdown, and the shutdown signal itself.

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::not_found;
use crate::health::Readiness;

/// Bodies above this are refused with a 413 before they are parsed.
pub const BODY_LIMIT: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a service's routes with the health routes, the 404 fallback in the
/// error shape and the shared layers.
pub fn finish(routes: Router, readiness: Readiness) -> Router {
    with_layers(routes.fallback(not_found), readiness)
}

/// Adds the health routes and the shared layers to routes that bring their
/// own fallback (the web client answers unknown pages in HTML).
pub fn with_layers(routes: Router, readiness: Readiness) -> Router {
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID));
    routes
        .merge(readiness.router())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(layers)
}

/// Serves `router` on `listener` until `shutdown`, then lets the requests
/// in hand finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}

/// A built service: bound to its port, its background work (listeners,
/// outbox relay) started, not yet serving HTTP.
pub struct Server {
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    background: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds `host:port` (port 0 picks a free one) for `router`. The
    /// background tasks must end when `shutdown` is cancelled.
    pub async fn bind(
        host: &str,
        port: u16,
        router: Router,
        shutdown: CancellationToken,
        background: Vec<JoinHandle<()>>,
    ) -> anyhow::Result<Self> {
        let address = format!("{host}:{port}");
        let listener = TcpListener::bind(&address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        Ok(Self {
            listener,
            router,
            shutdown,
            background,
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

    /// Serves until the shutdown token is cancelled, then finishes the
    /// requests and the messages in hand before it returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = serve(self.listener, self.router, self.shutdown).await;
        for task in self.background {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a background task failed");
            }
        }
        served
    }
}

/// A token that is cancelled on SIGTERM or Ctrl-C.
pub fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(err) => {
                        tracing::error!(error = %err, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        trigger.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    token
}
