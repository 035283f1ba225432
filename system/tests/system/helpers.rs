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

    /// A POST in the trace `traceparent` names.
    pub async fn post_traced(&self, path: &str, body: &Value, traceparent: &str) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("traceparent", traceparent)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.http
            .put(format!("{}{path}", self.base))
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

/// The platform's stream, read with a connection of the test's own.
pub async fn stream(platform: &Platform) -> async_nats::jetstream::stream::Stream {
    let client = platform.nats().await.unwrap();
    async_nats::jetstream::new(client)
        .get_stream(common::config::DEFAULT_STREAM)
        .await
        .unwrap()
}

/// How many dead letters the platform parked, every consumer's.
pub async fn dead_letters(platform: &Platform) -> u64 {
    use futures::StreamExt;
    let stream = stream(platform).await;
    let mut subjects = stream
        .info_with_subjects("ticketing.deadletter.>")
        .await
        .unwrap();
    let mut total = 0;
    while let Some(Ok((_, count))) = subjects.next().await {
        total += count as u64;
    }
    total
}

/// Waits, for at most `deadline`, until the bus is quiet: no outbox holds
/// an unsent event, every service's consumer has every message delivered
/// and acked, no inbox holds an event, and nothing reached the stream
/// meanwhile. A backlog of thousands takes the services a while.
pub async fn quiet(platform: &Platform, deadline: Duration) {
    let mut stream = stream(platform).await;
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let before = stream.info().await.unwrap().state.last_sequence;
        // A committed event reaches the stream a moment after its commit.
        let mut busy = unsent(platform).await;
        busy.extend(consuming(&stream).await);
        for service in ["tickets", "orders", "payments"] {
            let waiting = count(platform, service, "inbox").await;
            if waiting > 0 {
                busy.push(format!("{service}'s inbox ({waiting} waiting)"));
            }
        }
        busy.extend(unsent(platform).await);
        if stream.info().await.unwrap().state.last_sequence != before {
            busy.push("the stream took events meanwhile".into());
        }
        if busy.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "still busy after {deadline:?}: {}",
            busy.join(", ")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The services' consumers with messages not yet delivered or acked.
async fn consuming(stream: &async_nats::jetstream::stream::Stream) -> Vec<String> {
    use futures::StreamExt;
    let mut busy = Vec::new();
    let mut consumers = stream.consumers();
    while let Some(info) = consumers.next().await {
        let info = info.unwrap();
        let ours = ["tickets-", "orders-", "payments-", "expiration-"]
            .iter()
            .any(|service| info.name.starts_with(service));
        if ours && (info.num_pending > 0 || info.num_ack_pending > 0) {
            let pending = info.num_pending + info.num_ack_pending as u64;
            busy.push(format!("{} ({pending} pending)", info.name));
        }
    }
    busy
}

/// The outboxes holding events not yet published.
async fn unsent(platform: &Platform) -> Vec<String> {
    let mut busy = Vec::new();
    for service in ["auth", "tickets", "orders", "payments"] {
        let outbox = common::outbox::Outbox::new(&database(platform, service).await);
        let unsent = outbox.pending().await.unwrap();
        if unsent > 0 {
            busy.push(format!("{service}'s outbox ({unsent} unsent)"));
        }
    }
    busy
}
