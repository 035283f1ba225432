//! Processes of the platform killed and started again mid-flow. Each test
//! ends with every rule holding and every replica at its source's versions.

use std::time::Duration;

use common::testing::eventually;
use mongodb::bson::{Document, doc, oid::ObjectId};
use reqwest::StatusCode;
use serde_json::{Value, json};
use system::{Platform, Profile};

use crate::helpers::{Person, database};
use crate::rules::rules_hold;

/// Sells `n` tickets and waits until the orders service knows them all.
pub(crate) async fn on_sale(seller: &Person, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let ticket = seller.sell(&format!("Seat {i}"), 20.0).await;
        ids.push(ticket["id"].as_str().unwrap().to_string());
    }
    ids
}

pub(crate) async fn place(buyer: &Person, ticket_id: &str) -> String {
    let response = buyer.order(ticket_id).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    order["id"].as_str().unwrap().to_string()
}

/// Pays as soon as payments knows the order.
pub(crate) async fn pay(buyer: &Person, order_id: &str) {
    eventually(
        &format!("payments to take a payment for {order_id}"),
        || async {
            let response = buyer
                .post(
                    "/api/payments",
                    &json!({ "orderId": order_id, "token": "pm_card_visa" }),
                )
                .await;
            (response.status() == StatusCode::CREATED).then_some(())
        },
    )
    .await;
}

/// One record of one service's database, read directly.
async fn record(
    platform: &Platform,
    service: &str,
    collection: &str,
    id: &str,
) -> Option<Document> {
    database(platform, service)
        .await
        .collection::<Document>(collection)
        .find_one(doc! { "_id": ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()
}

#[tokio::test]
async fn orders_killed_between_order_and_payment_completes_the_order_after_restart() {
    let mut platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let tickets = on_sale(&seller, 2).await;

    // One order that payments has already heard of, and one killed with its
    // `order.created` perhaps still in the outbox.
    let known = place(&buyer, &tickets[0]).await;
    eventually("payments to know the first order", || async {
        record(&platform, "payments", "orders", &known).await
    })
    .await;
    let fresh = place(&buyer, &tickets[1]).await;
    platform.kill("orders").await;

    pay(&buyer, &known).await;
    let order = record(&platform, "orders", "orders", &known).await.unwrap();
    assert_eq!(
        order.get_str("status").unwrap(),
        "created",
        "orders is down"
    );

    platform.restart("orders").await;
    pay(&buyer, &fresh).await;
    for order_id in [&known, &fresh] {
        buyer
            .until(&format!("/api/orders/{order_id}"), "status", "complete")
            .await;
    }
    for ticket_id in &tickets {
        buyer
            .until(&format!("/api/tickets/{ticket_id}"), "status", "sold")
            .await;
    }
    rules_hold(&platform).await;
}

#[tokio::test]
async fn nats_restarted_mid_flow_loses_nothing() {
    let mut platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let before = on_sale(&seller, 4).await;
    let placed = place(&buyer, &before[0]).await;
    let to_cancel = place(&buyer, &before[1]).await;

    platform.kill("nats-server").await;
    // Without the bus the services still take requests; what they publish
    // waits in their outboxes.
    let during = on_sale(&seller, 3).await;
    let cancelled = buyer.http_delete(&format!("/api/orders/{to_cancel}")).await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    platform.restart("nats-server").await;

    pay(&buyer, &placed).await;
    let late = place(&buyer, &during[0]).await;
    pay(&buyer, &late).await;
    buyer
        .until(&format!("/api/orders/{late}"), "status", "complete")
        .await;
    buyer
        .until(&format!("/api/orders/{placed}"), "status", "complete")
        .await;
    buyer
        .until(
            &format!("/api/tickets/{}", before[1]),
            "status",
            "available",
        )
        .await;
    // Everything but the two sold tickets is for sale again, none missing.
    let mut expected: Vec<String> = before[1..].iter().chain(&during[1..]).cloned().collect();
    expected.sort();
    eventually("every unsold ticket to be for sale", || async {
        let listed = buyer.json("/api/tickets").await;
        let mut ids: Vec<String> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        (ids == expected).then_some(())
    })
    .await;
    rules_hold(&platform).await;
}

#[tokio::test]
async fn expiration_killed_with_orders_pending_expires_them_after_restart() {
    let window = Duration::from_secs(3);
    // Orders' own sweep would expire them too: this is about expiration's.
    let settings = [("EXPIRY_SWEEP_SECONDS", "3600")];
    let mut platform = Platform::launch_with(window, Profile::Debug, &settings).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let tickets = on_sale(&seller, 4).await;

    let mut orders = vec![
        place(&buyer, &tickets[0]).await,
        place(&buyer, &tickets[1]).await,
    ];
    platform.kill("expiration").await;
    orders.push(place(&buyer, &tickets[2]).await);
    orders.push(place(&buyer, &tickets[3]).await);

    // Past every order's expiry, with nobody to expire them, they all wait.
    let mut latest = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    for order_id in &orders {
        let order = buyer.json(&format!("/api/orders/{order_id}")).await;
        let expires_at = order["expiresAt"].as_str().unwrap().parse().unwrap();
        latest = latest.max(expires_at);
    }
    let wait = (latest - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(500)).await;
    for order_id in &orders {
        let order = buyer.json(&format!("/api/orders/{order_id}")).await;
        assert_eq!(order["status"], "created", "expiration is down");
    }

    platform.restart("expiration").await;
    for order_id in &orders {
        buyer
            .until(&format!("/api/orders/{order_id}"), "status", "cancelled")
            .await;
    }
    for ticket_id in &tickets {
        buyer
            .until(&format!("/api/tickets/{ticket_id}"), "status", "available")
            .await;
    }
    rules_hold(&platform).await;
}

#[tokio::test]
async fn tickets_killed_while_orders_are_placed_catches_up_after_restart() {
    let mut platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let tickets = on_sale(&seller, 4).await;
    eventually("orders to know every ticket", || async {
        let known = database(&platform, "orders")
            .await
            .collection::<Document>("tickets")
            .count_documents(doc! {})
            .await
            .unwrap();
        (known == 4).then_some(())
    })
    .await;

    platform.kill("tickets").await;
    let reserved = place(&buyer, &tickets[0]).await;
    let paid = place(&buyer, &tickets[1]).await;
    pay(&buyer, &paid).await;
    let cancelled = place(&buyer, &tickets[2]).await;
    let response = buyer.http_delete(&format!("/api/orders/{cancelled}")).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    buyer
        .until(&format!("/api/orders/{paid}"), "status", "complete")
        .await;
    let unreachable = buyer.get(&format!("/api/tickets/{}", tickets[0])).await;
    assert!(unreachable.status().is_server_error(), "tickets is down");

    platform.restart("tickets").await;
    let expected = [
        (&tickets[0], "reserved"),
        (&tickets[1], "sold"),
        (&tickets[2], "available"),
        (&tickets[3], "available"),
    ];
    for (ticket_id, status) in expected {
        buyer
            .until(&format!("/api/tickets/{ticket_id}"), "status", status)
            .await;
    }
    let ticket = buyer.json(&format!("/api/tickets/{}", tickets[0])).await;
    assert_eq!(ticket["orderId"], reserved.as_str());
    rules_hold(&platform).await;
}

#[tokio::test]
async fn redis_killed_right_after_orders_were_scheduled_leaves_no_order_created_past_its_time() {
    const SWEEP: i64 = 3;
    let window = Duration::from_secs(4);
    // One buyer holds every order: the test is of expiry, not of hoarding.
    let settings = [
        ("EXPIRY_SWEEP_SECONDS", "3"),
        ("MAX_OPEN_ORDERS_PER_BUYER", "20"),
    ];
    let mut platform = Platform::launch_with(window, Profile::Debug, &settings).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let tickets = on_sale(&seller, 20).await;
    let stream = crate::helpers::stream(&platform).await;
    let mut cancellations = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            filter_subject: "ticketing.order.cancelled".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .messages()
        .await
        .unwrap();

    let mut orders = std::collections::BTreeMap::new();
    for ticket in &tickets {
        let id = place(&buyer, ticket).await;
        let order = buyer.json(&format!("/api/orders/{id}")).await;
        let expires_at: chrono::DateTime<chrono::Utc> =
            order["expiresAt"].as_str().unwrap().parse().unwrap();
        orders.insert(id, expires_at);
    }
    // As soon as expiration has them all in Redis, before its once-a-second
    // fsync, Redis dies: the last writes may be lost.
    eventually("expiration to have scheduled every order", || async {
        let mut consumer: async_nats::jetstream::consumer::PullConsumer =
            stream.get_consumer("expiration-order-created").await.ok()?;
        let info = consumer.info().await.ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
    platform.crash("redis-server").await;
    platform.restart("redis-server").await;

    use futures::StreamExt;
    while !orders.is_empty() {
        let message = tokio::time::timeout(Duration::from_secs(60), cancellations.next())
            .await
            .expect("every order is cancelled")
            .unwrap()
            .unwrap();
        let event: common::events::OrderCancelled =
            serde_json::from_slice(&message.payload).unwrap();
        let Some(expires_at) = orders.remove(&event.id) else {
            continue;
        };
        // The sweep runs every SWEEP seconds; a pass takes moments.
        let latest = expires_at + chrono::Duration::seconds(SWEEP + 2);
        assert!(
            common::testing::published_at(&message) <= latest,
            "order {} stayed created until {}, past {latest}",
            event.id,
            common::testing::published_at(&message)
        );
    }
    rules_hold(&platform).await;
}

#[tokio::test]
async fn a_service_that_crashes_is_started_again_by_make_up() {
    let mut platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let crashed = platform.pid("tickets");

    platform.crash("tickets").await;

    platform.restarted_by_make_up("tickets", crashed).await;
    seller.sell("After the crash", 10.0).await;
}
