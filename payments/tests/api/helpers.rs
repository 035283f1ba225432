//! Starts the payments service in-process with a fresh database, its own
//! stream and localstripe; seeds its order replica through the bus; and
//! reads what localstripe charged.

use chrono::{DateTime, Duration, Utc};
use common::bus::Bus;
use common::config::Secret;
use common::events::{OrderCancelled, OrderCreated, OrderStatus, PricedTicketRef, TicketRef};
use common::testing::{bus_settings, eventually, servers, service_settings, signed_in};
use mongodb::bson::oid::ObjectId;
use payments::config::{ReconcileSettings, Settings, StripeSettings};
use payments::repository::Payments;
use reqwest::Response;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub use common::testing::error_items as errors;

pub const STRIPE_KEY: &str = "sk_test_ticketing";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub payments: Payments,
    /// The service's own Stripe client, to charge as it would.
    pub stripe: payments::stripe::Stripe,
    pub bus: Bus,
    pub database: mongodb::Database,
    pub settings: Settings,
    stripe_url: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The secret localstripe signs the tests' webhooks with.
pub const WEBHOOK_SECRET: &str = "whsec_test_payments";

/// What a test's payments service is started with: the production settings.
pub fn settings() -> Settings {
    let stripe_url = servers().stripe_url.expect("TEST_STRIPE_URL is set");
    Settings {
        service: service_settings("payments"),
        bus: bus_settings(),
        stripe: StripeSettings {
            secret_key: Secret::new(STRIPE_KEY),
            api_base: stripe_url,
            webhook_secret: Secret::new(WEBHOOK_SECRET),
            timeout: payments::config::STRIPE_TIMEOUT,
        },
        reconcile: ReconcileSettings {
            after: std::time::Duration::from_secs(60),
            every: std::time::Duration::from_secs(15),
        },
    }
}

/// The service, with localstripe's webhooks sent to it.
pub async fn spawn_app() -> TestApp {
    let app = start(settings()).await;
    app.register_webhook().await;
    app
}

/// The service with `settings`, hearing of Stripe only by asking it.
pub async fn start(settings: Settings) -> TestApp {
    let stripe_url = servers().stripe_url.expect("TEST_STRIPE_URL is set");
    let shutdown = CancellationToken::new();
    let app = payments::startup::build(&settings, shutdown.clone())
        .await
        .expect("the service builds");
    let address = format!("http://{}", app.address());
    let task = tokio::spawn(app.run_until_stopped());
    let (_, database) =
        common::mongo::connect(&settings.service.mongo_uri, &settings.service.mongo_db)
            .await
            .expect("database");
    TestApp {
        address,
        client: reqwest::Client::new(),
        payments: Payments::new(&database),
        stripe: payments::stripe::Stripe::new(&settings.stripe).expect("stripe client"),
        bus: Bus::connect(&settings.bus).await.expect("bus"),
        database,
        settings,
        stripe_url,
        shutdown,
        task: Some(task),
    }
}

impl TestApp {
    /// Stops this instance, as a SIGTERM would, and waits until it has.
    pub async fn stop(mut self) -> Settings {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.settings.clone()
    }

    /// Has localstripe send its webhooks to this instance. localstripe sends
    /// every event to every webhook: the service ignores other orders'.
    pub async fn register_webhook(&self) {
        let id = common::testing::unique("payments");
        let url = format!("{}/api/payments/webhook", self.address);
        let response = self
            .client
            .post(format!("{}/_config/webhooks/{id}", self.stripe_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("url={url}&secret={WEBHOOK_SECRET}"))
            .send()
            .await
            .expect("localstripe answers");
        assert!(
            response.status().is_success(),
            "the webhook was not registered"
        );
    }
}

/// A buyer: their `Cookie` header and id.
pub fn buyer() -> (String, String) {
    let (user, cookie) = signed_in("buyer");
    (cookie, user.id)
}

/// An order of `user_id`'s for 12.50, as orders announces it.
pub fn order(user_id: &str, expires_at: DateTime<Utc>) -> OrderCreated {
    OrderCreated {
        id: ObjectId::new().to_hex(),
        version: 0,
        status: OrderStatus::Created,
        user_id: user_id.to_string(),
        expires_at,
        ticket: PricedTicketRef {
            id: ObjectId::new().to_hex(),
            price: 1250,
            hold: 0,
        },
    }
}

pub fn cancelled(order: &OrderCreated) -> OrderCancelled {
    OrderCancelled {
        id: order.id.clone(),
        version: 1,
        ticket: TicketRef {
            id: order.ticket.id.clone(),
            hold: order.ticket.hold,
        },
    }
}

impl TestApp {
    /// Announces an order of `user_id`'s due in 15 minutes and waits until the replica has it.
    pub async fn seeded_order(&self, user_id: &str) -> OrderCreated {
        let order = order(user_id, Utc::now() + Duration::minutes(15));
        self.seed(&order).await;
        order
    }

    pub async fn seed(&self, order: &OrderCreated) {
        self.bus.publish(order).await.unwrap();
        self.replica_at(&order.id, order.version).await;
    }

    /// Waits until the replica holds `version` of the order.
    pub async fn replica_at(&self, order_id: &str, version: i64) {
        let id = ObjectId::parse_str(order_id).unwrap();
        eventually(
            &format!("order {order_id} at version {version}"),
            || async {
                let order = self.payments.order(id).await.ok()??;
                (order.version == version).then_some(())
            },
        )
        .await;
    }

    pub async fn pay(&self, cookie: Option<&str>, body: &Value) -> Response {
        let mut request = self
            .client
            .post(format!("{}/api/payments", self.address))
            .json(body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn pay_with(&self, cookie: &str, order_id: &str, token: &str) -> Response {
        self.pay(
            Some(cookie),
            &json!({ "orderId": order_id, "token": token }),
        )
        .await
    }

    /// The PaymentIntents localstripe holds for an order, as (status, amount).
    pub async fn charges(&self, order_id: &str) -> Vec<(String, i64)> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{}/v1/payment_intents?limit=100", self.stripe_url);
            if let Some(id) = &after {
                url.push_str(&format!("&starting_after={id}"));
            }
            let page: Value = self.stripe_get(&url).await;
            let data = page["data"].as_array().expect("a list");
            for intent in data {
                if intent["metadata"]["orderId"] == order_id {
                    let status = intent["status"].as_str().unwrap().to_string();
                    found.push((status, intent["amount"].as_i64().unwrap()));
                }
            }
            match (page["has_more"].as_bool(), data.last()) {
                (Some(true), Some(last)) => after = Some(last["id"].as_str().unwrap().to_string()),
                _ => return found,
            }
        }
    }

    /// The succeeded charges of an order at localstripe.
    pub async fn succeeded_charges(&self, order_id: &str) -> usize {
        self.charges(order_id)
            .await
            .iter()
            .filter(|(status, _)| status == "succeeded")
            .count()
    }

    pub async fn stripe_get(&self, url: &str) -> Value {
        self.client
            .get(url)
            .bearer_auth(STRIPE_KEY)
            .send()
            .await
            .expect("localstripe answers")
            .json()
            .await
            .expect("json")
    }

    pub fn stripe_url(&self) -> &str {
        &self.stripe_url
    }

    pub async fn payment_for(&self, order_id: &str) -> Option<payments::repository::PaymentRecord> {
        self.payments
            .payment_for(ObjectId::parse_str(order_id).unwrap())
            .await
            .unwrap()
    }
}

impl TestApp {
    /// A new card at localstripe, as Stripe.js makes one: its PaymentMethod id.
    pub async fn card(&self, number: &str) -> String {
        let body = format!(
            "type=card&card[number]={number}&card[exp_month]=12&card[exp_year]=2034&card[cvc]=123"
        );
        let method: Value = self
            .client
            .post(format!("{}/v1/payment_methods", self.stripe_url))
            .bearer_auth(STRIPE_KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("localstripe answers")
            .json()
            .await
            .expect("json");
        method["id"].as_str().expect("a payment method").to_string()
    }

    /// Completes (or fails) 3-D Secure for an intent, as the buyer does in
    /// the browser through Stripe.js.
    pub async fn authenticate(&self, intent_id: &str, client_secret: &str, success: bool) {
        let response = self
            .client
            .post(format!(
                "{}/v1/payment_intents/{intent_id}/_authenticate?success={success}",
                self.stripe_url
            ))
            .bearer_auth(STRIPE_KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("client_secret={client_secret}"))
            .send()
            .await
            .expect("localstripe answers");
        assert!(
            response.status().is_success(),
            "authentication answered {}",
            response.status()
        );
    }
}

/// localstripe's test cards.
pub const GOOD_CARD: &str = "4242424242424242";
pub const THREE_D_SECURE_CARD: &str = "4000002500003155";
pub const DECLINED_CARD: &str = "4000000000000002";
