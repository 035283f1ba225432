use common::events::{OrderCancelled, OrderCompleted};
use common::testing::{Probe, stored};
use reqwest::StatusCode;

use crate::helpers::{errors, spawn_app, user};

#[tokio::test]
async fn the_buyer_cancels_and_the_ticket_can_be_ordered_by_someone_else() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (next, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    let mut cancelled = Probe::<OrderCancelled>::start(&app.bus).await;

    let response = app.cancel(Some(&buyer), id).await;

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let order = app.order(&buyer, id).await;
    assert_eq!(
        (order["status"].as_str(), order["version"].as_i64()),
        (Some("cancelled"), Some(1))
    );
    let event = cancelled.next().await;
    assert_eq!(
        (event.id.as_str(), event.version, event.ticket.id.as_str()),
        (id, 1, ticket.id.as_str())
    );
    app.ordered(&next, &ticket.id).await;
}

#[tokio::test]
async fn cancelling_twice_is_harmless_and_publishes_once() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();

    assert_eq!(
        app.cancel(Some(&buyer), id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.cancel(Some(&buyer), id).await.status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(app.order(&buyer, id).await["version"], 1);
    app.outbox_empty().await;
    assert_eq!(stored(&app.bus, "order.cancelled").await, 1);
}

#[tokio::test]
async fn a_completed_order_cannot_be_cancelled() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (next, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    let mut completed = Probe::<OrderCompleted>::start(&app.bus).await;
    app.pay(id).await;
    let paid = app.order_in(&buyer, id, "complete").await;
    completed.next().await;

    let response = app.cancel(Some(&buyer), id).await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "Cannot cancel a completed order");
    assert_eq!(app.order(&buyer, id).await, paid);
    let response = app
        .place(Some(&next), &serde_json::json!({ "ticketId": ticket.id }))
        .await;
    errors(response, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn someone_elses_unknown_or_malformed_order_cannot_be_cancelled() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (stranger, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();

    for target in [id, "507f1f77bcf86cd799439011", "not-an-id"] {
        errors(
            app.cancel(Some(&stranger), target).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    errors(app.cancel(None, id).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.order(&buyer, id).await, order, "unchanged");
}
