//! The alert rules, evaluated by the Prometheus `make up` runs against the
//! services it scrapes: a service stopped and a dead letter parked fire
//! their alerts.

use std::time::Duration;

use common::testing::{DEADLINE, eventually_within};
use serde_json::Value;
use system::Platform;

/// The alerts Prometheus has firing now, as (alert, label value) pairs.
async fn firing(platform: &Platform, label: &str) -> Vec<(String, String)> {
    let url = format!(
        "http://127.0.0.1:{}/api/v1/alerts",
        platform.port("prometheus")
    );
    let Ok(response) = reqwest::get(url).await else {
        return Vec::new();
    };
    let body: Value = response.json().await.unwrap_or_default();
    body["data"]["alerts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|alert| alert["state"] == "firing")
        .map(|alert| {
            let name = alert["labels"]["alertname"].as_str().unwrap_or_default();
            let value = alert["labels"][label].as_str().unwrap_or_default();
            (name.to_string(), value.to_string())
        })
        .collect()
}

async fn fires(platform: &Platform, alert: &str, label: &str, value: &str) {
    let wanted = (alert.to_string(), value.to_string());
    // The longest `for:` of these rules is 30 s; scraping and evaluating
    // every 5 s add at most 10 s more.
    let deadline = DEADLINE + Duration::from_secs(40);
    eventually_within(
        deadline,
        &format!("{alert} to fire for {value}"),
        || async {
            firing(platform, label)
                .await
                .contains(&wanted)
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_stopped_service_and_a_parked_message_fire_their_alerts() {
    let mut platform = Platform::start(Duration::from_secs(900)).await;
    assert!(
        firing(&platform, "service").await.is_empty(),
        "nothing fires at rest"
    );

    // A message orders can never apply is parked at once.
    let nats = platform.nats().await.unwrap();
    async_nats::jetstream::new(nats)
        .publish("ticketing.ticket.updated", r#"{"not":"a ticket"}"#.into())
        .await
        .unwrap()
        .await
        .unwrap();
    platform.kill("expiration").await;

    fires(
        &platform,
        "DeadLetterParked",
        "consumer",
        "orders-ticket-updated",
    )
    .await;
    // Down for its 30 s, then seen by the next evaluation.
    fires(&platform, "ServiceDown", "service", "expiration").await;
}
