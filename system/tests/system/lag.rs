//! Consumers that lag for longer than the whole retry budget while the
//! subjects they follow fill up: each paused with SIGSTOP, as a stalled
//! process is, then resumed. Afterwards every replica equals its source
//! and no dead letter exists: early events waited in the inboxes, without
//! using up deliveries.

use std::time::Duration;

use common::config::ListenerConfig;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use system::{Platform, Profile};
use tokio::time::Instant;

use crate::helpers::{Person, dead_letters, quiet};
use crate::rules::rules_hold;

/// How long the paused consumers stay paused: longer than a message that
/// failed on every delivery takes to be parked, at the production settings.
fn pause() -> Duration {
    ListenerConfig::default().retry_budget() + Duration::from_secs(5)
}

/// Lets `process` run again when `paused_at + pause()` has come: the fault
/// lasts that long, whatever the test did meanwhile.
async fn resume_after_pause(platform: &Platform, processes: &[&str], paused_at: Instant) {
    tokio::time::sleep_until(paused_at + pause()).await;
    for process in processes {
        platform.signal(process, "CONT");
    }
}

/// Once the services have worked off the backlog: every rule holds, every
/// copy equals its source, and nothing was parked.
async fn converged(platform: &Platform) {
    quiet(platform, Duration::from_secs(300)).await;
    rules_hold(platform).await;
    assert_eq!(dead_letters(platform).await, 0, "a message was parked");
}

#[tokio::test]
async fn orders_paused_while_tickets_are_listed_and_edited_ends_with_every_copy_equal() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;

    platform.signal("orders", "STOP");
    let paused_at = Instant::now();
    let mut tickets = Vec::new();
    for i in 0..60 {
        let ticket = seller.sell(&format!("Seat {i}"), 20.0).await;
        tickets.push(ticket["id"].as_str().unwrap().to_string());
    }
    // Edited newest first: the first edits orders meets on resuming are of
    // the tickets whose creation comes last.
    for round in 1..=2 {
        for (i, id) in tickets.iter().enumerate().rev() {
            let body = json!({ "title": format!("Seat {i}, edit {round}"), "price": 20 + round });
            let response = seller_put(&seller, id, &body).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    resume_after_pause(&platform, &["orders"], paused_at).await;

    converged(&platform).await;
}

async fn seller_put(seller: &Person, id: &str, body: &Value) -> reqwest::Response {
    seller.put(&format!("/api/tickets/{id}"), body).await
}

/// Buyers enough that none holds more than five orders at once.
const BUYERS: usize = 10;
const TICKETS: usize = 50;
const ORDERS: usize = 2_000;

#[tokio::test]
async fn tickets_and_payments_paused_through_an_expiry_storm_end_with_every_copy_equal() {
    // Holds of a second: each round of orders expires at once.
    let platform = Platform::launch_with(Duration::from_secs(1), Profile::Debug, &[]).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let mut buyers = Vec::new();
    for b in 0..BUYERS {
        buyers.push(Person::sign_up(&platform, &format!("buyer{b}")).await);
    }
    let mut tickets = Vec::new();
    for i in 0..TICKETS {
        let ticket = seller.sell(&format!("Seat {i}"), 20.0).await;
        tickets.push(ticket["id"].as_str().unwrap().to_string());
    }
    platform.signal("tickets", "STOP");
    platform.signal("payments", "STOP");
    let paused_at = Instant::now();
    let (mut placed, mut round) = (0, 0);
    while placed < ORDERS || paused_at.elapsed() < pause() {
        // Each round every ticket is ordered again, by a buyer that did not
        // hold it last time, once the round before has expired.
        let orders = join_all(tickets.iter().enumerate().map(|(i, id)| {
            let buyer = &buyers[(i + round) % BUYERS];
            async move { (buyer, place(buyer, id).await) }
        }))
        .await;
        all_expired(&orders).await;
        placed += orders.len();
        round += 1;
    }
    resume_after_pause(&platform, &["tickets", "payments"], paused_at).await;

    converged(&platform).await;
}

/// Places an order on `ticket_id` as soon as orders has it free; its id.
async fn place(buyer: &Person, ticket_id: &str) -> String {
    let deadline = Instant::now() + common::testing::DEADLINE;
    loop {
        let response = buyer
            .post("/api/orders", &json!({ "ticketId": ticket_id }))
            .await;
        match response.status() {
            StatusCode::CREATED => {
                let order: Value = response.json().await.unwrap();
                return order["id"].as_str().unwrap().to_string();
            }
            // Not replicated yet, or its last hold not expired yet.
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST => {}
            other => panic!("ordering answered {other}"),
        }
        assert!(
            Instant::now() < deadline,
            "ticket {ticket_id} never came free"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every order of the round has expired, reading each buyer's
/// list rather than each order, so that waiting does not load the platform.
async fn all_expired(orders: &[(&Person, String)]) {
    let deadline = Instant::now() + common::testing::DEADLINE;
    let mut waiting: Vec<&(&Person, String)> = orders.iter().collect();
    while !waiting.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} orders never expired",
            waiting.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut cancelled = std::collections::HashSet::new();
        let mut asked = std::collections::HashSet::new();
        for (buyer, _) in &waiting {
            if asked.insert(buyer.id.clone()) {
                let listed = buyer.json("/api/orders").await;
                for order in listed.as_array().unwrap() {
                    if order["status"] == "cancelled" {
                        cancelled.insert(order["id"].as_str().unwrap().to_string());
                    }
                }
            }
        }
        waiting.retain(|(_, id)| !cancelled.contains(id));
    }
}
