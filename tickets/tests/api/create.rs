use common::events::TicketCreated;
use common::testing::Probe;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{errors, spawn_app, user};

#[tokio::test]
async fn a_signed_in_user_lists_a_ticket_and_ticket_created_is_published_in_cents() {
    let app = spawn_app().await;
    let (cookie, user_id) = user();
    let mut created = Probe::<TicketCreated>::start(&app.bus).await;

    let ticket = app.listed(&cookie, "  Concert  ", 19.99).await;

    assert_eq!(ticket["title"], "Concert");
    assert_eq!(ticket["price"], 19.99);
    assert_eq!(ticket["userId"], user_id.as_str());
    assert_eq!(ticket["version"], 0);
    assert_eq!(ticket["status"], "available");
    let event = created.next().await;
    assert_eq!(event.id, ticket["id"].as_str().unwrap());
    assert_eq!(event.price, 1999);
    assert_eq!(event.version, 0);
    assert_eq!(event.user_id, user_id);
}

#[tokio::test]
async fn listing_without_signing_in_is_401_and_stores_nothing() {
    let app = spawn_app().await;
    let response = app
        .create(None, &json!({ "title": "Concert", "price": 10 }))
        .await;
    errors(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.ticket_count().await, 0);
}

#[tokio::test]
async fn invalid_tickets_are_400_naming_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let cases = [
        (
            json!({ "title": "", "price": 10 }),
            "title",
            "an empty title",
        ),
        (
            json!({ "title": "   ", "price": 10 }),
            "title",
            "a blank title",
        ),
        (
            json!({ "title": "a".repeat(201), "price": 10 }),
            "title",
            "a title of 201 characters",
        ),
        (json!({ "price": 10 }), "title", "no title"),
        (
            json!({ "title": 5, "price": 10 }),
            "title",
            "a title that is a number",
        ),
        (
            json!({ "title": "Concert", "price": 0 }),
            "price",
            "a price of 0",
        ),
        (
            json!({ "title": "Concert", "price": -10 }),
            "price",
            "a negative price",
        ),
        (
            json!({ "title": "Concert", "price": 12.345 }),
            "price",
            "three decimals",
        ),
        (
            json!({ "title": "Concert", "price": 1_000_000.01 }),
            "price",
            "over a million",
        ),
        (
            json!({ "title": "Concert", "price": "10" }),
            "price",
            "a price that is a string",
        ),
        (json!({ "title": "Concert" }), "price", "no price"),
    ];
    for (body, field, case) in cases {
        let response = app.create(Some(&cookie), &body).await;
        let items = errors(response, StatusCode::BAD_REQUEST).await;
        assert!(
            items.iter().any(|(_, f)| f.as_deref() == Some(field)),
            "{case}: expected an error on {field}, got {items:?}"
        );
    }
    assert_eq!(app.ticket_count().await, 0);
}

#[tokio::test]
async fn both_bad_fields_are_reported_at_once() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let response = app
        .create(Some(&cookie), &json!({ "title": "", "price": 0 }))
        .await;
    let fields: Vec<_> = errors(response, StatusCode::BAD_REQUEST)
        .await
        .into_iter()
        .filter_map(|(_, field)| field)
        .collect();
    assert_eq!(fields, ["title", "price"]);
}

#[tokio::test]
async fn fields_a_client_may_not_set_are_ignored() {
    let app = spawn_app().await;
    let (cookie, user_id) = user();
    let body = json!({
        "title": "Concert", "price": 10,
        "userId": "someone-else", "version": 7, "orderId": "abc", "status": "sold",
    });
    let response = app.create(Some(&cookie), &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let ticket: serde_json::Value = response.json().await.unwrap();
    assert_eq!(ticket["userId"], user_id.as_str());
    assert_eq!(ticket["version"], 0);
    assert_eq!(ticket["orderId"], serde_json::Value::Null);
    assert_eq!(ticket["status"], "available");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_in_the_error_shape() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let response = app
        .client
        .post(format!("{}/api/tickets", app.address))
        .header("cookie", cookie)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(app.ticket_count().await, 0);
}
