//! What the services count, read off their own `/metrics` after a scripted
//! workload, against what happened.

use std::time::Duration;

use common::testing::{eventually, sample};
use reqwest::StatusCode;
use system::Platform;

use crate::helpers::{Person, dead_letters, quiet};

/// One service's `/metrics` page, straight from its port.
async fn metrics(platform: &Platform, service: &str) -> String {
    let url = format!("http://127.0.0.1:{}/metrics", platform.port(service));
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// Waits until every `(service, series, value)` reads as expected; the
/// first that does not is named when the deadline passes.
async fn counts_become(platform: &Platform, expected: &[(&str, &str, f64)]) {
    eventually("the counters to equal what happened", || async {
        for (service, series, value) in expected {
            let page = metrics(platform, service).await;
            if sample(&page, series) != Some(*value) {
                eprintln!(
                    "{service}: {series} is {:?}, not {value}",
                    sample(&page, series)
                );
                return None;
            }
        }
        Some(())
    })
    .await;
}

#[tokio::test]
async fn after_a_workload_the_counters_equal_what_happened() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let first = seller.sell("Concert", 25.0).await;
    seller.sell("Opera", 40.0).await;
    let missing = buyer.get("/api/tickets/0123456789abcdef01234567").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let ticket_id = first["id"].as_str().unwrap();
    assert_eq!(buyer.order(ticket_id).await.status(), StatusCode::CREATED);
    buyer
        .until(&format!("/api/tickets/{ticket_id}"), "status", "reserved")
        .await;
    // One poisoned message: an update that is not a ticket.
    let nats = platform.nats().await.unwrap();
    let jetstream = async_nats::jetstream::new(nats);
    jetstream
        .publish("ticketing.ticket.updated", r#"{"not":"a ticket"}"#.into())
        .await
        .unwrap()
        .await
        .unwrap();
    quiet(&platform, Duration::from_secs(60)).await;
    assert_eq!(dead_letters(&platform).await, 1);

    let requests = |route: &str, method: &str, status: u16| {
        format!(r#"http_requests_total{{route="{route}",method="{method}",status="{status}"}}"#)
    };
    let handled = |consumer: &str, outcome: &str| {
        format!(r#"events_handled_total{{consumer="{consumer}",outcome="{outcome}"}}"#)
    };
    let published = |subject: &str| format!(r#"events_published_total{{subject="{subject}"}}"#);
    counts_become(
        &platform,
        &[
            ("auth", &requests("/api/users/signup", "POST", 201), 2.0),
            ("tickets", &requests("/api/tickets", "POST", 201), 2.0),
            ("tickets", &requests("/api/tickets/{id}", "GET", 404), 1.0),
            ("orders", &requests("/api/orders", "POST", 201), 1.0),
            ("tickets", &published("ticket.created"), 2.0),
            ("tickets", &published("ticket.updated"), 1.0),
            ("orders", &published("order.created"), 1.0),
            ("orders", &handled("orders-ticket-created", "applied"), 2.0),
            ("orders", &handled("orders-ticket-updated", "applied"), 1.0),
            (
                "orders",
                &handled("orders-ticket-updated", "dead_lettered"),
                1.0,
            ),
            (
                "orders",
                &published("deadletter.orders-ticket-updated"),
                1.0,
            ),
            ("tickets", &handled("tickets-order-created", "applied"), 1.0),
            (
                "expiration",
                &handled("expiration-order-created", "applied"),
                1.0,
            ),
            (
                "payments",
                &handled("payments-order-created", "applied"),
                1.0,
            ),
            ("orders", "outbox_pending_rows", 0.0),
            (
                "orders",
                r#"consumer_pending_messages{consumer="orders-ticket-updated"}"#,
                0.0,
            ),
            ("expiration", "expirations_scheduled", 1.0),
        ],
    )
    .await;
}

#[tokio::test]
async fn metrics_are_not_served_through_the_proxy() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let direct = metrics(&platform, "client").await;
    assert!(direct.contains("http_requests_total"), "{direct}");

    let proxied = reqwest::get(format!("{}/metrics", platform.url))
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::NOT_FOUND);
    let forwarded = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/metrics",
            platform.port("orders")
        ))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        forwarded.status(),
        StatusCode::NOT_FOUND,
        "as the ingress forwards it"
    );
}
