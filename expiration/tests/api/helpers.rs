//! Starts expiration instances in-process against the test Redis (under a
//! key prefix of their own) and the test bus, and stops them on demand.

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::bus::Bus;
use common::config::Secret;
use common::events::{OrderCreated, OrderStatus, PricedTicketRef};
use common::testing::{bus_settings, redis_prefix, servers};
use expiration::config::Settings;
use mongodb::bson::oid::ObjectId;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub fn settings() -> Settings {
    Settings {
        http: common::testing::http_settings(),
        redis_url: Secret::new(servers().redis_url.expect("TEST_REDIS_URL is set")),
        redis_prefix: redis_prefix(),
        claim_lease: Duration::from_secs(5),
        bus: bus_settings(),
    }
}

/// One running instance.
pub struct Instance {
    pub address: String,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Instance {
    pub async fn start(settings: &Settings) -> Self {
        let shutdown = CancellationToken::new();
        let app = expiration::startup::build(settings, shutdown.clone())
            .await
            .expect("the service builds");
        let address = format!("http://{}", app.address());
        Self {
            address,
            shutdown,
            task: Some(tokio::spawn(app.run_until_stopped())),
        }
    }

    /// Stops the instance and waits until it has.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let task = self.task.take().expect("running");
        task.await.unwrap().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn bus(settings: &Settings) -> Bus {
    Bus::connect(&settings.bus).await.expect("bus")
}

/// An order as orders announces it, expiring at `expires_at`.
pub fn order(expires_at: DateTime<Utc>) -> OrderCreated {
    OrderCreated {
        id: ObjectId::new().to_hex(),
        version: 0,
        status: OrderStatus::Created,
        user_id: "buyer".into(),
        expires_at,
        ticket: PricedTicketRef {
            id: ObjectId::new().to_hex(),
            price: 1000,
            hold: 0,
        },
    }
}
