//! One PaymentIntent per order: whatever timeouts, retries and concurrent
//! attempts befall it, it is confirmed, never created again, and succeeds
//! at most once; 3-D Secure is completed in the browser.

use std::time::Duration;

use common::events::PaymentCreated;
use common::testing::{Probe, stored};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    DECLINED_CARD, GOOD_CARD, THREE_D_SECURE_CARD, TestApp, buyer, errors, settings, spawn_app,
    start,
};
use crate::stall::StallingStripe;

#[tokio::test]
async fn a_charge_answered_too_late_is_read_back_and_a_retry_with_another_card_charges_nothing_more()
 {
    // Stripe takes the money and answers after the service has given up.
    let stripe_url = common::testing::servers()
        .stripe_url
        .expect("TEST_STRIPE_URL is set");
    let proxy = StallingStripe::start(&stripe_url, Duration::from_secs(6)).await;
    let mut slow = settings();
    slow.stripe.api_base = proxy.url.clone();
    slow.stripe.timeout = Duration::from_secs(1);
    let app = start(slow).await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let (first_card, second_card) = (app.card(GOOD_CARD).await, app.card(GOOD_CARD).await);

    // The buyer gives up waiting, and their connection drops...
    let dropped = app
        .client
        .post(format!("{}/api/payments", app.address))
        .header("cookie", &cookie)
        .json(&json!({ "orderId": order.id, "token": first_card }))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(dropped.is_err(), "the first attempt was answered in time");
    // ...and they try again with another card.
    let retried = app.pay_with(&cookie, &order.id, &second_card).await;

    assert!(retried.status().is_success(), "{}", retried.status());
    // The service gave up on the late answer and read the intent back: it
    // knew of the payment while Stripe's answer was still held.
    assert!(!proxy.released(), "the payment waited for the late answer");
    assert_eq!(
        app.charges(&order.id).await,
        [("succeeded".to_string(), 1250)],
        "one intent"
    );
    common::testing::outbox_empty(&app.database).await;
    assert_eq!(stored(&app.bus, "payment.created").await, 1);
}

#[tokio::test]
async fn twenty_attempts_at_once_with_different_cards_make_one_succeeded_intent() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let cards = join_all((0..20).map(|_| app.card(GOOD_CARD))).await;

    let responses = join_all(
        cards
            .iter()
            .map(|card| app.pay_with(&cookie, &order.id, card)),
    )
    .await;

    let statuses: Vec<_> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| s.is_success()), "{statuses:?}");
    assert_eq!(
        app.charges(&order.id).await,
        [("succeeded".to_string(), 1250)]
    );
    common::testing::outbox_empty(&app.database).await;
    assert_eq!(stored(&app.bus, "payment.created").await, 1);
}

/// Pays with a card that needs 3-D Secure: the 202's intent id and secret.
async fn needs_authentication(app: &TestApp, cookie: &str, order_id: &str) -> (String, String) {
    let card = app.card(THREE_D_SECURE_CARD).await;
    let response = app.pay_with(cookie, order_id, &card).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let pending: Value = response.json().await.unwrap();
    assert_eq!(pending["status"], "requires_action");
    assert_eq!(pending["orderId"], order_id);
    let secret = pending["clientSecret"]
        .as_str()
        .expect("a client secret")
        .to_string();
    (pending["stripeId"].as_str().unwrap().to_string(), secret)
}

#[tokio::test]
async fn a_card_that_needs_3d_secure_is_paid_once_the_buyer_authenticates() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let mut created = Probe::<PaymentCreated>::start(&app.bus).await;
    let (intent, secret) = needs_authentication(&app, &cookie, &order.id).await;
    assert!(
        app.payment_for(&order.id).await.is_none(),
        "not paid before authenticating"
    );

    app.authenticate(&intent, &secret, true).await;

    // localstripe's webhook tells the service.
    let event = created.next().await;
    assert_eq!(
        (event.order_id.as_str(), event.stripe_id.as_str()),
        (order.id.as_str(), intent.as_str())
    );
    assert!(app.payment_for(&order.id).await.is_some());
    assert_eq!(
        app.charges(&order.id).await,
        [("succeeded".to_string(), 1250)]
    );
}

#[tokio::test]
async fn a_failed_3d_secure_check_leaves_the_order_payable_with_another_card() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let (intent, secret) = needs_authentication(&app, &cookie, &order.id).await;

    app.authenticate(&intent, &secret, false).await;

    let good = app.card(GOOD_CARD).await;
    let response = app.pay_with(&cookie, &order.id, &good).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(paid["stripeId"], intent.as_str(), "the same intent");
    assert_eq!(
        app.charges(&order.id).await,
        [("succeeded".to_string(), 1250)]
    );
}

#[tokio::test]
async fn a_declined_card_is_402_and_the_same_intent_then_succeeds_with_a_good_one() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;
    let (declined, good) = (app.card(DECLINED_CARD).await, app.card(GOOD_CARD).await);

    let items = errors(
        app.pay_with(&cookie, &order.id, &declined).await,
        StatusCode::PAYMENT_REQUIRED,
    )
    .await;
    assert_eq!(items[0].1.as_deref(), Some("token"));

    let response = app.pay_with(&cookie, &order.id, &good).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        app.charges(&order.id).await,
        [("succeeded".to_string(), 1250)]
    );
}

#[tokio::test]
async fn a_card_stripe_does_not_know_is_400_in_our_words() {
    let app = spawn_app().await;
    let (cookie, user_id) = buyer();
    let order = app.seeded_order(&user_id).await;

    let response = app
        .pay_with(&cookie, &order.id, "pm_notacardanyonemade")
        .await;

    let items = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        (items[0].0.as_str(), items[0].1.as_deref()),
        ("The card was not recognised", Some("token"))
    );
    assert!(app.payment_for(&order.id).await.is_none());
}
