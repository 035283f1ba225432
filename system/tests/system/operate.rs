//! `ops` against a running platform: a dead letter listed, its cause
//! removed, redelivered and applied once.

use std::process::Output;
use std::time::Duration;

use common::testing::eventually;
use mongodb::bson::{Document, doc, oid::ObjectId};
use reqwest::StatusCode;
use serde_json::Value;
use system::Platform;

use crate::helpers::{Person, database, quiet, replicas_agree};

/// Runs the `ops` that `make test` built against `platform`.
pub fn ops(platform: &Platform, args: &[&str]) -> Output {
    std::process::Command::new(system::workspace_root().join("target/debug/ops"))
        .args(args)
        .envs(platform.nats_env())
        .env("MONGO_URI", platform.mongo_uri())
        .output()
        .expect("make test builds ops")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn dead_letters(platform: &Platform) -> Vec<Value> {
    let listed = ops(platform, &["dead-letters", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    serde_json::from_slice::<Vec<Value>>(&listed.stdout).unwrap()
}

#[tokio::test]
async fn a_poisoned_message_is_listed_fixed_redelivered_and_applied_once() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let ticket_id = seller.sell("Concert", 30.0).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Tickets loses the ticket (restored from a backup too old, say): its
    // hold by the next order cannot apply, and is parked.
    let tickets = database(&platform, "tickets")
        .await
        .collection::<Document>("tickets");
    let id = ObjectId::parse_str(&ticket_id).unwrap();
    let lost = tickets
        .find_one_and_delete(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap();
    let response = buyer.order(&ticket_id).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order_id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let parked = eventually("the hold to be parked", || async {
        dead_letters(&platform).await.into_iter().next()
    })
    .await;
    assert_eq!(parked["consumer"], "tickets-order-created");
    assert_eq!(parked["subject"], "order.created");
    assert!(
        parked["reason"]
            .as_str()
            .unwrap()
            .contains("no such ticket"),
        "{parked}"
    );
    assert!(
        parked["payload"].as_str().unwrap().contains(&order_id),
        "{parked}"
    );
    let seq = parked["seq"].as_u64().unwrap().to_string();
    let table = stdout(&ops(
        &platform,
        &["dead-letters", "--consumer", "tickets-order-created"],
    ));
    assert!(table.starts_with("SEQ") && table.contains(&seq), "{table}");

    tickets.insert_one(lost).await.unwrap();
    let redelivered = ops(&platform, &["redeliver", &seq]);
    assert!(redelivered.status.success(), "{redelivered:?}");
    assert!(stdout(&redelivered).contains("redelivered on ticketing.order.created"));

    buyer
        .until(&format!("/api/tickets/{ticket_id}"), "status", "reserved")
        .await;
    quiet(&platform, Duration::from_secs(60)).await;
    assert!(
        dead_letters(&platform).await.is_empty(),
        "the dead letter is gone"
    );
    let held = tickets.find_one(doc! { "_id": id }).await.unwrap().unwrap();
    assert_eq!(held.get_i64("version").unwrap(), 1, "held once: {held}");
    let holder = held.get_document("holder").unwrap();
    assert_eq!(holder.get_str("orderId").unwrap(), order_id);
    replicas_agree(&platform, ("tickets", "tickets"), ("orders", "tickets")).await;

    let again = ops(&platform, &["redeliver", &seq, "--json"]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "a dead letter redelivered is gone"
    );
    let said: Vec<Value> = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0]["seq"].to_string(), seq);
    assert_eq!(said[0]["redelivered"], false);
}
