//! The services started in-process side by side: each with its own
//! database, all on one bus of their own, users signed in with the test key.

use std::time::Duration;

use common::config::Secret;
use common::testing::{bus_settings, eventually, redis_prefix, servers, service_settings};
use mongodb::bson::doc;
use mongodb::bson::oid::ObjectId;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub struct Platform {
    pub auth: String,
    pub tickets: String,
    pub orders: String,
    pub payments: String,
    tickets_db: mongodb::Database,
    orders_db: orders::repository::Orders,
    /// The bus the services share, to watch events go by.
    pub bus: common::bus::Bus,
    http: Client,
    shutdown: CancellationToken,
}

/// The admin the platform's auth knows.
pub const ADMIN: &str = "admin@example.com";

impl Drop for Platform {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn connect(settings: &common::config::ServiceSettings) -> mongodb::Database {
    common::mongo::connect(&settings.mongo_uri, &settings.mongo_db)
        .await
        .expect("database")
        .1
}

impl Platform {
    /// Tickets, orders (orders hold tickets for `window`), expiration and payments.
    pub async fn start(window: Duration) -> Self {
        let bus = bus_settings();
        let shutdown = CancellationToken::new();
        let auth = auth::config::Settings {
            service: service_settings("auth"),
            bus: bus.clone(),
            admin_emails: vec![ADMIN.to_string()],
            attempts_per_minute: 0,
        };
        let auth_app = auth::startup::build(&auth, shutdown.clone()).await.unwrap();
        let tickets = tickets::config::Settings {
            service: service_settings("tickets"),
            bus: bus.clone(),
        };
        let orders = orders::config::Settings {
            service: service_settings("orders"),
            bus: bus.clone(),
            expiration_window: window,
            expiry_sweep: Duration::from_secs(30),
            max_open_orders: 5,
        };
        let expiration = expiration::config::Settings {
            http: common::testing::http_settings(),
            redis_url: Secret::new(servers().redis_url.expect("TEST_REDIS_URL is set")),
            redis_prefix: redis_prefix(),
            claim_lease: Duration::from_secs(5),
            bus: bus.clone(),
        };
        let shared_bus = common::bus::Bus::connect(&bus).await.expect("bus");
        let payments = payments::config::Settings {
            service: service_settings("payments"),
            bus,
            stripe: payments::config::StripeSettings {
                secret_key: Secret::new("sk_test_ticketing"),
                api_base: servers().stripe_url.expect("TEST_STRIPE_URL is set"),
                webhook_secret: Secret::new("whsec_flows"),
                timeout: Duration::from_secs(10),
            },
            reconcile: payments::config::ReconcileSettings {
                after: Duration::from_secs(60),
                every: Duration::from_secs(15),
            },
        };
        let tickets_app = tickets::startup::build(&tickets, shutdown.clone())
            .await
            .unwrap();
        let orders_app = orders::startup::build(&orders, shutdown.clone())
            .await
            .unwrap();
        let expiration_app = expiration::startup::build(&expiration, shutdown.clone())
            .await
            .unwrap();
        let payments_app = payments::startup::build(&payments, shutdown.clone())
            .await
            .unwrap();
        let platform = Self {
            auth: format!("http://{}", auth_app.address()),
            tickets: format!("http://{}", tickets_app.address()),
            orders: format!("http://{}", orders_app.address()),
            payments: format!("http://{}", payments_app.address()),
            tickets_db: connect(&tickets.service).await,
            orders_db: orders::repository::Orders::new(&connect(&orders.service).await),
            bus: shared_bus,
            http: Client::new(),
            shutdown,
        };
        tokio::spawn(tickets_app.run_until_stopped());
        tokio::spawn(auth_app.run_until_stopped());
        tokio::spawn(orders_app.run_until_stopped());
        tokio::spawn(expiration_app.run_until_stopped());
        tokio::spawn(payments_app.run_until_stopped());
        platform
    }

    async fn get(&self, url: String, cookie: Option<&str>) -> Value {
        let mut request = self.http.get(url);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn list_ticket(&self, cookie: &str, title: &str, price: f64) -> Value {
        let response = self
            .http
            .post(format!("{}/api/tickets", self.tickets))
            .header("cookie", cookie)
            .json(&json!({ "title": title, "price": price }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Signs `email` up through auth; its session cookie.
    pub async fn sign_up(&self, email: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/users/signup", self.auth))
            .json(&json!({ "email": email, "password": "password123" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        session_cookie(&response)
    }

    /// Signs `email` in again: a session of its own.
    pub async fn sign_in(&self, email: &str) -> Response {
        self.http
            .post(format!("{}/api/users/signin", self.auth))
            .json(&json!({ "email": email, "password": "password123" }))
            .send()
            .await
            .unwrap()
    }

    /// `method path` at `base` with `cookie`, and `body` if any.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: String,
        cookie: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, url).header("cookie", cookie);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn ticket(&self, id: &str) -> Value {
        self.get(format!("{}/api/tickets/{id}", self.tickets), None)
            .await
    }

    pub async fn tickets_for_sale(&self) -> Vec<Value> {
        serde_json::from_value(
            self.get(format!("{}/api/tickets", self.tickets), None)
                .await,
        )
        .unwrap()
    }

    pub async fn ticket_becomes(&self, id: &str, status: &str) -> Value {
        eventually(&format!("ticket {id} to be {status}"), || async {
            let ticket = self.ticket(id).await;
            (ticket["status"] == status).then_some(ticket)
        })
        .await
    }

    /// Orders the ticket as soon as the orders service accepts it.
    pub async fn order(&self, cookie: &str, ticket_id: &str) -> Value {
        let response = eventually(
            &format!("an order for {ticket_id} to be accepted"),
            || async {
                let response = self
                    .http
                    .post(format!("{}/api/orders", self.orders))
                    .header("cookie", cookie)
                    .json(&json!({ "ticketId": ticket_id }))
                    .send()
                    .await
                    .unwrap();
                (response.status() == StatusCode::CREATED).then_some(response)
            },
        )
        .await;
        response.json().await.unwrap()
    }

    /// An order's status as orders holds it, read from its database.
    pub async fn order_status(&self, id: &str) -> String {
        let order = self
            .orders_db
            .find(ObjectId::parse_str(id).unwrap(), None)
            .await
            .unwrap()
            .expect("the order");
        serde_json::to_value(order.status)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn order_of(&self, cookie: &str, id: &str) -> Value {
        self.get(format!("{}/api/orders/{id}", self.orders), Some(cookie))
            .await
    }

    pub async fn order_becomes(&self, cookie: &str, id: &str, status: &str) -> Value {
        eventually(&format!("order {id} to be {status}"), || async {
            let order = self.order_of(cookie, id).await;
            (order["status"] == status).then_some(order)
        })
        .await
    }

    pub async fn cancel(&self, cookie: &str, order_id: &str) -> Response {
        self.http
            .delete(format!("{}/api/orders/{order_id}", self.orders))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// Pays as soon as payments knows the order.
    pub async fn pay(&self, cookie: &str, order_id: &str) -> Value {
        let response = eventually(&format!("payments to accept order {order_id}"), || async {
            let response = self
                .http
                .post(format!("{}/api/payments", self.payments))
                .header("cookie", cookie)
                .json(&json!({ "orderId": order_id, "token": "pm_card_visa" }))
                .send()
                .await
                .unwrap();
            (response.status() == StatusCode::CREATED).then_some(response)
        })
        .await;
        response.json().await.unwrap()
    }

    /// Waits until the orders service's copy of the ticket has the tickets
    /// service's version, and returns it.
    pub async fn ticket_versions_agree(&self, ticket_id: &str) -> i64 {
        let id = ObjectId::parse_str(ticket_id).unwrap();
        eventually(
            "the ticket's version to agree in both databases",
            || async {
                let source = self
                    .tickets_db
                    .collection::<mongodb::bson::Document>("tickets")
                    .find_one(doc! { "_id": id })
                    .await
                    .ok()??
                    .get_i64("version")
                    .ok()?;
                let replica = self.orders_db.ticket_version(id).await.ok()??;
                (source == replica).then_some(source)
            },
        )
        .await
    }
}

/// The `Cookie` header an answer's `Set-Cookie: session=...` gives.
pub fn session_cookie(response: &Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string()
}
