use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::future::Future;

use common::bus::Bus;
use common::config::ListenerConfig;
use common::consumers::Consumers;
use common::events::TicketCreated;
use common::handling::{Failure, Outcome};
use common::supervisor::Supervisor;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Deliveries before the test listener gives up: few, so giving up is quick.
pub const MAX_DELIVER: i64 = 5;

pub async fn test_bus() -> Bus {
    Bus::connect(&common::testing::bus_settings())
        .await
        .expect("bus connects")
}

pub fn ticket(id: usize) -> TicketCreated {
    TicketCreated {
        id: format!("t{id}"),
        version: 0,
        title: format!("ticket {id}"),
        price: 1000 + id as i64,
        user_id: "u1".into(),
        starts_at: None,
    }
}

/// Counts how often each id was handled.
#[derive(Clone, Default)]
pub struct Tally(Arc<Mutex<HashMap<String, usize>>>);

impl Tally {
    pub fn record(&self, id: &str) -> usize {
        let mut counts = self.0.lock().unwrap();
        let count = counts.entry(id.to_string()).or_default();
        *count += 1;
        *count
    }

    pub fn get(&self, id: &str) -> usize {
        self.0.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    pub fn total(&self) -> usize {
        self.0.lock().unwrap().values().sum()
    }

    pub fn snapshot(&self) -> HashMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
}

pub use common::testing::{drained, stored};

/// Starts one instance of `orders`' durable listener for `ticket.created`,
/// with few deliveries and quick retries, so that giving up is quick.
/// Every delivery is counted in the returned tally; `outcome` gets the event
/// and how often it has now been delivered, and decides the result. The
/// task ends when the listener has stopped.
pub async fn start_listener<F, Fut>(
    bus: &Bus,
    stop: &CancellationToken,
    outcome: F,
) -> (Tally, JoinHandle<()>)
where
    F: Fn(TicketCreated, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Failure>> + Send + 'static,
{
    let tally = Tally::default();
    let seen = tally.clone();
    let config = ListenerConfig {
        max_deliver: MAX_DELIVER,
        retry_delay: std::time::Duration::from_millis(50),
        max_retry_delay: std::time::Duration::from_millis(200),
        ..ListenerConfig::default()
    };
    let consumers = Consumers::new(bus, "orders", &config).on(move |event: TicketCreated| {
        let delivery = seen.record(&event.id);
        let handled = outcome(event, delivery);
        async move { handled.await.map(|()| Outcome::applied()) }
    });
    let mut supervisor = Supervisor::new(stop.clone());
    consumers.start(&mut supervisor).await.unwrap();
    (tally, tokio::spawn(supervisor.join()))
}
