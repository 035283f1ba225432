//! Logging and tracing: one line per request or event, JSON outside dev
//! mode, each line of a request or an event carrying its `trace_id`. Traces
//! follow W3C Trace Context: an incoming `traceparent` is continued (a new
//! trace starts otherwise), answered back, sent on with the API calls a
//! request makes, stored with the outbox's rows and published in the NATS
//! headers of every event, and continued by every listener. With
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans are exported over OTLP/HTTP.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::OnceLock;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The header that carries a trace from one process to the next.
pub const TRACEPARENT: &str = "traceparent";

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Installs the global subscriber for `service`. `RUST_LOG` overrides the
/// default level. A second call (several services in one test process)
/// keeps the first.
pub fn init(service: &'static str, json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let provider = PROVIDER.get_or_init(|| tracer_provider(service));
    let spans = tracing_opentelemetry::layer().with_tracer(provider.tracer(service));
    let lines = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal());
    let registry = tracing_subscriber::registry().with(filter).with(spans);
    let _ = if json {
        registry.with(lines.json().flatten_event(true)).try_init()
    } else {
        registry.with(lines).try_init()
    };
}

/// Spans get trace ids whether or not they are exported; they are sent to
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP/HTTP, JSON) when it is set.
fn tracer_provider(service: &'static str) -> SdkTracerProvider {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").unwrap_or_default();
    let exporter = (!endpoint.is_empty()).then(|| {
        use opentelemetry_otlp::{Protocol, WithExportConfig};
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpJson)
            .build()
    });
    match exporter {
        Some(Ok(exporter)) => builder.with_batch_exporter(exporter).build(),
        Some(Err(err)) => {
            eprintln!("cannot export spans to {endpoint}: {err}");
            builder.build()
        }
        None => builder.build(),
    }
}

/// Sends the spans still buffered; the last call before a process exits.
pub fn flush() {
    if let Some(provider) = PROVIDER.get()
        && let Err(err) = provider.force_flush()
    {
        tracing::warn!(error = %err, "cannot send the last spans");
    }
}

/// Continues in `span` (not yet entered, with an empty `trace_id` field)
/// the trace `carrier` names, if it names one, and records its trace id.
pub fn continue_trace(span: &tracing::Span, carrier: Option<&dyn Extractor>) {
    if let Some(carrier) = carrier {
        let parent = TraceContextPropagator::new().extract(carrier);
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
    }
    let trace_id = span.context().span().span_context().trace_id();
    span.record("trace_id", tracing::field::display(trace_id));
}

/// The current span's trace as a `traceparent` value.
pub fn traceparent() -> Option<String> {
    let mut carrier = HashMap::new();
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut Carrier(&mut carrier));
    carrier.remove(TRACEPARENT)
}

/// Answers every request with the `traceparent` of its trace.
pub async fn answer_traceparent(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Some(value) = traceparent().and_then(|v| HeaderValue::from_str(&v).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(TRACEPARENT), value);
    }
    response
}

/// Reads trace context from HTTP headers.
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Reads trace context from a NATS message's headers.
pub struct NatsHeaders<'a>(pub &'a async_nats::HeaderMap);

impl Extractor for NatsHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

struct Carrier<'a>(&'a mut HashMap<String, String>);

impl Injector for Carrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_received_is_the_one_passed_on() {
        init("telemetry-test", false);
        let sent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static(sent));
        let span = tracing::info_span!("request", trace_id = tracing::field::Empty);

        continue_trace(&span, Some(&HttpHeaders(&headers)));
        let passed_on = span.in_scope(traceparent).unwrap();

        assert!(
            passed_on.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "{passed_on}"
        );
        assert_ne!(passed_on, sent, "a span of its own in the same trace");
    }

    #[test]
    fn without_a_traceparent_a_new_trace_starts() {
        init("telemetry-test", false);
        let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
        continue_trace(&span, None);
        let passed_on = span.in_scope(traceparent).unwrap();
        assert!(
            !passed_on.contains("00000000000000000000000000000000"),
            "{passed_on}"
        );
    }
}
