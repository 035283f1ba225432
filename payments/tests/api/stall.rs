//! A stand-in for a slow network in front of localstripe: it passes every
//! request on, and holds back the answer to the first confirmation for a
//! while, as a Stripe that took the money and answered too late does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    hold: Duration,
    held: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
    http: reqwest::Client,
}

/// A running proxy; it stops when dropped.
pub struct StallingStripe {
    pub url: String,
    released: Arc<AtomicBool>,
    stop: CancellationToken,
}

impl Drop for StallingStripe {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl StallingStripe {
    /// Passes requests on to `upstream`, holding the first confirmation's
    /// answer back for `hold`.
    pub async fn start(upstream: &str, hold: Duration) -> Self {
        let released = Arc::new(AtomicBool::new(false));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_string(),
            hold,
            held: Arc::default(),
            released: released.clone(),
            http: reqwest::Client::new(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let app = Router::new().fallback(pass_on).with_state(proxy);
        let until = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(until.cancelled_owned())
                .await
        });
        Self {
            url,
            released,
            stop,
        }
    }

    /// Whether the held answer has been let go.
    pub fn released(&self) -> bool {
        self.released.load(Ordering::SeqCst)
    }
}

async fn pass_on(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let mut forwarded = proxy
        .http
        .request(parts.method.clone(), format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            forwarded = forwarded.header(name, value);
        }
    }
    let Ok(answer) = forwarded.send().await else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .unwrap();
    };
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let bytes = answer.bytes().await.unwrap_or_default();
    if path.ends_with("/confirm") && !proxy.held.swap(true, Ordering::SeqCst) {
        // Stripe has done it; the answer is late.
        tokio::time::sleep(proxy.hold).await;
        proxy.released.store(true, Ordering::SeqCst);
    }
    let mut response = Response::builder().status(status);
    if let Some(content_type) = content_type {
        response = response.header("content-type", content_type);
    }
    response.body(Body::from(bytes)).unwrap()
}
