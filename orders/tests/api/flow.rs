//! One flow through the tickets and orders services and the real bus,
//! observed only through their HTTP APIs, then the versions compared in
//! both databases.

use common::testing::{bus_settings, eventually, service_settings, signed_in};
use mongodb::bson::oid::ObjectId;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

struct Platform {
    tickets: String,
    orders: String,
    tickets_db: mongodb::Database,
    orders_db: orders::repository::Orders,
    http: Client,
    shutdown: CancellationToken,
}

impl Drop for Platform {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start() -> Platform {
    let bus = bus_settings();
    let shutdown = CancellationToken::new();
    let tickets_settings = tickets::config::Settings {
        service: service_settings("tickets"),
        bus: bus.clone(),
    };
    let orders_settings = orders::config::Settings {
        service: service_settings("orders"),
        bus,
        expiration_window: std::time::Duration::from_secs(900),
    };
    let tickets_app = tickets::startup::build(&tickets_settings, shutdown.clone())
        .await
        .unwrap();
    let orders_app = orders::startup::build(&orders_settings, shutdown.clone())
        .await
        .unwrap();
    let platform = Platform {
        tickets: format!("http://{}", tickets_app.address()),
        orders: format!("http://{}", orders_app.address()),
        tickets_db: connect(&tickets_settings.service).await,
        orders_db: orders::repository::Orders::new(&connect(&orders_settings.service).await),
        http: Client::new(),
        shutdown,
    };
    tokio::spawn(tickets_app.run_until_stopped());
    tokio::spawn(orders_app.run_until_stopped());
    platform
}

async fn connect(settings: &common::config::ServiceSettings) -> mongodb::Database {
    common::mongo::connect(&settings.mongo_uri, &settings.mongo_db)
        .await
        .unwrap()
        .1
}

impl Platform {
    async fn ticket(&self, id: &str) -> Value {
        let url = format!("{}/api/tickets/{id}", self.tickets);
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn ticket_becomes(&self, id: &str, status: &str) -> Value {
        eventually(&format!("ticket {id} to be {status}"), || async {
            let ticket = self.ticket(id).await;
            (ticket["status"] == status).then_some(ticket)
        })
        .await
    }

    /// Orders the ticket as soon as the orders service accepts it.
    async fn order(&self, cookie: &str, ticket_id: &str) -> Value {
        eventually(
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
                (response.status() == StatusCode::CREATED).then(|| response.json::<Value>())
            },
        )
        .await
        .await
        .unwrap()
    }
}

#[tokio::test]
async fn a_ticket_is_listed_ordered_released_and_ordered_by_someone_else() {
    let platform = start().await;
    let (_, seller) = signed_in("seller");
    let (_, first) = signed_in("first");
    let (_, second) = signed_in("second");

    let response = platform
        .http
        .post(format!("{}/api/tickets", platform.tickets))
        .header("cookie", &seller)
        .json(&json!({ "title": "Concert", "price": 40 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let ticket: Value = response.json().await.unwrap();
    let ticket_id = ticket["id"].as_str().unwrap();

    let order = platform.order(&first, ticket_id).await;
    assert_eq!(order["ticket"]["price"], 40.0);
    let reserved = platform.ticket_becomes(ticket_id, "reserved").await;
    assert_eq!(reserved["orderId"], order["id"]);

    let response = platform
        .http
        .delete(format!(
            "{}/api/orders/{}",
            platform.orders,
            order["id"].as_str().unwrap()
        ))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    platform.ticket_becomes(ticket_id, "available").await;

    let second_order = platform.order(&second, ticket_id).await;
    let reserved = platform.ticket_becomes(ticket_id, "reserved").await;
    assert_eq!(reserved["orderId"], second_order["id"]);

    // Held, released, held again: version 3 in both databases.
    let id = ObjectId::parse_str(ticket_id).unwrap();
    let tickets_version = platform
        .tickets_db
        .collection::<mongodb::bson::Document>("tickets")
        .find_one(mongodb::bson::doc! { "_id": id })
        .await
        .unwrap()
        .unwrap()
        .get_i64("version")
        .unwrap();
    assert_eq!(tickets_version, 3);
    eventually(
        "the orders replica to reach the tickets' version",
        || async {
            (platform.orders_db.ticket_version(id).await.ok()?? == tickets_version).then_some(())
        },
    )
    .await;
}
