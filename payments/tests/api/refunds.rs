use common::events::PaymentRefunded;
use common::testing::{Probe, eventually};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, buyer, cancelled, spawn_app};

/// Waits until the order's payment is refunded at localstripe and in our records.
async fn refunded(app: &TestApp, order_id: &str, stripe_id: &str) {
    let refund_id = eventually(
        &format!("the payment of {order_id} to be refunded"),
        || async { app.payment_for(order_id).await?.stripe_refund_id },
    )
    .await;
    let refund: Value = app
        .stripe_get(&format!("{}/v1/refunds/{refund_id}", app.stripe_url()))
        .await;
    assert_eq!(refund["payment_intent"], stripe_id);
    assert_eq!(refund["amount"], 1250);
}

#[tokio::test]
async fn a_paid_order_that_is_then_cancelled_is_refunded() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let mut refunds = Probe::<PaymentRefunded>::start(&app.bus).await;
    let response = app.pay_with(&cookie, &order.id, "pm_card_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let payment: Value = response.json().await.unwrap();

    app.bus.publish(&cancelled(&order)).await.unwrap();

    let event = refunds.next().await;
    assert_eq!(event.id, payment["id"].as_str().unwrap());
    assert_eq!(event.order_id, order.id);
    refunded(&app, &order.id, payment["stripeId"].as_str().unwrap()).await;
}

#[tokio::test]
async fn payments_racing_cancellations_end_refunded_or_never_charged() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(app.seeded_order(&user_id).await);
    }

    let outcomes = join_all(orders.iter().map(|order| {
        let (app, cookie) = (&app, &cookie);
        async move {
            let cancellation = cancelled(order);
            let (response, published) = tokio::join!(
                app.pay_with(cookie, &order.id, "pm_card_visa"),
                app.bus.publish(&cancellation),
            );
            published.unwrap();
            response
        }
    }))
    .await;

    for (order, response) in orders.iter().zip(outcomes) {
        match response.status() {
            StatusCode::CREATED => {
                let payment: Value = response.json().await.unwrap();
                refunded(&app, &order.id, payment["stripeId"].as_str().unwrap()).await;
            }
            StatusCode::BAD_REQUEST => {
                assert_eq!(
                    app.succeeded_charges(&order.id).await,
                    0,
                    "refused, so never charged"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
}

#[tokio::test]
async fn a_charge_recorded_after_its_order_was_cancelled_is_refunded() {
    let app = spawn_app().await;
    let (_, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let order_id = mongodb::bson::oid::ObjectId::parse_str(&order.id).unwrap();
    // As a request does: lock, charge...
    let attempt = app
        .payments
        .lock(order_id, chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap()
        .expect("the lock is free");
    let token = payments::domain::PaymentToken::parse("pm_card_visa").unwrap();
    let stripe_id = app
        .stripe
        .charge(1250, &token, &order.id, &attempt.idempotency_key())
        .await
        .unwrap();
    // ...while the order is cancelled, before the charge is recorded.
    app.bus.publish(&cancelled(&order)).await.unwrap();
    app.replica_at(&order.id, 1).await;

    let recorded = app
        .payments
        .record(&attempt, &stripe_id, 1250)
        .await
        .unwrap();

    assert!(recorded.refund_due);
    refunded(&app, &order.id, &stripe_id).await;
}
