//! A service's consumers against the real servers: early events wait in
//! the inbox, deliveries that run out end as dead letters whatever became of
//! them, a consumer's stored settings follow the service's, and a listener
//! that dies makes the service not live.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::bus::Bus;
use common::config::ListenerConfig;
use common::consumers::Consumers;
use common::dispatch::{DEAD_REASON_HEADER, consumer_name, dead_letter_subject};
use common::events::{Event, TicketCreated, TicketUpdated};
use common::handling::{Failure, Outcome};
use common::health::Readiness;
use common::inbox::Inbox;
use common::replica::Replica;
use common::service::Builder;
use common::supervisor::Supervisor;
use common::testing::{DEADLINE, Probe, drained, eventually, service_settings};
use futures::StreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Document, doc};
use tokio_util::sync::CancellationToken;

use crate::helpers::{Tally, test_bus, ticket};

async fn database() -> mongodb::Database {
    let settings = service_settings("consumers");
    common::mongo::connect(&settings.mongo_uri, &settings.mongo_db)
        .await
        .unwrap()
        .1
}

fn updated(id: &str, version: i64) -> TicketUpdated {
    TicketUpdated {
        id: id.into(),
        version,
        title: format!("version {version}"),
        price: 1000 + version,
        user_id: "u1".into(),
        order_id: None,
        status: common::events::TicketStatus::Available,
        starts_at: None,
    }
}

/// How many deliveries the server made on `consumer`, redeliveries included.
async fn deliveries_of(bus: &Bus, consumer: &str) -> u64 {
    let stream = bus.jetstream().get_stream(bus.stream_name()).await.unwrap();
    stream
        .consumer_info(consumer)
        .await
        .unwrap()
        .delivered
        .consumer_sequence
}

/// A replica of tickets, applied by the common version gate, its early
/// events in the inbox: what orders runs. Counts each handling of an update.
async fn start_replica(bus: &Bus, database: &mongodb::Database, stop: &CancellationToken) -> Tally {
    let replica = Replica::new(database.collection::<Document>("tickets"), "ticket");
    let (on_created, on_updated) = (replica.clone(), replica);
    let deliveries = Tally::default();
    let seen = deliveries.clone();
    let consumers = Consumers::new(bus, "orders", &ListenerConfig::default())
        .with_inbox(Inbox::new(database))
        .on(move |event: TicketCreated| {
            let replica = on_created.clone();
            async move {
                let id = ObjectId::parse_str(&event.id).map_err(|e| Failure::Reject(e.into()))?;
                let record = doc! { "_id": id, "version": 0, "title": event.title };
                Ok(replica.insert_first(id, &record, None).await?)
            }
        })
        .on(move |event: TicketUpdated| {
            let replica = on_updated.clone();
            seen.record(&format!("{}@{}", event.id, event.version));
            async move {
                let id = ObjectId::parse_str(&event.id).map_err(|e| Failure::Reject(e.into()))?;
                let fields = doc! { "title": event.title };
                Ok(replica.apply_next(id, event.version, fields, None).await?)
            }
        });
    let mut supervisor = Supervisor::new(stop.clone());
    consumers.start(&mut supervisor).await.unwrap();
    deliveries
}

fn created(id: &str) -> TicketCreated {
    TicketCreated {
        id: id.into(),
        ..ticket(0)
    }
}

async fn replica_version(database: &mongodb::Database, id: &str) -> Option<i64> {
    let record = database
        .collection::<Document>("tickets")
        .find_one(doc! { "_id": ObjectId::parse_str(id).unwrap() })
        .await
        .unwrap()?;
    record
        .get_i64("version")
        .ok()
        .or(record.get_i32("version").ok().map(i64::from))
}

#[tokio::test]
async fn early_versions_wait_in_the_inbox_and_apply_right_after_what_they_follow() {
    let (bus, database, stop) = (test_bus().await, database().await, CancellationToken::new());
    start_replica(&bus, &database, &stop).await;
    let id = ObjectId::new().to_hex();
    let mut dead = Probe::<TicketUpdated>::on_subject(
        &bus,
        &dead_letter_subject(&consumer_name("orders", TicketUpdated::SUBJECT)),
    )
    .await;

    for version in [3, 1, 2] {
        bus.publish(&updated(&id, version)).await.unwrap();
    }
    let consumer = consumer_name("orders", TicketUpdated::SUBJECT);
    drained(&bus, &consumer).await;
    let inbox = Inbox::new(&database);
    assert_eq!(
        inbox.waiting().await.unwrap(),
        3,
        "all three kept, and acked"
    );
    assert_eq!(
        deliveries_of(&bus, &consumer).await,
        3,
        "each delivered once, never retried"
    );
    bus.publish(&created(&id)).await.unwrap();

    // Each row is forgotten right after its event applies, never before:
    // a crash between the two leaves a duplicate, not a lost event.
    eventually("the replica at version 3 and the inbox empty", || async {
        let empty = inbox.waiting().await.ok()? == 0;
        (replica_version(&database, &id).await? == 3 && empty).then_some(())
    })
    .await;
    assert_eq!(
        deliveries_of(&bus, &consumer).await,
        3,
        "nothing redelivered"
    );
    dead.assert_no_more(Duration::from_millis(200)).await;
    stop.cancel();
}

#[tokio::test]
async fn an_early_version_kept_twice_is_one_row_and_applies_once() {
    let (bus, database, stop) = (test_bus().await, database().await, CancellationToken::new());
    start_replica(&bus, &database, &stop).await;
    let id = ObjectId::new().to_hex();

    bus.publish(&updated(&id, 1)).await.unwrap();
    common::testing::publish_again(&bus, &updated(&id, 1)).await;
    drained(&bus, &consumer_name("orders", TicketUpdated::SUBJECT)).await;
    assert_eq!(Inbox::new(&database).waiting().await.unwrap(), 1);
    bus.publish(&created(&id)).await.unwrap();

    // The row is forgotten right after its event applies.
    eventually("the replica at version 1 and the inbox empty", || async {
        let empty = Inbox::new(&database).waiting().await.ok()? == 0;
        (replica_version(&database, &id).await? == 1 && empty).then_some(())
    })
    .await;
    stop.cancel();
}

/// Starts `orders`' listener of `ticket.created` with `config` and `handler`.
async fn start_with<H, Fut>(bus: &Bus, config: ListenerConfig, stop: &CancellationToken, handler: H)
where
    H: Fn(TicketCreated) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Outcome, Failure>> + Send + 'static,
{
    let mut supervisor = Supervisor::new(stop.clone());
    Consumers::new(bus, "orders", &config)
        .on(handler)
        .start(&mut supervisor)
        .await
        .unwrap();
}

async fn dead_reason(bus: &Bus) -> String {
    let subject = dead_letter_subject(&consumer_name("orders", TicketCreated::SUBJECT));
    let mut dead = Probe::<TicketCreated>::on_subject(bus, &subject).await;
    let parked = dead.next_message(DEADLINE).await.expect("a dead letter");
    let reason = parked
        .headers
        .as_ref()
        .and_then(|h| h.get(DEAD_REASON_HEADER))
        .unwrap();
    let reason = reason.to_string();
    dead.assert_no_more(Duration::from_millis(500)).await;
    reason
}

#[tokio::test]
async fn a_handler_that_never_finishes_ends_as_a_dead_letter() {
    let (bus, stop) = (test_bus().await, CancellationToken::new());
    let config = ListenerConfig {
        ack_wait: Duration::from_secs(1),
        max_deliver: 3,
        handler_timeout: Duration::from_millis(1500),
        ..ListenerConfig::default()
    };
    start_with(&bus, config, &stop, |_| std::future::pending()).await;

    bus.publish(&ticket(1)).await.unwrap();

    let reason = dead_reason(&bus).await;
    assert!(reason.contains("did not finish"), "{reason}");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_outlives_the_ack_wait_on_every_delivery_ends_as_a_dead_letter() {
    let (bus, stop) = (test_bus().await, CancellationToken::new());
    let config = ListenerConfig {
        ack_wait: Duration::from_secs(1),
        max_deliver: 2,
        ..ListenerConfig::default()
    };
    // A handler that holds its thread (a starved machine, a blocking call)
    // past the ack wait: the server times each delivery out.
    start_with(&bus, config, &stop, |_| async {
        std::thread::sleep(Duration::from_millis(2500));
        Err(Failure::Retry(anyhow::anyhow!("too slow")))
    })
    .await;

    bus.publish(&ticket(1)).await.unwrap();

    let reason = dead_reason(&bus).await;
    assert!(
        reason.contains("deliveries") || reason.contains("gave up"),
        "{reason}"
    );
    stop.cancel();
}

#[tokio::test]
async fn deliveries_lost_to_a_crashed_replica_count_and_the_last_is_parked_before_any_work() {
    let (bus, stop) = (test_bus().await, CancellationToken::new());
    let config = ListenerConfig {
        ack_wait: Duration::from_secs(1),
        max_deliver: 3,
        ..ListenerConfig::default()
    };
    let (consumer, _) = common::listener::bind(&bus, "orders", TicketCreated::SUBJECT, &config)
        .await
        .unwrap();
    bus.publish(&ticket(1)).await.unwrap();

    // A replica takes the message and dies before settling it, twice: the
    // server redelivers each time the ack wait runs out.
    for delivery in 1..config.max_deliver {
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(DEADLINE)
            .messages()
            .await
            .unwrap();
        let taken = batch.next().await.expect("a delivery").unwrap();
        assert_eq!(taken.info().unwrap().delivered, delivery);
    }
    let runs = Arc::new(Mutex::new(0));
    let counted = runs.clone();
    start_with(&bus, config, &stop, move |_| {
        *counted.lock().unwrap() += 1;
        async { Ok(Outcome::applied()) }
    })
    .await;

    let reason = dead_reason(&bus).await;
    assert!(reason.contains("deliveries ran out"), "{reason}");
    assert_eq!(
        *runs.lock().unwrap(),
        0,
        "the handler ran on the last delivery"
    );
    stop.cancel();
}

#[tokio::test]
async fn a_consumer_stored_with_other_settings_takes_the_service_s_at_start() {
    let bus = test_bus().await;
    let name = consumer_name("orders", TicketCreated::SUBJECT);
    let first = ListenerConfig::default();
    let stop = CancellationToken::new();
    start_with(&bus, first.clone(), &stop, |_| async {
        Ok(Outcome::applied())
    })
    .await;
    stop.cancel();

    let changed = ListenerConfig {
        max_deliver: 5,
        ack_wait: Duration::from_secs(12),
        ..first
    };
    let stop = CancellationToken::new();
    start_with(&bus, changed, &stop, |_| async { Ok(Outcome::applied()) }).await;

    let stream = bus.jetstream().get_stream(bus.stream_name()).await.unwrap();
    let stored = stream.consumer_info(&name).await.unwrap().config;
    assert_eq!(
        (stored.max_deliver, stored.ack_wait),
        (5, Duration::from_secs(12))
    );
    stop.cancel();
}

#[tokio::test]
async fn a_listener_that_panics_makes_healthz_fail_within_a_second() {
    let (bus, stop) = (test_bus().await, CancellationToken::new());
    let mut app = Builder::bind("test", &common::testing::http_settings(), stop.clone())
        .await
        .unwrap();
    let panicked_at = Arc::new(Mutex::new(None));
    let noted = panicked_at.clone();
    Consumers::new(&bus, "orders", &ListenerConfig::default())
        .on(move |event: TicketCreated| {
            let noted = noted.clone();
            async move {
                *noted.lock().unwrap() = Some(Instant::now());
                panic!("a bug in the handler of {}", event.id);
            }
        })
        .start(app.supervisor())
        .await
        .unwrap();
    let app = app.api(axum::Router::new(), Readiness::new());
    let healthz = format!("http://{}/healthz", app.address());
    tokio::spawn(app.run_until_stopped());
    assert_eq!(reqwest::get(&healthz).await.unwrap().status(), 200);

    bus.publish(&ticket(1)).await.unwrap();

    let panicked = eventually("the handler to panic", || async {
        *panicked_at.lock().unwrap()
    })
    .await;
    let response = loop {
        let response = reqwest::get(&healthz).await.unwrap();
        if response.status() == 503 || panicked.elapsed() > Duration::from_secs(1) {
            break response;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        response.status(),
        503,
        "still live {:?} after the panic",
        panicked.elapsed()
    );
    let body = response.text().await.unwrap();
    assert!(
        body.contains("listener orders-ticket-created panicked"),
        "{body}"
    );
    stop.cancel();
}
