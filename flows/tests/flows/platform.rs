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
    tickets: String,
    orders: String,
    payments: String,
    tickets_db: mongodb::Database,
    orders_db: orders::repository::Orders,
    /// The bus the services share, to watch events go by.
    pub bus: common::bus::Bus,
    http: Client,
    shutdown: CancellationToken,
}

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
        let tickets = tickets::config::Settings {
            service: service_settings("tickets"),
            bus: bus.clone(),
        };
        let orders = orders::config::Settings {
            service: service_settings("orders"),
            bus: bus.clone(),
            expiration_window: window,
        };
        let expiration = expiration::config::Settings {
            host: "127.0.0.1".into(),
            port: 0,
            dev_mode: true,
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
