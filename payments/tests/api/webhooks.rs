//! Stripe's word by webhook, and what payments does when that word is lost:
//! signatures checked, each event handled once, intents read back when
//! nothing was heard, called off when their order ended unpaid.

use std::time::Duration;

use common::events::{OrderCreated, PaymentCreated, PaymentRefunded};
use common::testing::{Probe, eventually, stored};
use payments::domain::signature::sign;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    THREE_D_SECURE_CARD, TestApp, WEBHOOK_SECRET, buyer, cancelled, errors, settings, spawn_app,
    start,
};

/// An order paid by 3-D Secure at Stripe while no webhook told the service:
/// the order, and the succeeded intent as Stripe holds it.
async fn paid_unheard(app: &TestApp, cookie: &str, user_id: &str) -> (OrderCreated, Value) {
    let order = app.seeded_order(user_id).await;
    let card = app.card(THREE_D_SECURE_CARD).await;
    let response = app.pay_with(cookie, &order.id, &card).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let pending: Value = response.json().await.unwrap();
    let intent = pending["stripeId"].as_str().unwrap();
    app.authenticate(intent, pending["clientSecret"].as_str().unwrap(), true)
        .await;
    let held = app
        .stripe_get(&format!("{}/v1/payment_intents/{intent}", app.stripe_url()))
        .await;
    assert_eq!(held["status"], "succeeded");
    (order, held)
}

fn succeeded_event(intent: &Value) -> Vec<u8> {
    let event = json!({
        "id": common::testing::unique("evt"),
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": intent },
    });
    serde_json::to_vec(&event).unwrap()
}

async fn deliver(app: &TestApp, body: &[u8], signature: Option<String>) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/api/payments/webhook", app.address))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_delivery_without_stripe_s_fresh_signature_is_400_and_changes_nothing() {
    let app = start(settings()).await;
    let (cookie, user_id) = buyer();
    let (order, intent) = paid_unheard(&app, &cookie, &user_id).await;
    let body = succeeded_event(&intent);
    let now = chrono::Utc::now().timestamp();
    let cases = [
        ("missing", None),
        ("wrong", Some(sign(&body, "whsec_someone_else", now))),
        (
            "six minutes old",
            Some(sign(&body, WEBHOOK_SECRET, now - 360)),
        ),
        ("for another body", Some(sign(b"{}", WEBHOOK_SECRET, now))),
    ];

    for (case, signature) in cases {
        let items = errors(
            deliver(&app, &body, signature).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(items[0].1.as_deref(), Some("Stripe-Signature"), "{case}");
    }

    assert!(app.payment_for(&order.id).await.is_none());
    assert_eq!(stored(&app.bus, "payment.created").await, 0);
}

#[tokio::test]
async fn the_same_event_delivered_three_times_records_one_payment() {
    let app = start(settings()).await;
    let (cookie, user_id) = buyer();
    let (order, intent) = paid_unheard(&app, &cookie, &user_id).await;
    let body = succeeded_event(&intent);
    let signature = sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp());

    let deliveries =
        futures::future::join_all((0..3).map(|_| deliver(&app, &body, Some(signature.clone()))))
            .await;

    assert!(deliveries.iter().all(|r| r.status() == StatusCode::OK));
    assert!(app.payment_for(&order.id).await.is_some());
    eventually("the outbox to be empty", || async {
        (app.payments.outbox().pending().await.ok()? == 0).then_some(())
    })
    .await;
    assert_eq!(stored(&app.bus, "payment.created").await, 1);
}

#[tokio::test]
async fn a_payment_made_while_its_webhook_was_lost_is_recorded_when_payments_starts_again() {
    let app = start(settings()).await;
    let (cookie, user_id) = buyer();
    let (order, _) = paid_unheard(&app, &cookie, &user_id).await;
    let settings = app.stop().await;

    let app = start(settings).await;

    let mut created = Probe::<PaymentCreated>::start(&app.bus).await;
    assert_eq!(created.next().await.order_id, order.id);
    assert!(app.payment_for(&order.id).await.is_some());
}

#[tokio::test]
async fn a_payment_that_succeeds_after_its_order_was_cancelled_is_refunded_once() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let mut refunds = Probe::<PaymentRefunded>::start(&app.bus).await;
    let card = app.card(THREE_D_SECURE_CARD).await;
    let pending: Value = app
        .pay_with(&cookie, &order.id, &card)
        .await
        .json()
        .await
        .unwrap();
    app.bus.publish(&cancelled(&order)).await.unwrap();
    app.replica_at(&order.id, 1).await;

    // The buyer completes 3-D Secure just after the order was cancelled.
    let intent = pending["stripeId"].as_str().unwrap();
    app.authenticate(intent, pending["clientSecret"].as_str().unwrap(), true)
        .await;

    let refund = refunds.next().await;
    assert_eq!(refund.order_id, order.id);
    refunds.assert_no_more(Duration::from_secs(2)).await;
    let listed = app
        .stripe_get(&format!(
            "{}/v1/refunds?payment_intent={intent}",
            app.stripe_url()
        ))
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "refunded once");
}

#[tokio::test]
async fn the_intent_of_an_order_cancelled_unpaid_is_cancelled_at_stripe() {
    let mut quick = settings();
    quick.reconcile.every = Duration::from_millis(200);
    let app = start(quick).await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let card = app.card(THREE_D_SECURE_CARD).await;
    let pending: Value = app
        .pay_with(&cookie, &order.id, &card)
        .await
        .json()
        .await
        .unwrap();
    let intent = pending["stripeId"].as_str().unwrap().to_string();

    app.bus.publish(&cancelled(&order)).await.unwrap();

    eventually("the intent to be cancelled at Stripe", || async {
        let held = app
            .stripe_get(&format!("{}/v1/payment_intents/{intent}", app.stripe_url()))
            .await;
        (held["status"] == "canceled").then_some(())
    })
    .await;
    assert!(app.payment_for(&order.id).await.is_none());
}

#[tokio::test]
async fn an_intent_stripe_cannot_be_asked_about_goes_to_the_back_of_the_reconciler_s_queue() {
    let app = spawn_app().await;
    let open = |n: u8| payments::stripe::Intent {
        id: format!("pi_queue_{n}"),
        status: payments::domain::IntentStatus::RequiresAction,
        client_secret: None,
        amount: 1250,
        order_id: None,
        last_error: None,
    };
    let (first, second) = (
        mongodb::bson::oid::ObjectId::new(),
        mongodb::bson::oid::ObjectId::new(),
    );
    for (order, n) in [(first, 1), (second, 2)] {
        let until = chrono::Utc::now();
        app.payments
            .lock(order, until)
            .await
            .unwrap()
            .expect("the lock");
        app.payments.note_intent(order, &open(n)).await.unwrap();
    }
    let due = chrono::Utc::now() + chrono::Duration::seconds(5);
    let head = |limit| app.payments.unsettled_intents(due, limit);
    assert_eq!(head(1).await.unwrap()[0].order_id, first);

    app.payments.put_back(first).await.unwrap();

    assert_eq!(head(1).await.unwrap()[0].order_id, second);
    assert_eq!(head(10).await.unwrap().len(), 2, "put back, not dropped");
}
