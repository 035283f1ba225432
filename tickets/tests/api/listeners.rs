use common::dispatch::{DEAD_REASON_HEADER, consumer_name, dead_letter_subject};
use common::events::{OrderCreated, TicketUpdated};
use common::testing::{Probe, drained, outbox_empty, publish_again, stored};
use serde_json::Value;

use common::testing::eventually;

use crate::helpers::{Order, TestApp, spawn_app, user};

async fn listed(app: &TestApp) -> (Value, String) {
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Concert", 10.0).await;
    let id = ticket["id"].as_str().unwrap().to_string();
    (ticket, id)
}

async fn drained_created(app: &TestApp) {
    drained(&app.bus, &consumer_name("tickets", "order.created")).await;
}

#[tokio::test]
async fn an_order_holds_its_ticket_and_ticket_updated_names_the_order() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let order = Order::of(&ticket, 0);
    let mut updated = Probe::<TicketUpdated>::start(&app.bus).await;

    app.bus.publish(&order.created()).await.unwrap();

    let held = app.at_version(&id, 1).await;
    assert_eq!(held["status"], "reserved");
    assert_eq!(held["orderId"], order.id.as_str());
    let event = updated.next().await;
    assert_eq!((event.version, event.order_id), (1, Some(order.id.clone())));
}

#[tokio::test]
async fn a_duplicate_order_created_changes_nothing() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let order = Order::of(&ticket, 0);
    app.bus.publish(&order.created()).await.unwrap();
    let held = app.at_version(&id, 1).await;

    publish_again(&app.bus, &order.created()).await;
    drained_created(&app).await;

    assert_eq!(app.ticket(&id).await, held);
    outbox_empty(&app.database).await;
    assert_eq!(stored(&app.bus, "ticket.updated").await, 1);
}

#[tokio::test]
async fn a_duplicate_order_created_after_its_cancellation_leaves_the_ticket_for_sale() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let order = Order::of(&ticket, 0);
    app.bus.publish(&order.created()).await.unwrap();
    app.bus.publish(&order.cancelled()).await.unwrap();
    let released = app.at_version(&id, 2).await;

    publish_again(&app.bus, &order.created()).await;
    drained_created(&app).await;

    assert_eq!(app.ticket(&id).await, released);
    assert_eq!(released["status"], "available");
    outbox_empty(&app.database).await;
    assert_eq!(stored(&app.bus, "ticket.updated").await, 2);
}

#[tokio::test]
async fn an_order_event_with_a_malformed_order_id_is_parked_at_once() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let dead = dead_letter_subject(&consumer_name("tickets", "order.created"));
    let mut parked = Probe::<OrderCreated>::on_subject(&app.bus, &dead).await;
    let mut order = Order::of(&ticket, 0);
    order.id = "orders.$bad".into();

    app.bus.publish(&order.created()).await.unwrap();

    let message = parked
        .next_message(common::testing::DEADLINE)
        .await
        .expect("parked");
    assert_eq!(message.info().unwrap().delivered, 1, "not retried");
    assert_eq!(app.ticket(&id).await["version"], 0);
}

/// Nothing waits in the inbox and nothing was parked: an event let
/// through from the inbox may still be parked until its row is gone.
async fn settled(app: &TestApp) {
    const SUBJECTS: [&str; 3] = ["order.created", "order.cancelled", "order.completed"];
    for subject in SUBJECTS {
        drained(&app.bus, &consumer_name("tickets", subject)).await;
    }
    let inbox = common::inbox::Inbox::new(&app.database);
    eventually("the inbox to be empty", || async {
        (inbox.waiting().await.ok()? == 0).then_some(())
    })
    .await;
    for subject in SUBJECTS {
        let dead = dead_letter_subject(&consumer_name("tickets", subject));
        assert_eq!(
            stored(&app.bus, &dead).await,
            0,
            "a dead letter of {subject}"
        );
    }
}

#[tokio::test]
async fn cancelling_order_a_after_order_b_holds_the_ticket_leaves_it_with_b() {
    let app = spawn_app().await;
    let _second = app.replica().await;
    let (ticket, id) = listed(&app).await;
    let (a, b) = (Order::of(&ticket, 0), Order::of(&ticket, 1));
    app.bus.publish(&a.created()).await.unwrap();
    app.bus.publish(&a.cancelled()).await.unwrap();
    app.bus.publish(&b.created()).await.unwrap();
    let held = app.at_version(&id, 3).await;
    assert_eq!(held["orderId"], b.id.as_str());

    publish_again(&app.bus, &a.cancelled()).await;
    drained(&app.bus, &consumer_name("tickets", "order.cancelled")).await;

    assert_eq!(app.ticket(&id).await, held, "still held by B");
    settled(&app).await;
}

#[tokio::test]
async fn b_s_hold_delivered_before_a_s_events_leaves_the_ticket_with_b() {
    let app = spawn_app().await;
    let _second = app.replica().await;
    let (ticket, id) = listed(&app).await;
    let (a, b) = (Order::of(&ticket, 0), Order::of(&ticket, 1));

    // Two replicas, every event in the reverse of the order orders made them.
    app.bus.publish(&b.created()).await.unwrap();
    app.bus.publish(&a.cancelled()).await.unwrap();
    app.bus.publish(&a.created()).await.unwrap();

    let held = app.at_version(&id, 3).await;
    assert_eq!(held["orderId"], b.id.as_str());
    assert_eq!(held["status"], "reserved");
    settled(&app).await;
}

#[tokio::test]
async fn an_order_for_a_held_ticket_waits_until_the_holder_releases_it() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let (a, b) = (Order::of(&ticket, 0), Order::of(&ticket, 1));
    app.bus.publish(&a.created()).await.unwrap();
    app.at_version(&id, 1).await;

    // B's creation can overtake A's cancellation: they travel on different subjects.
    app.bus.publish(&b.created()).await.unwrap();
    app.bus.publish(&a.cancelled()).await.unwrap();

    let held = app.at_version(&id, 3).await;
    assert_eq!(held["orderId"], b.id.as_str());
    settled(&app).await;
}

#[tokio::test]
async fn a_cancellation_delivered_before_its_creation_is_applied_after_it() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let order = Order::of(&ticket, 0);

    app.bus.publish(&order.cancelled()).await.unwrap();
    app.bus.publish(&order.created()).await.unwrap();

    let released = app.at_version(&id, 2).await;
    assert_eq!(released["status"], "available");
    assert_eq!(released["orderId"], Value::Null);
}

#[tokio::test]
async fn a_completed_order_sells_the_ticket_for_good() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let order = Order::of(&ticket, 0);
    app.bus.publish(&order.created()).await.unwrap();
    app.bus.publish(&order.completed()).await.unwrap();

    let sold = app.at_version(&id, 2).await;

    assert_eq!(sold["status"], "sold");
    assert_eq!(sold["orderId"], order.id.as_str());
    assert!(app.for_sale().await.is_empty());
}

#[tokio::test]
async fn an_order_for_a_sold_ticket_never_holds_it_and_is_parked_at_once() {
    let app = spawn_app().await;
    let (ticket, id) = listed(&app).await;
    let buyer = Order::of(&ticket, 0);
    app.bus.publish(&buyer.created()).await.unwrap();
    app.bus.publish(&buyer.completed()).await.unwrap();
    let sold = app.at_version(&id, 2).await;
    let dead = dead_letter_subject(&consumer_name("tickets", "order.created"));
    let mut parked = Probe::<OrderCreated>::on_subject(&app.bus, &dead).await;

    let late = Order::of(&ticket, 1);
    app.bus.publish(&late.created()).await.unwrap();

    let message = parked
        .next_message(common::testing::DEADLINE)
        .await
        .expect("parked");
    let reason = message
        .headers
        .as_ref()
        .and_then(|h| h.get(DEAD_REASON_HEADER))
        .unwrap();
    assert!(reason.as_str().contains("sold to another"), "{reason}");
    assert_eq!(message.info().unwrap().delivered, 1, "not retried");
    assert_eq!(app.ticket(&id).await, sold);
}

#[tokio::test]
async fn an_order_for_an_unknown_ticket_is_parked_at_once() {
    let app = spawn_app().await;
    let dead = dead_letter_subject(&consumer_name("tickets", "order.created"));
    let mut parked = Probe::<OrderCreated>::on_subject(&app.bus, &dead).await;
    let order = Order::of(&serde_json::json!({ "id": "507f1f77bcf86cd799439011" }), 0);

    app.bus.publish(&order.created()).await.unwrap();

    let message = parked
        .next_message(common::testing::DEADLINE)
        .await
        .expect("parked");
    let info = message.info().unwrap();
    assert_eq!(info.delivered, 1, "not retried");
}
