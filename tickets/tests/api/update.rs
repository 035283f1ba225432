use common::events::TicketUpdated;
use common::testing::Probe;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Order, errors, spawn_app, user};

#[tokio::test]
async fn the_owner_edits_a_ticket_for_sale_and_ticket_updated_carries_the_next_version() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Concert", 10.0).await;
    let id = ticket["id"].as_str().unwrap();
    let mut updated = Probe::<TicketUpdated>::start(&app.bus).await;

    let response = app
        .update(
            Some(&cookie),
            id,
            &json!({ "title": "Opera", "price": 25.5 }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let edited: serde_json::Value = response.json().await.unwrap();
    assert_eq!(edited["title"], "Opera");
    assert_eq!(edited["price"], 25.5);
    assert_eq!(edited["version"], 1);
    let event = updated.next().await;
    assert_eq!(
        (event.id.as_str(), event.version, event.price),
        (id, 1, 2550)
    );
    assert_eq!(event.order_id, None);
}

#[tokio::test]
async fn editing_without_signing_in_is_401() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Concert", 10.0).await;
    let id = ticket["id"].as_str().unwrap();
    let response = app
        .update(None, id, &json!({ "title": "Opera", "price": 20 }))
        .await;
    errors(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.ticket(id).await, ticket);
}

#[tokio::test]
async fn editing_an_unknown_or_malformed_ticket_is_404() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    for id in ["507f1f77bcf86cd799439011", "not-an-id"] {
        let response = app
            .update(Some(&cookie), id, &json!({ "title": "Opera", "price": 20 }))
            .await;
        errors(response, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn editing_someone_elses_ticket_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    let (owner, _) = user();
    let (stranger, _) = user();
    let ticket = app.listed(&owner, "Concert", 10.0).await;
    let id = ticket["id"].as_str().unwrap();

    let response = app
        .update(Some(&stranger), id, &json!({ "title": "Mine", "price": 1 }))
        .await;

    errors(response, StatusCode::FORBIDDEN).await;
    assert_eq!(app.ticket(id).await, ticket);
}

#[tokio::test]
async fn an_invalid_edit_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Concert", 10.0).await;
    let id = ticket["id"].as_str().unwrap();
    let cases = [
        (json!({ "title": "", "price": 20 }), "title"),
        (json!({ "title": "Opera", "price": -1 }), "price"),
        (json!({ "title": "Opera", "price": 0.001 }), "price"),
        (json!({ "title": "Opera" }), "price"),
    ];
    for (body, field) in cases {
        let response = app.update(Some(&cookie), id, &body).await;
        let items = errors(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(items[0].1.as_deref(), Some(field), "{body}");
    }
    assert_eq!(app.ticket(id).await, ticket);
}

#[tokio::test]
async fn a_reserved_or_sold_ticket_cannot_be_edited() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let held = app.listed(&cookie, "Held", 10.0).await;
    let sold = app.listed(&cookie, "Sold", 10.0).await;
    app.bus
        .publish(&Order::of(&held, 0).created())
        .await
        .unwrap();
    let buying = Order::of(&sold, 0);
    app.bus.publish(&buying.created()).await.unwrap();
    app.bus.publish(&buying.completed()).await.unwrap();
    let held = app.at_version(held["id"].as_str().unwrap(), 1).await;
    let sold = app.at_version(sold["id"].as_str().unwrap(), 2).await;

    for (ticket, refusal) in [
        (held, "Cannot edit a reserved ticket"),
        (sold, "Cannot edit a sold ticket"),
    ] {
        let id = ticket["id"].as_str().unwrap();
        let response = app
            .update(Some(&cookie), id, &json!({ "title": "Opera", "price": 20 }))
            .await;
        let items = errors(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(items[0].0, refusal);
        assert_eq!(app.ticket(id).await, ticket, "unchanged");
    }
}
