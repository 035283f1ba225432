//! What every service's HTTP side shares: the layers (request ids, one log
//! line per request, its metrics, a deadline per request, body limit,
//! compression), and the shutdown signal.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;

/// Bodies above this are refused with a 413 before they are parsed.
pub const BODY_LIMIT: usize = 64 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `routes` (with the health routes merged in) in the shared layers;
/// a request still running after `timeout` is answered 503.
pub fn with_layers(routes: Router, timeout: Duration) -> Router {
    let layers = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let span = tracing::info_span!(
                        "request",
                        method = %request.method(),
                        uri = %request.uri(),
                        request_id,
                        trace_id = tracing::field::Empty,
                    );
                    crate::telemetry::continue_trace(
                        &span,
                        Some(&crate::telemetry::HttpHeaders(request.headers())),
                    );
                    span
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(middleware::from_fn(crate::telemetry::answer_traceparent))
        .layer(middleware::from_fn(crate::metrics::record_request))
        .layer(middleware::from_fn_with_state(timeout, deadline));
    // Answers are compressed for clients that accept it (a listing of
    // thousands of tickets is hundreds of KiB of JSON).
    routes
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new())
        .layer(layers)
}

/// A layer's function for the APIs. A browser says in `Sec-Fetch-Site`
/// where a request comes from; one that would change something and comes
/// from another site, or from a sibling subdomain (whose requests carry our
/// `SameSite=Lax` cookie), is refused: cross-site request forgery. Clients
/// that are not browsers send no such header.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    let changes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let site = request
        .headers()
        .get("sec-fetch-site")
        .map(|v| v.as_bytes());
    if changes && matches!(site, Some(b"cross-site" | b"same-site")) {
        tracing::warn!(method = %request.method(), path = request.uri().path(), "refused a request from another site");
        return ApiError::Forbidden.into_response();
    }
    next.run(request).await
}

/// Answers 503 in the error shape for a request that outlives its deadline.
/// Dropping the handler's future abandons its work; work that must run to
/// its end (a charge) runs in a task of its own.
async fn deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%method, path, ?timeout, "request passed its deadline");
            ApiError::Unavailable.into_response()
        }
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
