//! People using the platform's API through the proxy, each with a cookie
//! jar of their own, and the databases read directly to check agreement.

use std::time::Duration;

use common::testing::eventually;
use mongodb::bson::{Document, doc};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use system::Platform;

pub struct Person {
    http: Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    base: String,
    pub id: String,
}

impl Person {
    /// Signs a new person up through the proxy.
    pub async fn sign_up(platform: &Platform, name: &str) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = Client::builder()
            .cookie_provider(jar.clone())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let email = format!("{name}-{}@example.com", system::free_port());
        let response = http
            .post(format!("{}/api/users/signup", platform.url))
            .json(&json!({ "email": email, "password": "password123" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let user: Value = response.json().await.unwrap();
        Self {
            http,
            jar,
            base: platform.url.clone(),
            id: user["id"].as_str().unwrap().to_string(),
        }
    }

    /// The `Cookie` header that signs this person in, for raw requests.
    pub fn session_cookie(&self, base: &str) -> String {
        use reqwest::cookie::CookieStore as _;
        self.jar
            .cookies(&base.parse().unwrap())
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn http_delete(&self, path: &str) -> Response {
        self.http
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn sell(&self, title: &str, price: f64) -> Value {
        let response = self
            .post("/api/tickets", &json!({ "title": title, "price": price }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Orders a ticket as soon as orders knows it; the order, or the refusal.
    pub async fn order(&self, ticket_id: &str) -> Response {
        eventually("orders to know the ticket", || async {
            let response = self
                .post("/api/orders", &json!({ "ticketId": ticket_id }))
                .await;
            (response.status() != StatusCode::NOT_FOUND).then_some(response)
        })
        .await
    }

    /// Waits until `path` answers JSON whose `field` is `value`.
    pub async fn until(&self, path: &str, field: &str, value: &str) -> Value {
        eventually(&format!("{path} to have {field} {value}"), || async {
            let body = self.json(path).await;
            (body[field] == value).then_some(body)
        })
        .await
    }
}

/// One service's database.
pub async fn database(platform: &Platform, service: &str) -> mongodb::Database {
    let client = mongodb::Client::with_uri_str(platform.mongo_uri())
        .await
        .unwrap();
    client.database(service)
}

/// Counts a collection's documents.
pub async fn count(platform: &Platform, service: &str, collection: &str) -> u64 {
    database(platform, service)
        .await
        .collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .unwrap()
}

/// Every record's version in one collection, by id.
pub async fn versions(platform: &Platform, service: &str, collection: &str) -> Vec<(String, i64)> {
    use futures::TryStreamExt;
    let mut found: Vec<(String, i64)> = database(platform, service)
        .await
        .collection::<Document>(collection)
        .find(doc! {})
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            (
                d.get_object_id("_id")
                    .map(|id| id.to_hex())
                    .unwrap_or_default(),
                d.get_i64("version").unwrap_or(-1),
            )
        })
        .collect();
    found.sort();
    found
}

/// Waits until a replica holds the same records at the same versions as its source.
pub async fn replicas_agree(platform: &Platform, source: (&str, &str), replica: (&str, &str)) {
    eventually(
        &format!(
            "{}.{} to agree with {}.{}",
            replica.0, replica.1, source.0, source.1
        ),
        || async {
            let a = versions(platform, source.0, source.1).await;
            let b = versions(platform, replica.0, replica.1).await;
            (a == b).then_some(())
        },
    )
    .await;
}

/// Every document of one collection.
pub async fn documents(platform: &Platform, service: &str, collection: &str) -> Vec<Document> {
    use futures::TryStreamExt;
    database(platform, service)
        .await
        .collection::<Document>(collection)
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

/// Waits until the services have settled into a state where every rule of
/// the design holds, and panics with what is still broken if they do not.
pub async fn rules_hold(platform: &Platform) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let broken = broken_rules(platform).await;
        if broken.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rules still broken after a minute:\n{}",
            broken.join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rules the databases must satisfy once every event is handled: each
/// replica at its source's versions; at most one live order per ticket, and
/// tickets, the orders replica and payments agreeing on which; a complete
/// order paid exactly once.
async fn broken_rules(platform: &Platform) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut broken = Vec::new();
    let pairs = [
        (("tickets", "tickets"), ("orders", "tickets")),
        (("orders", "orders"), ("payments", "orders")),
    ];
    for (source, replica) in pairs {
        if versions(platform, source.0, source.1).await
            != versions(platform, replica.0, replica.1).await
        {
            broken.push(format!(
                "{}.{} is not at {}.{}'s versions",
                replica.0, replica.1, source.0, source.1
            ));
        }
    }

    let id = |d: &Document| d.get_object_id("_id").unwrap().to_hex();
    let orders = documents(platform, "orders", "orders").await;
    let mut live: BTreeMap<String, (String, String)> = BTreeMap::new();
    for order in &orders {
        let status = order.get_str("status").unwrap();
        if status == "cancelled" {
            continue;
        }
        let ticket = order.get_document("ticket").unwrap().get_str("id").unwrap();
        if let Some((other, _)) = live.insert(ticket.into(), (id(order), status.into())) {
            broken.push(format!(
                "ticket {ticket} has live orders {other} and {}",
                id(order)
            ));
        }
    }
    for ticket in documents(platform, "orders", "tickets").await {
        let expected = live.get(&id(&ticket)).map(|(order, _)| order.as_str());
        let held_by = ticket.get_str("heldBy").ok();
        if held_by != expected {
            broken.push(format!(
                "orders holds ticket {} for {held_by:?}, not {expected:?}",
                id(&ticket)
            ));
        }
    }
    for ticket in documents(platform, "tickets", "tickets").await {
        let expected = live.get(&id(&ticket));
        let order_id = ticket.get_str("orderId").ok();
        let sold = ticket.get_bool("sold").unwrap_or(false);
        if order_id != expected.map(|(order, _)| order.as_str())
            || sold != expected.is_some_and(|(_, status)| status == "complete")
        {
            broken.push(format!(
                "tickets has ticket {} with order {order_id:?} (sold: {sold}), not {expected:?}",
                id(&ticket)
            ));
        }
    }

    let mut paid: BTreeMap<String, usize> = BTreeMap::new();
    for payment in documents(platform, "payments", "payments").await {
        *paid
            .entry(payment.get_object_id("orderId").unwrap().to_hex())
            .or_default() += 1;
    }
    for order in &orders {
        let payments = paid.get(&id(order)).copied().unwrap_or(0);
        let complete = order.get_str("status").unwrap() == "complete";
        if payments > 1 || (complete && payments != 1) {
            broken.push(format!(
                "order {} ({complete}) has {payments} payments",
                id(order)
            ));
        }
    }
    broken
}
