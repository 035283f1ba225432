//! Starts the tickets service in-process on port 0 with a fresh database and
//! its own stream, and speaks to it with typed helpers.

use common::bus::Bus;
use common::events::{
    OrderCancelled, OrderCompleted, OrderCreated, OrderStatus, PricedTicketRef, TicketRef,
};
use common::testing::{bus_settings, eventually, service_settings, signed_in};
use mongodb::bson::doc;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tickets::config::Settings;
use tokio_util::sync::CancellationToken;

pub use common::testing::error_items as errors;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: mongodb::Database,
    pub bus: Bus,
    settings: Settings,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the service with settings `configure` changed.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings {
        service: service_settings("tickets"),
        bus: bus_settings(),
    };
    configure(&mut settings);
    start(settings).await
}

/// Starts one instance of the service with `settings`.
async fn start(settings: Settings) -> TestApp {
    let shutdown = CancellationToken::new();
    let app = tickets::startup::build(&settings, shutdown.clone())
        .await
        .expect("the service builds");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    let (_, database) =
        common::mongo::connect(&settings.service.mongo_uri, &settings.service.mongo_db)
            .await
            .expect("database");
    let bus = Bus::connect(&settings.bus).await.expect("bus");
    TestApp {
        address,
        client: reqwest::Client::new(),
        database,
        bus,
        settings,
        shutdown,
    }
}

/// A fresh user's `Cookie` header and id.
pub fn user() -> (String, String) {
    let (user, cookie) = signed_in("seller");
    (cookie, user.id)
}

impl TestApp {
    /// Another instance of the service on the same database and stream: a
    /// second replica, in the same queue groups.
    pub async fn replica(&self) -> TestApp {
        start(self.settings.clone()).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn create(&self, cookie: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url("/api/tickets")).json(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn update(&self, cookie: Option<&str>, id: &str, body: &Value) -> Response {
        let mut request = self
            .client
            .put(self.url(&format!("/api/tickets/{id}")))
            .json(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// `GET path` as `cookie`'s user, or signed out.
    pub async fn get_as(&self, cookie: Option<&str>, path: &str) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn withdraw(&self, cookie: Option<&str>, id: &str) -> Response {
        let mut request = self.client.delete(self.url(&format!("/api/tickets/{id}")));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    /// Lists a ticket with every field of `body`, for `cookie`'s user.
    pub async fn listed_with(&self, cookie: &str, body: &Value) -> Value {
        let response = self.create(Some(cookie), body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{body}");
        response.json().await.expect("json body")
    }

    /// Lists a ticket for `cookie`'s user and returns it as the API shows it.
    pub async fn listed(&self, cookie: &str, title: &str, price: f64) -> Value {
        let response = self
            .create(Some(cookie), &json!({ "title": title, "price": price }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("json body")
    }

    pub async fn ticket(&self, id: &str) -> Value {
        let response = self.get(&format!("/api/tickets/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json body")
    }

    pub async fn for_sale(&self) -> Vec<Value> {
        let response = self.get("/api/tickets").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json body")
    }

    /// Waits until the ticket reaches `version` and returns it.
    pub async fn at_version(&self, id: &str, version: i64) -> Value {
        eventually(&format!("ticket {id} at version {version}"), || async {
            let ticket = self.ticket(id).await;
            (ticket["version"] == version).then_some(ticket)
        })
        .await
    }

    pub async fn ticket_count(&self) -> u64 {
        self.database
            .collection::<mongodb::bson::Document>("tickets")
            .count_documents(doc! {})
            .await
            .unwrap()
    }
}

/// The events orders publishes about one order of one ticket.
pub struct Order {
    pub id: String,
    pub ticket_id: String,
    /// Which of the ticket's holds it is, as orders counts them.
    pub hold: i64,
    pub buyer: String,
}

impl Order {
    /// The ticket's `hold`th order (the first is 0).
    pub fn of(ticket: &Value, hold: i64) -> Self {
        Self {
            id: mongodb::bson::oid::ObjectId::new().to_hex(),
            ticket_id: ticket["id"].as_str().expect("a ticket id").to_string(),
            hold,
            buyer: "buyer".into(),
        }
    }

    /// The same order, placed by `buyer`.
    pub fn by(self, buyer: &str) -> Self {
        Self {
            buyer: buyer.into(),
            ..self
        }
    }

    pub fn created(&self) -> OrderCreated {
        OrderCreated {
            id: self.id.clone(),
            version: 0,
            status: OrderStatus::Created,
            user_id: self.buyer.clone(),
            expires_at: chrono::Utc::now(),
            ticket: PricedTicketRef {
                id: self.ticket_id.clone(),
                price: 1000,
                hold: self.hold,
            },
        }
    }

    pub fn cancelled(&self) -> OrderCancelled {
        OrderCancelled {
            id: self.id.clone(),
            version: 1,
            ticket: TicketRef {
                id: self.ticket_id.clone(),
                hold: self.hold,
            },
        }
    }

    pub fn completed(&self) -> OrderCompleted {
        OrderCompleted {
            id: self.id.clone(),
            version: 1,
            ticket: TicketRef {
                id: self.ticket_id.clone(),
                hold: self.hold,
            },
        }
    }
}
