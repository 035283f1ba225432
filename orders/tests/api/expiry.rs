//! Expiry is the order's own: announced by expiration, applied only once
//! the order's time is up, and swept by orders itself when the
//! announcement never comes.

use std::time::Duration;

use common::events::OrderCancelled;
use common::testing::Probe;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{errors, spawn_app_with, user};

fn expires_at(order: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    order["expiresAt"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_expiry_announced_before_the_order_s_time_is_up_cancels_it_only_then() {
    let app = spawn_app_with(|settings| settings.expiration_window = Duration::from_secs(2)).await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    let mut cancelled = Probe::<OrderCancelled>::start(&app.bus).await;

    app.expire(id).await;

    let message = cancelled
        .next_message(common::testing::DEADLINE)
        .await
        .expect("cancelled");
    assert!(
        common::testing::published_at(&message) >= expires_at(&order),
        "cancelled at {} before it expired at {}",
        common::testing::published_at(&message),
        expires_at(&order)
    );
    app.order_in(&buyer, id, "cancelled").await;
}

#[tokio::test]
async fn an_order_whose_expiry_is_never_announced_is_expired_by_the_sweep() {
    let app = spawn_app_with(|settings| {
        settings.expiration_window = Duration::from_secs(1);
        settings.expiry_sweep = Duration::from_secs(1);
    })
    .await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (next, _) = user();
    let mut cancelled = Probe::<OrderCancelled>::start(&app.bus).await;

    // Nobody announces its expiry.
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();

    let message = cancelled
        .next_message(common::testing::DEADLINE)
        .await
        .expect("cancelled");
    let event: OrderCancelled = serde_json::from_slice(&message.payload).unwrap();
    assert_eq!(event.id, id);
    assert!(common::testing::published_at(&message) >= expires_at(&order));
    app.order_in(&buyer, id, "cancelled").await;
    app.ordered(&next, &ticket.id).await;
}

#[tokio::test]
async fn a_buyer_whose_hold_expired_cannot_hold_that_ticket_again_at_once() {
    let app = spawn_app_with(|settings| settings.expiration_window = Duration::from_secs(3)).await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();

    app.expire(id).await;
    app.order_in(&buyer, id, "cancelled").await;

    let items = errors(
        app.place(Some(&buyer), &json!({ "ticketId": ticket.id }))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        items[0].0.starts_with("You held this ticket a moment ago"),
        "{items:?}"
    );
}
