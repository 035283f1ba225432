use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::config::Secret;
use common::session::{SessionUser, Sessions};
use common::testing::eventually;
use futures::future::join_all;
use mongodb::bson::{Document, doc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use system::Platform;

use crate::helpers::{Person, count, database, replicas_agree};

const TICKETS: usize = 100;
const BUYERS: usize = 1000;

#[tokio::test]
async fn a_thousand_buyers_for_a_hundred_tickets_make_exactly_a_hundred_orders() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let mut tickets = Vec::new();
    for n in 0..TICKETS {
        tickets.push(
            seller.sell(&format!("Seat {n}"), 10.0).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    eventually("orders to know every ticket", || async {
        (count(&platform, "orders", "tickets").await == TICKETS as u64).then_some(())
    })
    .await;

    // Buyers signed in with the platform's key: signing up a thousand
    // people would measure argon2, not reservations.
    let sessions = Sessions::new(
        &Secret::new(platform.jwt_key()),
        Duration::from_secs(3600),
        false,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let attempts = (0..BUYERS).map(|n| {
        let buyer = SessionUser {
            id: mongodb::bson::oid::ObjectId::new().to_hex(),
            email: format!("buyer{n}@example.com"),
            role: common::session::Role::User,
        };
        let cookie = format!("session={}", sessions.token_for(&buyer).unwrap());
        let ticket = tickets[n % TICKETS].clone();
        let (http, url) = (http.clone(), format!("{}/api/orders", platform.url));
        async move {
            let response = http
                .post(url)
                .header("cookie", cookie)
                .json(&json!({ "ticketId": ticket }))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            (ticket, status, body)
        }
    });
    let outcomes = join_all(attempts).await;

    let mut winners: BTreeMap<String, String> = BTreeMap::new();
    for (ticket, status, body) in &outcomes {
        match *status {
            StatusCode::CREATED => {
                let previous =
                    winners.insert(ticket.clone(), body["id"].as_str().unwrap().to_string());
                assert!(previous.is_none(), "ticket {ticket} held twice");
            }
            StatusCode::BAD_REQUEST => {
                assert_eq!(body["errors"][0]["message"], "Ticket is already reserved")
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        winners.len(),
        TICKETS,
        "every ticket found exactly one buyer"
    );
    assert_eq!(
        count(&platform, "orders", "orders").await,
        TICKETS as u64,
        "exactly a hundred orders"
    );

    // Every service agrees: tickets holds each ticket for its winner, and
    // payments has every order.
    let tickets_db = database(&platform, "tickets").await;
    eventually("tickets to hold every ticket for its winner", || async {
        use futures::TryStreamExt;
        let held: BTreeSet<(String, String)> = tickets_db
            .collection::<Document>("tickets")
            .find(doc! {})
            .await
            .ok()?
            .try_collect::<Vec<_>>()
            .await
            .ok()?
            .into_iter()
            .filter_map(|t| {
                Some((
                    t.get_object_id("_id").ok()?.to_hex(),
                    t.get_document("holder")
                        .ok()?
                        .get_str("orderId")
                        .ok()?
                        .to_string(),
                ))
            })
            .collect();
        let expected: BTreeSet<(String, String)> = winners.clone().into_iter().collect();
        (held == expected).then_some(())
    })
    .await;
    replicas_agree(&platform, ("tickets", "tickets"), ("orders", "tickets")).await;
    replicas_agree(&platform, ("orders", "orders"), ("payments", "orders")).await;
}
