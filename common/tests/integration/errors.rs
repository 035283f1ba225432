use axum::Router;
use axum::routing::{get, post};
use common::error::ErrorBody;
use common::health::Readiness;
use common::service::Builder;
use common::{ApiResult, AppJson};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

async fn spawn(routes: Router, readiness: Readiness) -> (String, CancellationToken) {
    let shutdown = CancellationToken::new();
    let app = Builder::bind("test", &common::testing::http_settings(), shutdown.clone())
        .await
        .unwrap()
        .api(routes, readiness);
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    (address, shutdown)
}

async fn failing() -> ApiResult<()> {
    Err(anyhow::anyhow!("connection to mongodb://admin:hunter2@db refused").into())
}

async fn echo(AppJson(value): AppJson<serde_json::Value>) -> AppJson<serde_json::Value> {
    AppJson(value)
}

#[tokio::test]
async fn an_unexpected_error_is_a_500_without_its_cause() {
    let (address, _stop) =
        spawn(Router::new().route("/boom", get(failing)), Readiness::new()).await;

    let response = reqwest::get(format!("{address}/boom")).await.unwrap();

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("mongodb"),
        "the cause leaked: {text}"
    );
    let body: ErrorBody = serde_json::from_str(&text).unwrap();
    assert_eq!(body.errors[0].message, "Something went wrong");
}

#[tokio::test]
async fn a_browser_s_change_from_another_site_or_a_sibling_subdomain_is_refused() {
    let (address, _stop) = spawn(Router::new().route("/echo", post(echo)), Readiness::new()).await;
    let send = |site: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(format!("{address}/echo"))
            .json(&serde_json::json!({ "n": 1 }));
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };

    for site in ["cross-site", "same-site"] {
        let refused = send(Some(site)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{site}");
        let body: ErrorBody = refused.json().await.unwrap();
        assert_eq!(body.errors[0].message, "Forbidden");
    }
    for site in [Some("same-origin"), Some("none"), None] {
        assert_eq!(
            send(site).await.unwrap().status(),
            StatusCode::OK,
            "{site:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_404_in_the_error_shape() {
    let (address, _stop) = spawn(Router::new(), Readiness::new()).await;

    let response = reqwest::get(format!("{address}/no/such/route"))
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.errors[0].message, "Not found");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_in_the_error_shape() {
    let (address, _stop) = spawn(Router::new().route("/echo", post(echo)), Readiness::new()).await;
    let big = format!("\"{}\"", "x".repeat(common::http::BODY_LIMIT + 1));

    let response = reqwest::Client::new()
        .post(format!("{address}/echo"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let _: ErrorBody = response.json().await.unwrap();
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_in_the_error_shape() {
    let (address, _stop) = spawn(Router::new().route("/echo", post(echo)), Readiness::new()).await;
    let client = reqwest::Client::new();

    let no_content_type = client
        .post(format!("{address}/echo"))
        .body("{}")
        .send()
        .await
        .unwrap();
    let malformed = client
        .post(format!("{address}/echo"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();

    for response in [no_content_type, malformed] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let _: ErrorBody = response.json().await.unwrap();
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let (address, _stop) = spawn(Router::new(), Readiness::new()).await;

    let response = reqwest::get(format!("{address}/healthz")).await.unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("x-request-id").is_some());
}

#[tokio::test]
async fn readiness_reports_an_unreachable_server() {
    let readiness = Readiness::new().check("broken", || async { anyhow::bail!("down") });
    let (address, _stop) = spawn(Router::new(), readiness).await;

    let response = reqwest::get(format!("{address}/readyz")).await.unwrap();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(body.errors[0].message, "broken is unreachable");
}

#[tokio::test]
async fn a_request_past_its_deadline_is_a_503_in_the_error_shape() {
    let shutdown = CancellationToken::new();
    let http = common::config::HttpSettings {
        request_timeout: std::time::Duration::from_millis(200),
        ..common::testing::http_settings()
    };
    let slow = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            "too late"
        }),
    );
    let app = Builder::bind("test", &http, shutdown.clone())
        .await
        .unwrap()
        .api(slow, Readiness::new());
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());

    let response = reqwest::get(format!("{address}/slow")).await.unwrap();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: ErrorBody = response.json().await.unwrap();
    assert_eq!(
        body.errors[0].message,
        "The service is unavailable; try again shortly"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn shutdown_abandons_what_outlives_its_deadline() {
    let shutdown = CancellationToken::new();
    let http = common::config::HttpSettings {
        shutdown_timeout: std::time::Duration::from_millis(300),
        ..common::testing::http_settings()
    };
    let mut builder = Builder::bind("test", &http, shutdown.clone())
        .await
        .unwrap();
    // A background task that ignores shutdown.
    builder.spawn("stubborn worker", std::future::pending());
    let app = builder.api(Router::new(), Readiness::new());
    let running = tokio::spawn(app.run_until_stopped());

    shutdown.cancel();

    let stopped = tokio::time::timeout(common::testing::DEADLINE, running).await;
    assert!(
        stopped.is_ok(),
        "the service outlived its shutdown deadline"
    );
}
