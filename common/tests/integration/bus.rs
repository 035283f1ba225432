use std::sync::Arc;
use std::time::Duration;

use common::dispatch::{DEAD_REASON_HEADER, consumer_name, dead_letter_subject};
use common::events::{Event, TicketCreated};
use common::handling::Failure;
use common::testing::{DEADLINE, Probe};
use tokio_util::sync::CancellationToken;

use crate::helpers::{MAX_DELIVER, Tally, drained, start_listener, stored, test_bus, ticket};

const CONSUMER: &str = "orders-ticket-created";

#[tokio::test]
async fn a_published_event_is_handled_once_by_a_durable_listener() {
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    let (handled, _) = start_listener(&bus, &stop, |_, _| async { Ok(()) }).await;

    bus.publish(&ticket(1)).await.unwrap();

    drained(&bus, CONSUMER).await;
    assert_eq!(handled.get("t1"), 1);
    assert_eq!(handled.total(), 1);
    stop.cancel();
}

#[tokio::test]
async fn two_instances_on_one_consumer_split_the_messages_without_overlap() {
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    // Some work per message, so that both instances have a share.
    let work = |_, _| async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok(())
    };
    let (first, _) = start_listener(&bus, &stop, work).await;
    let (second, _) = start_listener(&bus, &stop, work).await;

    for id in 0..100 {
        bus.publish(&ticket(id)).await.unwrap();
    }

    drained(&bus, CONSUMER).await;
    let (first, second) = (first.snapshot(), second.snapshot());
    assert!(
        first.values().chain(second.values()).all(|&n| n == 1),
        "redelivered within an instance"
    );
    assert!(
        first.keys().all(|id| !second.contains_key(id)),
        "a message was handled by both instances"
    );
    assert_eq!(first.len() + second.len(), 100, "every message handled");
    assert!(
        !first.is_empty() && !second.is_empty(),
        "one instance did all the work: {} / {}",
        first.len(),
        second.len()
    );
    stop.cancel();
}

#[tokio::test]
async fn a_handler_that_fails_twice_then_succeeds_has_its_message_handled() {
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    let done = Tally::default();
    let finished = done.clone();
    let (attempts, _) = start_listener(&bus, &stop, move |event, delivery| {
        let finished = finished.clone();
        async move {
            if delivery <= 2 {
                return Err(Failure::Retry(anyhow::anyhow!(
                    "database briefly unreachable"
                )));
            }
            finished.record(&event.id);
            Ok(())
        }
    })
    .await;

    bus.publish(&ticket(7)).await.unwrap();

    drained(&bus, CONSUMER).await;
    assert_eq!(attempts.get("t7"), 3);
    assert_eq!(done.get("t7"), 1);
    stop.cancel();
}

#[tokio::test]
async fn a_message_that_always_fails_is_dead_lettered_and_the_next_is_handled() {
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    let (attempts, _) = start_listener(&bus, &stop, |event, _| async move {
        if event.id == "t0" {
            Err(Failure::Retry(anyhow::anyhow!("always broken")))
        } else {
            Ok(())
        }
    })
    .await;
    let dead_subject = dead_letter_subject(&consumer_name("orders", TicketCreated::SUBJECT));
    let mut dead = Probe::<TicketCreated>::on_subject(&bus, &dead_subject).await;

    bus.publish(&ticket(0)).await.unwrap();
    bus.publish(&ticket(1)).await.unwrap();

    let parked = dead.next_message(DEADLINE).await.expect("a dead letter");
    let payload: TicketCreated = serde_json::from_slice(&parked.payload).unwrap();
    assert_eq!(payload, ticket(0));
    let reason = parked
        .headers
        .as_ref()
        .and_then(|h| h.get(DEAD_REASON_HEADER))
        .expect("a reason")
        .to_string();
    assert!(
        reason.contains("always broken") && reason.contains("4 deliveries"),
        "{reason}"
    );
    drained(&bus, CONSUMER).await;
    assert_eq!(
        attempts.get("t0"),
        MAX_DELIVER as usize - 1,
        "bounded deliveries, the last kept for parking"
    );
    assert_eq!(attempts.get("t1"), 1, "the next message was handled");
    stop.cancel();
}

#[tokio::test]
async fn a_message_that_cannot_decode_is_dead_lettered_at_once() {
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    let (handled, _) = start_listener(&bus, &stop, |_, _| async { Ok(()) }).await;
    let mut dead = Probe::<TicketCreated>::on_subject(&bus, &dead_letter_subject(CONSUMER)).await;

    bus.publish_raw(
        TicketCreated::SUBJECT,
        "garbage-1",
        "{not json".into(),
        Default::default(),
    )
    .await
    .unwrap();

    let parked = dead.next_message(DEADLINE).await.expect("a dead letter");
    assert_eq!(&parked.payload[..], b"{not json");
    let reason = parked
        .headers
        .as_ref()
        .and_then(|h| h.get(DEAD_REASON_HEADER))
        .unwrap()
        .to_string();
    assert!(
        reason.starts_with("rejected: payload does not decode"),
        "{reason}"
    );
    drained(&bus, CONSUMER).await;
    assert_eq!(handled.total(), 0);
    stop.cancel();
}

#[tokio::test]
async fn the_same_event_published_twice_is_stored_once() {
    let bus = test_bus().await;

    let first = bus.publish(&ticket(3)).await.unwrap();
    let second = bus.publish(&ticket(3)).await.unwrap();

    assert!(!first.duplicate);
    assert!(second.duplicate);
    assert_eq!(second.sequence, first.sequence);
    assert_eq!(stored(&bus, TicketCreated::SUBJECT).await, 1);
}

#[tokio::test]
async fn on_shutdown_a_listener_finishes_the_message_in_hand() {
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    let started = Arc::new(tokio::sync::Notify::new());
    let finished = Tally::default();
    let (signal, done) = (started.clone(), finished.clone());
    let (_, task) = start_listener(&bus, &stop, move |event, _| {
        let (signal, done) = (signal.clone(), done.clone());
        async move {
            signal.notify_one();
            tokio::time::sleep(Duration::from_millis(300)).await;
            done.record(&event.id);
            Ok(())
        }
    })
    .await;
    bus.publish(&ticket(9)).await.unwrap();

    started.notified().await;
    stop.cancel();
    task.await.unwrap();

    assert_eq!(finished.get("t9"), 1, "the message in hand was finished");
    drained(&bus, CONSUMER).await;
}
