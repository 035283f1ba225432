use chrono::{Duration, Utc};
use common::events::PaymentCreated;
use common::testing::{Probe, stored};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{buyer, cancelled, errors, order, spawn_app};

#[tokio::test]
async fn the_buyer_pays_with_the_test_card_and_payment_created_is_published() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let mut created = Probe::<PaymentCreated>::start(&app.bus).await;

    let response = app.pay_with(&cookie, &order.id, "pm_card_visa").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let payment: Value = response.json().await.unwrap();
    assert_eq!(payment["orderId"], order.id.as_str());
    assert!(payment["stripeId"].as_str().unwrap().starts_with("pi_"));
    assert_eq!(
        app.charges(&order.id).await,
        [("succeeded".to_string(), 1250)]
    );
    let event = created.next().await;
    assert_eq!(event.id, payment["id"].as_str().unwrap());
    assert_eq!(
        (event.order_id.as_str(), event.amount),
        (order.id.as_str(), 1250)
    );
    assert_eq!(event.stripe_id, payment["stripeId"].as_str().unwrap());
}

#[tokio::test]
async fn paying_without_signing_in_is_401() {
    let app = spawn_app().await;
    let (_, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let response = app
        .pay(
            None,
            &json!({ "orderId": order.id, "token": "pm_card_visa" }),
        )
        .await;
    errors(response, StatusCode::UNAUTHORIZED).await;
    assert!(app.charges(&order.id).await.is_empty());
}

#[tokio::test]
async fn malformed_input_is_400_on_the_field() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let cases = [
        (
            json!({ "orderId": "nope", "token": "pm_card_visa" }),
            "orderId",
        ),
        (json!({ "token": "pm_card_visa" }), "orderId"),
        (json!({ "orderId": order.id }), "token"),
        (json!({ "orderId": order.id, "token": "" }), "token"),
        (json!({ "orderId": order.id, "token": 7 }), "token"),
    ];
    for (body, field) in cases {
        let items = errors(app.pay(Some(&cookie), &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(items[0].1.as_deref(), Some(field), "{body}");
    }
    assert!(app.charges(&order.id).await.is_empty());
}

#[tokio::test]
async fn an_unknown_order_is_404() {
    let app = spawn_app().await;
    let (cookie, _) = buyer();
    let response = app
        .pay_with(&cookie, "507f1f77bcf86cd799439011", "pm_card_visa")
        .await;
    errors(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn someone_elses_order_is_403_and_is_not_charged() {
    let app = spawn_app().await;
    let (_, owner) = buyer();
    let (stranger, _) = buyer();
    let order = app.seeded_order(&owner).await;

    let response = app.pay_with(&stranger, &order.id, "pm_card_visa").await;

    errors(response, StatusCode::FORBIDDEN).await;
    assert!(app.charges(&order.id).await.is_empty());
}

#[tokio::test]
async fn a_cancelled_order_is_400_and_is_not_charged() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    app.bus.publish(&cancelled(&order)).await.unwrap();
    app.replica_at(&order.id, 1).await;

    let response = app.pay_with(&cookie, &order.id, "pm_card_visa").await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "Cannot pay for a cancelled order");
    assert!(app.charges(&order.id).await.is_empty());
}

#[tokio::test]
async fn an_order_past_its_expiry_is_400_and_is_not_charged() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = order(&user_id, Utc::now() - Duration::seconds(1));
    app.seed(&order).await;

    let response = app.pay_with(&cookie, &order.id, "pm_card_visa").await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(items[0].0, "The order has expired");
    assert!(app.charges(&order.id).await.is_empty());
}

#[tokio::test]
async fn paying_twice_in_a_row_returns_the_first_payment_and_charges_once() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;

    let first = app.pay_with(&cookie, &order.id, "pm_card_visa").await;
    let second = app.pay_with(&cookie, &order.id, "pm_card_visa").await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(second.status(), StatusCode::OK);
    let (first, second): (Value, Value) =
        (first.json().await.unwrap(), second.json().await.unwrap());
    assert_eq!(first, second);
    assert_eq!(app.charges(&order.id).await.len(), 1);
}

#[tokio::test]
async fn ten_payments_at_once_charge_once_and_answer_with_one_payment() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;

    let responses =
        join_all((0..10).map(|_| app.pay_with(&cookie, &order.id, "pm_card_visa"))).await;

    let statuses: Vec<_> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        9,
        "{statuses:?}"
    );
    let bodies: Vec<Value> = join_all(responses.into_iter().map(|r| r.json::<Value>()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(bodies.iter().all(|body| body == &bodies[0]), "one payment");
    assert_eq!(
        app.charges(&order.id).await.len(),
        1,
        "one charge at localstripe"
    );
    common::testing::outbox_empty(&app.database).await;
    assert_eq!(stored(&app.bus, "payment.created").await, 1);
}

#[tokio::test]
async fn a_declined_card_is_402_with_stripes_message_records_nothing_and_the_order_can_still_be_paid()
 {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;

    let response = app
        .pay_with(&cookie, &order.id, "pm_card_chargeCustomerFail")
        .await;

    let items = errors(response, StatusCode::PAYMENT_REQUIRED).await;
    assert_eq!(items[0].1.as_deref(), Some("token"));
    assert!(items[0].0.to_lowercase().contains("declined"), "{items:?}");
    assert!(app.payment_for(&order.id).await.is_none());
    assert_eq!(stored(&app.bus, "payment.created").await, 0);

    let response = app.pay_with(&cookie, &order.id, "pm_card_visa").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.succeeded_charges(&order.id).await, 1);
    assert_eq!(
        app.charges(&order.id).await.len(),
        1,
        "one intent, confirmed twice"
    );
}
