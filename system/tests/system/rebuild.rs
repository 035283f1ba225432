//! `ops rebuild`: a damaged replica rebuilt from the whole log while its
//! service serves and new records keep coming, and a log that lost its
//! first events refused.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::testing::eventually;
use mongodb::bson::{Document, doc, oid::ObjectId};
use reqwest::StatusCode;
use serde_json::{Value, json};
use system::Platform;

use crate::helpers::{Person, database, documents, quiet, stream};
use crate::operate::ops;

/// Each record's `fields` (with its version), by id.
async fn records(
    platform: &Platform,
    (service, collection): (&str, &str),
    fields: &[&str],
) -> BTreeMap<ObjectId, Vec<String>> {
    documents(platform, service, collection)
        .await
        .into_iter()
        .map(|d| {
            // A field absent and a field null both say "none".
            let value = |f: &&str| d.get(*f).filter(|v| **v != mongodb::bson::Bson::Null);
            let values = fields.iter().map(|f| format!("{:?}", value(f))).collect();
            (d.get_object_id("_id").unwrap(), values)
        })
        .collect()
}

/// Sells and looks at orders until stopped; gives every answer that failed.
fn keep_serving(
    seller: Arc<Person>,
    buyer: Arc<Person>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut failed = Vec::new();
        let mut n = 0;
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            let sold = seller
                .post(
                    "/api/tickets",
                    &json!({ "title": format!("Late {n}"), "price": 12.5 }),
                )
                .await
                .status();
            let listed = buyer.get("/api/orders").await.status();
            for (what, status, wanted) in [
                ("sell", sold, StatusCode::CREATED),
                ("list orders", listed, StatusCode::OK),
            ] {
                if status != wanted {
                    failed.push(format!("{what}: {status}"));
                }
            }
        }
        failed
    })
}

/// Runs `ops rebuild service` while the platform serves; asserts it
/// succeeded and that no request failed meanwhile. Gives what it printed.
async fn rebuild_while_serving(
    platform: &Platform,
    seller: &Arc<Person>,
    buyer: &Arc<Person>,
    service: &str,
) -> String {
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = keep_serving(seller.clone(), buyer.clone(), stop.clone());
    let (nats, mongo) = (platform.nats_env(), platform.mongo_uri());
    let service_name = service.to_string();
    // Payments' is asked for as JSON, orders' as a sentence.
    let json = service == "payments";
    let output = tokio::task::spawn_blocking(move || {
        let args = if json {
            vec!["rebuild", &service_name, "--json"]
        } else {
            vec!["rebuild", &service_name]
        };
        std::process::Command::new(system::workspace_root().join("target/debug/ops"))
            .args(args)
            .envs(nats)
            .env("MONGO_URI", mongo)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    stop.store(true, Ordering::SeqCst);
    let failed = traffic.await.unwrap();
    assert!(output.status.success(), "{output:?}");
    let said = String::from_utf8_lossy(&output.stdout);
    let expected = if json {
        "{".to_string()
    } else {
        format!("{service}: replayed")
    };
    assert!(said.starts_with(&expected), "{said}");
    assert!(
        failed.is_empty(),
        "requests failed during the rebuild: {failed:?}"
    );
    quiet(platform, Duration::from_secs(60)).await;
    said.into_owned()
}

#[tokio::test]
async fn orders_rebuilt_while_serving_equals_the_tickets_records() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Arc::new(Person::sign_up(&platform, "seller").await);
    let buyer = Arc::new(Person::sign_up(&platform, "buyer").await);
    let mut ids = Vec::new();
    for n in 0..5 {
        let ticket = seller.sell(&format!("Show {n}"), 10.0 + f64::from(n)).await;
        ids.push(ObjectId::parse_str(ticket["id"].as_str().unwrap()).unwrap());
    }
    for id in &ids[..2] {
        let edit = json!({ "title": "Edited", "price": 99.0 });
        let edited = seller.put(&format!("/api/tickets/{id}"), &edit).await;
        assert_eq!(edited.status(), StatusCode::OK);
    }
    let ordered = buyer.order(&ids[4].to_hex()).await;
    assert_eq!(ordered.status(), StatusCode::CREATED);
    let order_id = ordered.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    buyer
        .until(&format!("/api/tickets/{}", ids[4]), "status", "reserved")
        .await;
    // The log also holds an update that is no ticket (its listener parked
    // it): the rebuild leaves it out and says so.
    let nats = platform.nats().await.unwrap();
    async_nats::jetstream::new(nats)
        .publish("ticketing.ticket.updated", r#"{"not":"a ticket"}"#.into())
        .await
        .unwrap()
        .await
        .unwrap();
    quiet(&platform, Duration::from_secs(60)).await;

    // The replica loses records (the held one among them) and one changes.
    let replica = database(&platform, "orders")
        .await
        .collection::<Document>("tickets");
    for id in [ids[0], ids[1], ids[4]] {
        replica.delete_one(doc! { "_id": id }).await.unwrap();
    }
    replica
        .update_one(doc! { "_id": ids[2] }, doc! { "$set": { "price": 1_i64 } })
        .await
        .unwrap();

    let said = rebuild_while_serving(&platform, &seller, &buyer, "orders").await;
    assert!(said.contains("left out event"), "{said}");

    let fields = ["version", "title", "price", "userId", "status", "startsAt"];
    let owner = records(&platform, ("tickets", "tickets"), &fields).await;
    assert_eq!(
        records(&platform, ("orders", "tickets"), &fields).await,
        owner
    );
    let held = replica
        .find_one(doc! { "_id": ids[4] })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        held.get_str("heldBy").unwrap(),
        order_id,
        "orders' own events say who holds it"
    );
    assert_eq!(held.get_i64("holds").unwrap(), 1);
}

#[tokio::test]
async fn payments_rebuilt_while_serving_equals_the_orders_and_a_log_without_its_first_event_is_refused()
 {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Arc::new(Person::sign_up(&platform, "seller").await);
    let buyer = Arc::new(Person::sign_up(&platform, "buyer").await);
    let mut orders = Vec::new();
    for n in 0..2 {
        let ticket = seller.sell(&format!("Show {n}"), 20.0).await;
        let ordered = buyer.order(ticket["id"].as_str().unwrap()).await;
        assert_eq!(ordered.status(), StatusCode::CREATED);
        orders.push(
            ordered.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let cancelled = buyer
        .http_delete(&format!("/api/orders/{}", orders[0]))
        .await;
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    quiet(&platform, Duration::from_secs(60)).await;

    let replica = database(&platform, "payments")
        .await
        .collection::<Document>("orders");
    let [first, second] = [&orders[0], &orders[1]].map(|id| ObjectId::parse_str(id).unwrap());
    replica.delete_one(doc! { "_id": first }).await.unwrap();
    replica
        .update_one(
            doc! { "_id": second },
            doc! { "$set": { "status": "complete" } },
        )
        .await
        .unwrap();

    let said = rebuild_while_serving(&platform, &seller, &buyer, "payments").await;
    let report: Value = serde_json::from_str(&said).unwrap();
    assert_eq!(report["service"], "payments", "{report}");
    assert!(report["inserted"].as_u64().unwrap() > 0, "{report}");

    let fields = ["version", "status", "userId"];
    let owner = records(&platform, ("orders", "orders"), &fields).await;
    eventually("payments' replica to equal the orders", || async {
        (records(&platform, ("payments", "orders"), &fields).await == owner).then_some(())
    })
    .await;

    // The log loses its first event: a rebuild from it is refused.
    stream(&platform).await.delete_message(1).await.unwrap();
    let refused = ops(&platform, &["rebuild", "orders"]);
    assert_eq!(refused.status.code(), Some(1));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("the events before it were removed"), "{said}");
}
