use std::time::Duration;

use chrono::{DateTime, Utc};
use common::events::{OrderCreated, OrderStatus};
use common::testing::{Probe, stored};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{errors, spawn_app, spawn_app_with, user};

fn expires_at(order: &serde_json::Value) -> DateTime<Utc> {
    order["expiresAt"].as_str().unwrap().parse().unwrap()
}

/// The expiry is `seconds` after the request, kept to the millisecond.
fn assert_within_window(
    expiry: DateTime<Utc>,
    before: DateTime<Utc>,
    after: DateTime<Utc>,
    seconds: i64,
) {
    let window = chrono::Duration::seconds(seconds);
    let earliest = before + window - chrono::Duration::milliseconds(1);
    assert!(
        expiry >= earliest && expiry <= after + window,
        "{expiry} not {seconds} s after {before}"
    );
}

#[tokio::test]
async fn an_order_reserves_the_ticket_until_the_window_ends_and_order_created_is_published() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (cookie, buyer) = user();
    let mut created = Probe::<OrderCreated>::start(&app.bus).await;

    let before = Utc::now();
    let order = app.ordered(&cookie, &ticket.id).await;
    let after = Utc::now();

    assert_eq!(order["status"], "created");
    assert_eq!(order["userId"], buyer.as_str());
    assert_eq!(order["version"], 0);
    assert_eq!(
        order["ticket"],
        json!({ "id": ticket.id, "title": "Concert", "price": 12.5 })
    );
    let window = chrono::Duration::seconds(900);
    let expiry = expires_at(&order);
    assert!(
        expiry >= before + window - chrono::Duration::milliseconds(1) && expiry <= after + window
    );
    let event = created.next().await;
    assert_eq!(event.id, order["id"].as_str().unwrap());
    assert_eq!(event.status, OrderStatus::Created);
    assert_eq!(event.user_id, buyer);
    assert_eq!(event.expires_at, expiry);
    assert_eq!((event.ticket.id, event.ticket.price), (ticket.id, 1250));
}

#[tokio::test]
async fn the_window_comes_from_configuration() {
    let app = spawn_app_with(|settings| settings.expiration_window = Duration::from_secs(2)).await;
    let ticket = app.seeded_ticket().await;
    let (cookie, _) = user();

    let before = Utc::now();
    let order = app.ordered(&cookie, &ticket.id).await;
    let after = Utc::now();

    assert_within_window(expires_at(&order), before, after, 2);
}

#[tokio::test]
async fn ordering_without_signing_in_is_401() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let response = app.place(None, &json!({ "ticketId": ticket.id })).await;
    errors(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn an_unknown_ticket_is_404() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let response = app
        .place(
            Some(&cookie),
            &json!({ "ticketId": "507f1f77bcf86cd799439011" }),
        )
        .await;
    errors(response, StatusCode::NOT_FOUND).await;
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_missing_or_malformed_ticket_id_is_400_on_the_field() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    for body in [
        json!({}),
        json!({ "ticketId": "nope" }),
        json!({ "ticketId": 42 }),
    ] {
        let response = app.place(Some(&cookie), &body).await;
        let items = errors(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(items[0].1.as_deref(), Some("ticketId"), "{body}");
    }
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_seller_cannot_order_their_own_ticket() {
    let app = spawn_app().await;
    let (cookie, seller) = user();
    let ticket = crate::helpers::ticket(&seller, 500);
    app.bus.publish(&ticket).await.unwrap();
    app.replica_at(&ticket.id, 0).await;

    let response = app
        .place(Some(&cookie), &json!({ "ticketId": ticket.id }))
        .await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "You cannot order your own ticket");
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_reserved_ticket_cannot_be_ordered_again() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (first, _) = user();
    let (second, _) = user();
    app.ordered(&first, &ticket.id).await;

    let response = app
        .place(Some(&second), &json!({ "ticketId": ticket.id }))
        .await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "Ticket is already reserved");
    assert_eq!(app.order_count().await, 1);
}

#[tokio::test]
async fn of_fifty_concurrent_buyers_of_one_ticket_exactly_one_succeeds() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let mut created = Probe::<OrderCreated>::start(&app.bus).await;
    let buyers: Vec<_> = (0..50).map(|_| user().0).collect();
    let body = json!({ "ticketId": ticket.id });

    let responses = join_all(buyers.iter().map(|cookie| app.place(Some(cookie), &body))).await;

    let mut statuses: Vec<_> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, [[201].as_slice(), &[400; 49]].concat());
    for response in responses
        .into_iter()
        .filter(|r| r.status() == StatusCode::BAD_REQUEST)
    {
        let items = errors(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(items[0].0, "Ticket is already reserved");
    }
    assert_eq!(app.order_count().await, 1);
    app.outbox_empty().await;
    assert_eq!(created.next().await.ticket.id, ticket.id);
    assert_eq!(
        stored(&app.bus, "order.created").await,
        1,
        "one order.created on the bus"
    );
}

#[tokio::test]
async fn a_withdrawn_ticket_is_not_for_sale() {
    let app = spawn_app().await;
    let created = app.seeded_ticket().await;
    let withdrawn = common::events::TicketUpdated {
        id: created.id.clone(),
        version: 1,
        title: created.title.clone(),
        price: created.price,
        user_id: created.user_id.clone(),
        order_id: None,
        status: common::events::TicketStatus::Withdrawn,
        starts_at: None,
    };
    app.bus.publish(&withdrawn).await.unwrap();
    app.replica_at(&created.id, 1).await;
    let (buyer, _) = user();

    let response = app
        .place(Some(&buyer), &json!({ "ticketId": created.id }))
        .await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "Ticket is not for sale");
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_ticket_whose_event_has_started_cannot_be_ordered() {
    let app = spawn_app().await;
    let (_, owner) = user();
    let starts = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let ticket = common::events::TicketCreated {
        starts_at: Some(starts),
        ..crate::helpers::ticket(&owner, 1000)
    };
    app.bus.publish(&ticket).await.unwrap();
    app.replica_at(&ticket.id, 0).await;
    let (buyer, _) = user();

    // An order placed before the start holds the ticket: ask once, after it.
    common::testing::eventually("the event to start", || async {
        (chrono::Utc::now() > starts).then_some(())
    })
    .await;
    let response = app
        .place(Some(&buyer), &json!({ "ticketId": ticket.id }))
        .await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "The event has already started");
}

#[tokio::test]
async fn a_buyer_holds_at_most_five_unpaid_orders() {
    let app = spawn_app().await;
    let (buyer, _) = user();
    let mut placed = Vec::new();
    for _ in 0..5 {
        let ticket = app.seeded_ticket().await;
        placed.push(
            app.ordered(&buyer, &ticket.id).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let sixth = app.seeded_ticket().await;

    let items = errors(
        app.place(Some(&buyer), &json!({ "ticketId": sixth.id }))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(items[0].0, "You have too many unpaid orders");

    // One paid makes room for another.
    app.pay(&placed[0]).await;
    app.order_in(&buyer, &placed[0], "complete").await;
    app.ordered(&buyer, &sixth.id).await;
}

#[tokio::test]
async fn concurrent_orders_of_one_buyer_never_exceed_the_limit() {
    let app = spawn_app().await;
    let (buyer, _) = user();
    let mut tickets = Vec::new();
    for _ in 0..10 {
        tickets.push(app.seeded_ticket().await);
    }

    let bodies: Vec<_> = tickets
        .iter()
        .map(|t| json!({ "ticketId": t.id }))
        .collect();
    let responses = join_all(bodies.iter().map(|body| app.place(Some(&buyer), body))).await;

    let placed = responses
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    assert_eq!(
        placed,
        5,
        "{:?}",
        responses.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_buyer_who_let_a_hold_go_waits_a_hold_window_before_holding_that_ticket_again() {
    let app = spawn_app_with(|settings| settings.expiration_window = Duration::from_secs(2)).await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (other, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let cancelled = app
        .cancel(Some(&buyer), order["id"].as_str().unwrap())
        .await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);

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

    // Someone else may; and the buyer may again once the window has passed.
    let theirs = app.ordered(&other, &ticket.id).await;
    app.cancel(Some(&other), theirs["id"].as_str().unwrap())
        .await;
    common::testing::eventually("the hold window to pass", || async {
        let response = app
            .place(Some(&buyer), &json!({ "ticketId": ticket.id }))
            .await;
        (response.status() == StatusCode::CREATED).then_some(())
    })
    .await;
}
