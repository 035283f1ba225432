//! Starts the orders service in-process on port 0 with a fresh database and
//! its own stream, seeds its ticket replica through the bus, and speaks to
//! it with typed helpers.

use std::time::Duration;

use common::bus::Bus;
use common::events::{ExpirationComplete, PaymentCreated, TicketCreated};
use common::testing::{bus_settings, eventually, service_settings, signed_in};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use orders::config::Settings;
use orders::repository::Orders;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub use common::testing::error_items as errors;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: mongodb::Database,
    pub orders: Orders,
    pub bus: Bus,
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
        service: service_settings("orders"),
        bus: bus_settings(),
        expiration_window: Duration::from_secs(900),
        expiry_sweep: Duration::from_secs(30),
        max_open_orders: 5,
    };
    configure(&mut settings);
    let shutdown = CancellationToken::new();
    let app = orders::startup::build(&settings, shutdown.clone())
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
        orders: Orders::new(&database),
        database,
        bus,
        shutdown,
    }
}

/// A fresh user's `Cookie` header and id.
pub fn user() -> (String, String) {
    let (user, cookie) = signed_in("buyer");
    (cookie, user.id)
}

/// A ticket as the tickets service announces it.
pub fn ticket(owner: &str, price: i64) -> TicketCreated {
    TicketCreated {
        id: ObjectId::new().to_hex(),
        version: 0,
        title: "Concert".into(),
        price,
        user_id: owner.to_string(),
        starts_at: None,
    }
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Announces a ticket of someone else's and waits until the replica has it.
    pub async fn seeded_ticket(&self) -> TicketCreated {
        let (_, owner) = user();
        let ticket = ticket(&owner, 1250);
        self.bus.publish(&ticket).await.unwrap();
        self.replica_at(&ticket.id, 0).await;
        ticket
    }

    /// Waits until the replica holds `version` of the ticket.
    pub async fn replica_at(&self, ticket_id: &str, version: i64) {
        let id = ObjectId::parse_str(ticket_id).unwrap();
        eventually(
            &format!("replica of {ticket_id} at version {version}"),
            || async { (self.orders.ticket_version(id).await.ok()?? == version).then_some(()) },
        )
        .await;
    }

    pub async fn place(&self, cookie: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url("/api/orders")).json(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    /// Orders the ticket for `cookie`'s user and returns the order.
    pub async fn ordered(&self, cookie: &str, ticket_id: &str) -> Value {
        let response = self
            .place(Some(cookie), &json!({ "ticketId": ticket_id }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("json body")
    }

    pub async fn get(&self, cookie: Option<&str>, path: &str) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn order(&self, cookie: &str, id: &str) -> Value {
        let response = self.get(Some(cookie), &format!("/api/orders/{id}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json body")
    }

    /// Waits until the order has `status` and returns it.
    pub async fn order_in(&self, cookie: &str, id: &str, status: &str) -> Value {
        eventually(&format!("order {id} to be {status}"), || async {
            let order = self.order(cookie, id).await;
            (order["status"] == status).then_some(order)
        })
        .await
    }

    pub async fn cancel(&self, cookie: Option<&str>, id: &str) -> Response {
        let mut request = self.client.delete(self.url(&format!("/api/orders/{id}")));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn order_count(&self) -> u64 {
        self.database
            .collection::<mongodb::bson::Document>("orders")
            .count_documents(doc! {})
            .await
            .unwrap()
    }

    /// Waits until every staged event was published.
    pub async fn outbox_empty(&self) {
        common::testing::outbox_empty(&self.database).await;
    }

    /// Tells the service the order was paid, as payments would.
    pub async fn pay(&self, order_id: &str) {
        let payment = PaymentCreated {
            id: ObjectId::new().to_hex(),
            order_id: order_id.to_string(),
            stripe_id: "pi_test".into(),
            amount: 1250,
        };
        self.bus.publish(&payment).await.unwrap();
    }

    /// Tells the service the order's time ran out, as expiration would.
    pub async fn expire(&self, order_id: &str) {
        let expired = ExpirationComplete {
            order_id: order_id.to_string(),
        };
        self.bus.publish(&expired).await.unwrap();
    }
}
