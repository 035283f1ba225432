//! Expiry survives a restart of Redis when Redis keeps an append-only file,
//! and a Redis that stalls. These tests run a Redis of their own, so that
//! they can stop, start and pause it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, Duration, Utc};
use common::bus::Bus;
use common::config::Secret;
use common::events::{ExpirationComplete, OrderCreated};
use common::testing::{Probe, eventually};
use expiration::config::Settings;
use expiration::schedule::Schedule;

use crate::helpers::{Instance, bus, order, settings};

struct Redis {
    port: u16,
    dir: std::path::PathBuf,
    child: Child,
}

impl Redis {
    fn start(port: u16, dir: &std::path::Path) -> Child {
        Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (make test installs it)")
    }

    fn launch() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(common::testing::unique("redis"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Self::start(port, &dir);
        Self { port, dir, child }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        self.stop();
        self.child = Self::start(self.port, &self.dir);
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts an instance on `redis` and hands it an order due at `due`;
/// returns once the order is in the schedule.
async fn order_scheduled(
    redis: &Redis,
    settings: &Settings,
    due: DateTime<Utc>,
) -> (Instance, Bus, OrderCreated) {
    let schedule = eventually("our Redis to answer", || async {
        Schedule::connect(&redis.url(), &settings.redis_prefix)
            .await
            .ok()
    })
    .await;
    let instance = Instance::start(settings).await;
    let bus = bus(settings).await;
    let order = order(due);
    bus.publish(&order).await.unwrap();
    eventually("the order to be scheduled", || async {
        schedule.due_at(&order.id).await.ok()?.map(|_| ())
    })
    .await;
    (instance, bus, order)
}

#[tokio::test]
async fn a_schedule_survives_a_restart_of_redis() {
    let mut redis = Redis::launch();
    let mut settings = settings();
    settings.redis_url = Secret::new(redis.url());
    let (_instance, bus, order) =
        order_scheduled(&redis, &settings, Utc::now() + Duration::seconds(2)).await;

    redis.restart();

    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    assert_eq!(expired.next().await.order_id, order.id);
}

#[tokio::test]
async fn an_order_due_while_redis_stalls_is_published_once_redis_answers() {
    let redis = Redis::launch();
    let mut settings = settings();
    settings.redis_url = Secret::new(redis.url());
    // A claim whose answer were lost would hold the order for a minute.
    settings.claim_lease = std::time::Duration::from_secs(60);
    let (_instance, bus, order) =
        order_scheduled(&redis, &settings, Utc::now() + Duration::milliseconds(1500)).await;
    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;

    // Redis holds every write, the claim among them, for 3 s around the due time.
    let mut admin = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(3000)
        .arg("WRITE")
        .query_async::<()>(&mut admin)
        .await
        .unwrap();

    assert_eq!(expired.next().await.order_id, order.id);
}
