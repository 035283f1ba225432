//! Expiry survives a restart of Redis when Redis keeps an append-only file:
//! this test runs a Redis of its own, so that it can stop and start it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use chrono::{Duration, Utc};
use common::config::Secret;
use common::events::ExpirationComplete;
use common::testing::{Probe, eventually};
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

#[tokio::test]
async fn a_schedule_survives_a_restart_of_redis() {
    let mut redis = Redis::launch();
    let mut settings = settings();
    settings.redis_url = Secret::new(redis.url());
    let schedule = eventually("our Redis to answer", || async {
        Schedule::connect(&redis.url(), &settings.redis_prefix)
            .await
            .ok()
    })
    .await;
    let _instance = Instance::start(&settings).await;
    let bus = bus(&settings).await;
    let order = order(Utc::now() + Duration::seconds(2));
    bus.publish(&order).await.unwrap();
    eventually("the order to be scheduled", || async {
        schedule.due_at(&order.id).await.ok()?.map(|_| ())
    })
    .await;

    redis.restart();

    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    assert_eq!(expired.next().await.order_id, order.id);
}
