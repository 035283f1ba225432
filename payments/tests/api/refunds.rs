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
    // As a request does: create the intent, confirm it...
    let token = payments::domain::PaymentToken::parse("pm_card_visa").unwrap();
    let intent = app.stripe.create_intent(&order.id, 1250).await.unwrap();
    let stripe_id = app.stripe.confirm(&intent.id, &token).await.unwrap().id;
    // ...while the order is cancelled, before the charge is recorded.
    app.bus.publish(&cancelled(&order)).await.unwrap();
    app.replica_at(&order.id, 1).await;

    let recorded = app
        .payments
        .record(order_id, &stripe_id, 1250)
        .await
        .unwrap();

    assert!(recorded.refund_due);
    refunded(&app, &order.id, &stripe_id).await;
}

/// Pays a fresh order of `user_id`'s with a good card; gives the order and
/// its PaymentIntent's id.
async fn paid_order(
    app: &TestApp,
    cookie: &str,
    user_id: &str,
) -> (common::events::OrderCreated, String) {
    let order = app.seeded_order(user_id).await;
    let response = app.pay_with(cookie, &order.id, "pm_card_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let payment: Value = response.json().await.unwrap();
    (order, payment["stripeId"].as_str().unwrap().to_string())
}

/// The refunds localstripe holds of a PaymentIntent.
async fn refunds_at_stripe(app: &TestApp, intent: &str) -> Vec<String> {
    let url = format!("{}/v1/refunds?payment_intent={intent}", app.stripe_url());
    let page = app.stripe_get(&url).await;
    page["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|refund| refund["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_payment_stripe_refunded_already_is_recorded_and_not_refunded_again() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let (order, intent) = paid_order(&app, &cookie, &user_id).await;
    // Refunded once already: a try whose answer was lost, or one after
    // Stripe's idempotency window, which Stripe answers "already refunded".
    let earlier: Value = app
        .client
        .post(format!("{}/v1/refunds", app.stripe_url()))
        .bearer_auth(crate::helpers::STRIPE_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("payment_intent={intent}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    app.bus.publish(&cancelled(&order)).await.unwrap();

    let recorded = eventually("the refund to be recorded", || async {
        app.payment_for(&order.id).await?.stripe_refund_id
    })
    .await;
    assert_eq!(recorded, earlier["id"].as_str().unwrap());
    assert_eq!(
        refunds_at_stripe(&app, &intent).await,
        vec![recorded],
        "refunded twice"
    );
}

#[tokio::test]
async fn refunds_that_keep_failing_wait_longer_and_hold_up_no_other() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    // A full batch of refunds Stripe refuses every time, owed for a minute.
    let owed_since =
        mongodb::bson::DateTime::from_millis(chrono::Utc::now().timestamp_millis() - 60_000);
    let refused: Vec<_> = (0..100)
        .map(|_| {
            mongodb::bson::doc! {
                "_id": mongodb::bson::oid::ObjectId::new(),
                "orderId": mongodb::bson::oid::ObjectId::new(),
                "stripeId": format!("pi_{}", mongodb::bson::oid::ObjectId::new()),
                "amount": 1250_i64,
                "createdAt": owed_since,
                "refundDue": true,
                "nextRefundAt": owed_since,
            }
        })
        .collect();
    let first = refused[0].get_object_id("_id").unwrap();
    app.database
        .collection::<mongodb::bson::Document>("payments")
        .insert_many(refused)
        .await
        .unwrap();
    let (order, intent) = paid_order(&app, &cookie, &user_id).await;

    app.bus.publish(&cancelled(&order)).await.unwrap();

    refunded(&app, &order.id, &intent).await;
    let failing = eventually("a refused refund to be tried twice", || async {
        let payment = app
            .database
            .collection::<mongodb::bson::Document>("payments")
            .find_one(mongodb::bson::doc! { "_id": first })
            .await
            .ok()??;
        (payment
            .get_i64("refundFailures")
            .or(payment.get_i32("refundFailures").map(i64::from))
            .ok()?
            >= 2)
            .then_some(payment)
    })
    .await;
    let next = failing
        .get_datetime("nextRefundAt")
        .unwrap()
        .timestamp_millis();
    assert!(
        next > chrono::Utc::now().timestamp_millis(),
        "put off, not retried at once"
    );
    assert!(failing.get_bool("refundDue").unwrap(), "still owed");
}
