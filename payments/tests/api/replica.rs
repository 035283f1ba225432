use common::dispatch::consumer_name;
use common::testing::{drained, publish_again};
use mongodb::bson::oid::ObjectId;

use crate::helpers::{buyer, cancelled, order, spawn_app};

#[tokio::test]
async fn a_cancellation_delivered_before_its_creation_is_applied_after_it() {
    let app = spawn_app().await;
    let (_, user_id) = buyer();
    let order = order(&user_id, chrono::Utc::now() + chrono::Duration::minutes(15));

    app.bus.publish(&cancelled(&order)).await.unwrap();
    app.bus.publish(&order).await.unwrap();

    app.replica_at(&order.id, 1).await;
    let stored = app
        .payments
        .order(ObjectId::parse_str(&order.id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, common::events::OrderStatus::Cancelled);
}

#[tokio::test]
async fn a_duplicate_order_created_changes_nothing() {
    let app = spawn_app().await;
    let (_, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    app.bus.publish(&cancelled(&order)).await.unwrap();
    app.replica_at(&order.id, 1).await;

    publish_again(&app.bus, &order).await;
    drained(&app.bus, &consumer_name("payments", "order.created")).await;

    let stored = app
        .payments
        .order(ObjectId::parse_str(&order.id).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.version, stored.status),
        (1, common::events::OrderStatus::Cancelled)
    );
}
