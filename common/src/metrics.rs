//! The platform's metric families, named once, and the process's exporter.
//! Recorded through the `metrics` facade and rendered by
//! `metrics-exporter-prometheus` at each service's `GET /metrics`. Label
//! values are templates and names, never raw paths or ids.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

/// How often the gauges that ask a server (consumer lag, inbox and outbox
/// backlogs) are read again.
pub const GAUGE_EVERY: Duration = Duration::from_secs(5);

/// The buckets of every `_seconds` histogram: a millisecond to a minute.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How often histograms' recent samples are folded in between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static EXPORTER: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's exporter, installed as the global recorder on first use.
/// One per process: services run in one test process share it.
pub fn exporter() -> &'static PrometheusHandle {
    EXPORTER.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            .expect("a thread for the metrics' upkeep");
        handle
    })
}

/// `GET /metrics`, in Prometheus's text format. A request that came
/// through a proxy (the local one or the ingress, which both add
/// `X-Forwarded-For`) is answered 404: metrics are for the scraper, which
/// reaches a pod directly.
pub async fn render(headers: HeaderMap) -> Response {
    if headers.contains_key("x-forwarded-for") {
        return crate::error::not_found().await.into_response();
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        exporter().render(),
    )
        .into_response()
}

/// Counts every request and times it, by the route's template (`fallback`
/// for a path no route matched), method and status.
pub async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_string(), |path| path.as_str().to_string());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("route", route),
        ("method", method.to_string()),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A method as a label: the standard ones by name, anything else as one.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

/// One event the server stored under `subject` (a repeat it dropped is not
/// counted).
pub fn published(subject: &str) {
    metrics::counter!("events_published_total", "subject" => subject.to_string()).increment(1);
}

/// One event handled by `consumer`, and how it ended: `applied`,
/// `duplicate`, `early`, `retried`, `dead_lettered`. An early event counts
/// as `early` when it is kept and as `applied` when it applies from the
/// inbox, so `applied` is every event that took effect.
pub fn handled(consumer: &str, outcome: &'static str) {
    handled_by(consumer, outcome, 1);
}

/// Shows `consumer`'s counters at 0 from its start: an alert on their
/// increase needs a sample from before the first one.
pub fn consumer_started(consumer: &str) {
    for outcome in ["applied", "duplicate", "early", "retried", "dead_lettered"] {
        handled_by(consumer, outcome, 0);
    }
}

fn handled_by(consumer: &str, outcome: &'static str, count: u64) {
    metrics::counter!(
        "events_handled_total",
        "consumer" => consumer.to_string(),
        "outcome" => outcome
    )
    .increment(count);
}

/// How long one handler ran.
pub fn handle_duration(consumer: &str, seconds: f64) {
    metrics::histogram!("event_handle_duration_seconds", "consumer" => consumer.to_string())
        .record(seconds);
}

/// A gauge without labels, set to `value`.
pub fn set(gauge: &'static str, value: u64) {
    metrics::gauge!(gauge).set(value as f64);
}

/// Messages of `consumer` not yet delivered, or delivered and not yet acked.
pub fn consumer_pending(consumer: &str, messages: u64) {
    metrics::gauge!("consumer_pending_messages", "consumer" => consumer.to_string())
        .set(messages as f64);
}

/// Runs `sample` every [`GAUGE_EVERY`] until `shutdown`; a failed reading
/// is logged and leaves the gauges as they were.
pub async fn sample_every<F, Fut>(what: &'static str, shutdown: CancellationToken, mut sample: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    while !shutdown.is_cancelled() {
        if let Err(err) = sample().await {
            tracing::warn!(
                gauge = what,
                error = format!("{err:#}"),
                "cannot read a gauge"
            );
        }
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep(GAUGE_EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_method_outside_the_standard_ones_is_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
