//! Withdrawing a ticket from sale, and listing one with every detail.

use chrono::{Duration, Utc};
use common::events::{TicketStatus, TicketUpdated};
use common::testing::Probe;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Order, errors, spawn_app, user};

#[tokio::test]
async fn the_owner_withdraws_an_available_ticket_and_ticket_updated_says_so() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Spare seat", 10.0).await;
    let id = ticket["id"].as_str().unwrap();
    let mut updates = Probe::<TicketUpdated>::start(&app.bus).await;

    assert_eq!(
        app.withdraw(Some(&cookie), id).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.withdraw(Some(&cookie), id).await.status(),
        StatusCode::NO_CONTENT,
        "harmless again"
    );

    let event = updates.next().await;
    assert_eq!((event.version, event.status), (1, TicketStatus::Withdrawn));
    assert_eq!(app.ticket(id).await["status"], "withdrawn");
    let items = errors(
        app.update(Some(&cookie), id, &json!({ "title": "Back", "price": 10 }))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(items[0].0, "Cannot edit a withdrawn ticket");
}

#[tokio::test]
async fn a_reserved_or_sold_ticket_or_someone_else_s_cannot_be_withdrawn() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let (stranger, _) = user();
    let held = app.listed(&cookie, "Held", 10.0).await;
    let sold = app.listed(&cookie, "Sold", 10.0).await;
    app.bus
        .publish(&Order::of(&held, 0).created())
        .await
        .unwrap();
    let buying = Order::of(&sold, 0);
    app.bus.publish(&buying.created()).await.unwrap();
    app.bus.publish(&buying.completed()).await.unwrap();
    let held_id = held["id"].as_str().unwrap();
    let sold_id = sold["id"].as_str().unwrap();
    app.at_version(held_id, 1).await;
    app.at_version(sold_id, 2).await;

    for (id, message) in [
        (held_id, "Cannot withdraw a reserved ticket"),
        (sold_id, "Cannot withdraw a sold ticket"),
    ] {
        let items = errors(
            app.withdraw(Some(&cookie), id).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(items[0].0, message);
    }
    let open = app.listed(&cookie, "Open", 10.0).await;
    let open_id = open["id"].as_str().unwrap();
    errors(
        app.withdraw(Some(&stranger), open_id).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    errors(app.withdraw(None, open_id).await, StatusCode::UNAUTHORIZED).await;
    errors(
        app.withdraw(Some(&cookie), "507f1f77bcf86cd799439011")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(app.ticket(open_id).await["status"], "available");
}

#[tokio::test]
async fn a_listing_with_every_detail_is_shown_with_them_and_ticket_created_carries_the_start() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let starts = (Utc::now() + Duration::days(10))
        .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
    let mut created = Probe::<common::events::TicketCreated>::start(&app.bus).await;

    let ticket = app
        .listed_with(
            &cookie,
            &json!({
                "title": "Blue Moon Tour",
                "price": 25.5,
                "description": "Doors at seven.\nStanding only.",
                "venue": "The Old Hall",
                "startsAt": starts.to_rfc3339(),
                "code": "BARCODE-123",
            }),
        )
        .await;

    assert_eq!(ticket["venue"], "The Old Hall");
    assert_eq!(ticket["description"], "Doors at seven.\nStanding only.");
    let shown: chrono::DateTime<Utc> = ticket["startsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(shown.timestamp(), starts.timestamp());
    let event = created.next().await;
    assert_eq!(
        event.starts_at.map(|at| at.timestamp()),
        Some(starts.timestamp())
    );
    let payload = serde_json::to_string(&event).unwrap();
    assert!(
        !payload.contains("BARCODE-123"),
        "the code stays out of events"
    );
}

#[tokio::test]
async fn a_price_with_more_than_two_decimals_is_refused_however_it_is_written() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    for price in ["12.5000000001", "1.234", "1234e-5"] {
        let body = format!(r#"{{"title":"Exact","price":{price}}}"#);
        let response = app
            .client
            .post(format!("{}/api/tickets", app.address))
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let items = errors(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            items[0],
            (
                "Price must have at most 2 decimals".to_string(),
                Some("price".to_string())
            ),
            "{price}"
        );
    }
    let written: Value = app
        .client
        .post(format!("{}/api/tickets", app.address))
        .header("cookie", &cookie)
        .header("content-type", "application/json")
        .body(r#"{"title":"Exact","price":1.25e1}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(written["price"], 12.5);
    assert_eq!(app.ticket_count().await, 1);
}

#[tokio::test]
async fn invisible_or_control_characters_and_past_starts_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let cases = [
        (json!({ "title": "\u{200B}", "price": 5 }), "title"),
        (json!({ "title": "A\u{0}B", "price": 5 }), "title"),
        (
            json!({ "title": "Ok", "price": 5, "venue": "Hall\u{7}" }),
            "venue",
        ),
        (
            json!({ "title": "Ok", "price": 5, "description": "x".repeat(2001) }),
            "description",
        ),
        (
            json!({ "title": "Ok", "price": 5, "startsAt": "2020-01-01T00:00:00Z" }),
            "startsAt",
        ),
        (
            json!({ "title": "Ok", "price": 5, "startsAt": "tomorrow" }),
            "startsAt",
        ),
        (
            json!({ "title": "Ok", "price": 5, "code": "c".repeat(501) }),
            "code",
        ),
    ];
    for (body, field) in cases {
        let items = errors(
            app.create(Some(&cookie), &body).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(items[0].1.as_deref(), Some(field), "{body}");
    }
    assert_eq!(app.ticket_count().await, 0);
}
