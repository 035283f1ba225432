//! `/healthz` (the process and all its background tasks run) and `/readyz`
//! (the servers it needs answer).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use futures::future::{BoxFuture, join_all};
use serde_json::json;

use crate::bus::Bus;
use crate::error::{ErrorBody, ErrorItem};
use crate::supervisor::Liveness;

/// A check gets this long before its server counts as unreachable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

type Check = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// The servers a service needs before it takes traffic.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(&'static str, Check)>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check.
    pub fn check<F, Fut>(mut self, name: &'static str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.checks
            .push((name, Arc::new(move || Box::pin(check()))));
        self
    }

    pub fn mongo(self, database: mongodb::Database) -> Self {
        self.check("mongo", move || {
            let database = database.clone();
            async move { crate::mongo::ping(&database).await }
        })
    }

    pub fn nats(self, bus: Bus) -> Self {
        self.check("nats", move || {
            let connected = bus.is_connected();
            async move {
                if connected {
                    Ok(())
                } else {
                    anyhow::bail!("not connected")
                }
            }
        })
    }

    /// The names of the servers that did not answer.
    async fn failing(&self) -> Vec<&'static str> {
        let results = join_all(self.checks.iter().map(|(name, check)| async move {
            match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(Ok(())) => None,
                Ok(Err(err)) => {
                    tracing::warn!(
                        server = name,
                        error = format!("{err:#}"),
                        "readiness check failed"
                    );
                    Some(*name)
                }
                Err(_) => {
                    tracing::warn!(server = name, "readiness check timed out");
                    Some(*name)
                }
            }
        }))
        .await;
        results.into_iter().flatten().collect()
    }

    /// The health routes: live while nothing in `liveness` has stopped.
    pub fn router(self, liveness: Liveness) -> Router {
        Router::new()
            .route("/healthz", get(move || live(liveness.clone())))
            .route("/readyz", get(move || self.answer()))
    }

    async fn answer(self) -> axum::response::Response {
        let failing = self.failing().await;
        if failing.is_empty() {
            (StatusCode::OK, axum::Json(json!({ "status": "ready" }))).into_response()
        } else {
            let errors = failing
                .into_iter()
                .map(|name| ErrorItem::new(format!("{name} is unreachable")))
                .collect();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(ErrorBody { errors }),
            )
                .into_response()
        }
    }
}

async fn live(liveness: Liveness) -> axum::response::Response {
    let stopped = liveness.stopped();
    if stopped.is_empty() {
        return axum::Json(json!({ "status": "ok" })).into_response();
    }
    let errors = stopped.into_iter().map(ErrorItem::new).collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(ErrorBody { errors }),
    )
        .into_response()
}
