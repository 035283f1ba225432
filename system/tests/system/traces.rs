//! One purchase is one trace: the trace a buyer's request starts runs
//! through the outbox and the events to every service that takes part.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use common::testing::eventually;
use reqwest::StatusCode;
use serde_json::{Value, json};
use system::{Platform, Profile};

use crate::helpers::Person;

/// The services a purchase runs through.
const SERVICES: [&str; 4] = ["orders", "tickets", "expiration", "payments"];

/// The services whose spans of `trace` an OTLP/JSON export holds.
fn services_in(body: &str, trace: &str) -> Vec<String> {
    let export: Value = serde_json::from_str(body).unwrap_or_default();
    let mut found = Vec::new();
    for resource in export["resourceSpans"].as_array().into_iter().flatten() {
        let attributes = resource["resource"]["attributes"].as_array();
        let service = attributes
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .and_then(|a| a["value"]["stringValue"].as_str());
        let spans = resource["scopeSpans"].as_array().into_iter().flatten();
        let ours = spans
            .flat_map(|scope| scope["spans"].as_array().into_iter().flatten())
            .any(|span| {
                span["traceId"]
                    .as_str()
                    .is_some_and(|id| id.eq_ignore_ascii_case(trace))
            });
        if let (Some(service), true) = (service, ours) {
            found.push(service.to_string());
        }
    }
    found
}

/// An OTLP/HTTP receiver: keeps the body of every export it is sent.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: String| {
            kept.lock().unwrap().push(body);
            async { "{}" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (endpoint, bodies)
}

#[tokio::test]
async fn a_purchase_is_one_trace_in_the_logs_and_spans_of_four_services() {
    let (endpoint, exported) = receiver().await;
    let settings = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())];
    let platform = Platform::launch_with(Duration::from_secs(900), Profile::Debug, &settings).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");

    let ticket = seller.sell("Opera", 40.0).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let ordered = eventually("orders to know the ticket", || async {
        let response = buyer
            .post_traced(
                "/api/orders",
                &json!({ "ticketId": ticket_id }),
                &traceparent,
            )
            .await;
        (response.status() != StatusCode::NOT_FOUND).then_some(response)
    })
    .await;
    assert_eq!(ordered.status(), StatusCode::CREATED);
    let answered = ordered.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(answered.starts_with(&format!("00-{trace}-")), "{answered}");
    let order_id = ordered.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    buyer
        .until(&format!("/api/tickets/{ticket_id}"), "status", "reserved")
        .await;
    let paid = eventually("payments to take the payment", || async {
        let body = json!({ "orderId": order_id, "token": "pm_card_visa" });
        let response = buyer
            .post_traced("/api/payments", &body, &traceparent)
            .await;
        (response.status() == StatusCode::CREATED).then_some(())
    });
    paid.await;
    buyer
        .until(&format!("/api/orders/{order_id}"), "status", "complete")
        .await;

    for service in SERVICES {
        eventually(&format!("{service}'s log to carry the trace"), || async {
            platform.log_of(service).contains(trace).then_some(())
        })
        .await;
    }
    // The charge runs in a task of its own; its payment.created still
    // carries the buyer's trace to orders, as order.completed does to
    // tickets.
    for (service, consumer) in [
        ("orders", "orders-payment-created"),
        ("tickets", "tickets-order-completed"),
    ] {
        eventually(&format!("{consumer} to handle in the trace"), || async {
            let log = platform.log_of(service);
            let mut lines = log.lines();
            lines
                .any(|l| l.contains(consumer) && l.contains(trace))
                .then_some(())
        })
        .await;
    }
    for service in SERVICES {
        eventually(&format!("{service}'s spans of the trace"), || async {
            let bodies = exported.lock().unwrap();
            bodies
                .iter()
                .any(|b| services_in(b, trace).iter().any(|s| s == service))
                .then_some(())
        })
        .await;
    }
}
