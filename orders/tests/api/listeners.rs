use common::dispatch::{consumer_name, dead_letter_subject};
use common::events::{ExpirationComplete, OrderCancelled, OrderCompleted, TicketUpdated};
use common::testing::{DEADLINE, Probe, drained, eventually, publish_again, stored};
use mongodb::bson::oid::ObjectId;
use reqwest::StatusCode;
use serde_json::json;

use std::time::Duration;

use crate::helpers::{TestApp, errors, spawn_app, spawn_app_with, ticket, user};

fn updated(created: &common::events::TicketCreated, version: i64, title: &str) -> TicketUpdated {
    TicketUpdated {
        id: created.id.clone(),
        version,
        title: title.into(),
        price: created.price,
        user_id: created.user_id.clone(),
        order_id: None,
        status: common::events::TicketStatus::Available,
        starts_at: None,
    }
}

/// The replica's title and version of a ticket, read straight from the database.
async fn replica(app: &TestApp, id: &str) -> (String, i64) {
    let ticket = app
        .database
        .collection::<mongodb::bson::Document>("tickets")
        .find_one(mongodb::bson::doc! { "_id": ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()
        .expect("replicated");
    (
        ticket.get_str("title").unwrap().to_string(),
        ticket.get_i64("version").unwrap(),
    )
}

#[tokio::test]
async fn a_duplicate_ticket_created_changes_nothing() {
    let app = spawn_app().await;
    let created = app.seeded_ticket().await;
    app.bus
        .publish(&updated(&created, 1, "Opera"))
        .await
        .unwrap();
    app.replica_at(&created.id, 1).await;

    publish_again(&app.bus, &created).await;
    drained(&app.bus, &consumer_name("orders", "ticket.created")).await;

    assert_eq!(replica(&app, &created.id).await, ("Opera".to_string(), 1));
}

#[tokio::test]
async fn version_two_before_version_one_is_applied_only_after_it() {
    let app = spawn_app().await;
    let created = app.seeded_ticket().await;

    app.bus
        .publish(&updated(&created, 2, "Ballet"))
        .await
        .unwrap();
    drained(&app.bus, &consumer_name("orders", "ticket.updated")).await;
    let inbox = common::inbox::Inbox::new(&app.database);
    assert_eq!(
        inbox.waiting().await.unwrap(),
        1,
        "version 2 waits in the inbox"
    );
    assert_eq!(
        replica(&app, &created.id).await,
        ("Concert".to_string(), 0),
        "not applied early"
    );

    app.bus
        .publish(&updated(&created, 1, "Opera"))
        .await
        .unwrap();

    app.replica_at(&created.id, 2).await;
    assert_eq!(replica(&app, &created.id).await, ("Ballet".to_string(), 2));
    // The row goes right after its event applies, never before.
    eventually("the inbox empty", || async {
        (inbox.waiting().await.ok()? == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_update_from_tickets_does_not_release_a_held_ticket() {
    let app = spawn_app().await;
    let created = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (next, _) = user();
    let order = app.ordered(&buyer, &created.id).await;
    let mut held = updated(&created, 1, "Concert");
    held.order_id = Some(order["id"].as_str().unwrap().to_string());
    app.bus.publish(&held).await.unwrap();
    app.replica_at(&created.id, 1).await;

    let response = app
        .place(Some(&next), &json!({ "ticketId": created.id }))
        .await;

    errors(response, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn expiry_cancels_a_created_order_and_frees_its_ticket() {
    let app = spawn_app_with(|settings| settings.expiration_window = Duration::from_secs(1)).await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let (next, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    let mut cancelled = Probe::<OrderCancelled>::start(&app.bus).await;

    app.expire(id).await;

    let expired = app.order_in(&buyer, id, "cancelled").await;
    assert_eq!(expired["version"], 1);
    assert_eq!(cancelled.next().await.id, id);
    app.ordered(&next, &ticket.id).await;
}

#[tokio::test]
async fn expiry_of_a_completed_order_changes_nothing() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    app.pay(id).await;
    let paid = app.order_in(&buyer, id, "complete").await;

    app.expire(id).await;
    drained(&app.bus, &consumer_name("orders", EXPIRATION_COMPLETE)).await;

    assert_eq!(app.order(&buyer, id).await, paid);
    app.outbox_empty().await;
    assert_eq!(stored(&app.bus, "order.cancelled").await, 0);
}

const EXPIRATION_COMPLETE: &str = <ExpirationComplete as common::events::Event>::SUBJECT;

#[tokio::test]
async fn a_payment_completes_a_created_order_once_even_when_delivered_twice() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    let mut completed = Probe::<OrderCompleted>::start(&app.bus).await;

    app.pay(id).await;
    app.pay(id).await;

    let paid = app.order_in(&buyer, id, "complete").await;
    assert_eq!(paid["version"], 1);
    let event = completed.next().await;
    assert_eq!(
        (event.id.as_str(), event.version, event.ticket.id.as_str()),
        (id, 1, ticket.id.as_str())
    );
    drained(&app.bus, &consumer_name("orders", "payment.created")).await;
    app.outbox_empty().await;
    assert_eq!(stored(&app.bus, "order.completed").await, 1);
}

#[tokio::test]
async fn a_payment_for_a_cancelled_order_does_not_complete_it() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(
        app.cancel(Some(&buyer), id).await.status(),
        StatusCode::NO_CONTENT
    );
    let cancelled = app.order(&buyer, id).await;

    app.pay(id).await;
    drained(&app.bus, &consumer_name("orders", "payment.created")).await;

    assert_eq!(app.order(&buyer, id).await, cancelled);
    app.outbox_empty().await;
    assert_eq!(stored(&app.bus, "order.completed").await, 0);
}

#[tokio::test]
async fn expiry_of_an_unknown_order_is_parked() {
    let app = spawn_app().await;
    let dead = dead_letter_subject(&consumer_name("orders", EXPIRATION_COMPLETE));
    let mut parked = Probe::<ExpirationComplete>::on_subject(&app.bus, &dead).await;

    app.expire(&ObjectId::new().to_hex()).await;

    assert!(parked.next_message(DEADLINE).await.is_some());
}

#[tokio::test]
async fn a_ticket_replicated_from_a_malformed_event_is_parked() {
    let app = spawn_app().await;
    let dead = dead_letter_subject(&consumer_name("orders", "ticket.created"));
    let mut parked = Probe::<common::events::TicketCreated>::on_subject(&app.bus, &dead).await;
    let mut bad = ticket("someone", 100);
    bad.id = "not-an-object-id".into();

    app.bus.publish(&bad).await.unwrap();

    assert!(parked.next_message(DEADLINE).await.is_some());
}

#[tokio::test]
async fn a_refund_is_shown_on_the_cancelled_order_without_a_new_version() {
    let app = spawn_app().await;
    let ticket = app.seeded_ticket().await;
    let (buyer, _) = user();
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["refunded"], false);
    assert_eq!(
        app.cancel(Some(&buyer), id).await.status(),
        StatusCode::NO_CONTENT
    );

    let refund = common::events::PaymentRefunded {
        id: ObjectId::new().to_hex(),
        order_id: id.to_string(),
        stripe_refund_id: "re_test".into(),
    };
    app.bus.publish(&refund).await.unwrap();

    let shown = eventually("the refund to show", || async {
        let order = app.order(&buyer, id).await;
        (order["refunded"] == true).then_some(order)
    })
    .await;
    assert_eq!(
        (shown["status"].as_str(), shown["version"].as_i64()),
        (Some("cancelled"), Some(1))
    );
}
