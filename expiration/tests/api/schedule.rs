//! The schedule's claims against real Redis, with no service around them.

use chrono::{Duration, Utc};
use common::events::ExpirationComplete;
use common::testing::{Probe, eventually};
use expiration::schedule::{Claim, Schedule};
use futures::future::join_all;

use crate::helpers::{Instance, bus, settings};

fn ids(claims: &[Claim]) -> Vec<&str> {
    claims.iter().map(|c| c.order_id.as_str()).collect()
}

async fn schedule(settings: &expiration::config::Settings) -> Schedule {
    Schedule::connect(settings.redis_url.expose(), &settings.redis_prefix)
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_claims_never_take_the_same_order_twice() {
    let settings = settings();
    let schedule = schedule(&settings).await;
    let now = Utc::now();
    for id in 0..300 {
        schedule
            .schedule(&format!("o{id}"), now - Duration::seconds(1))
            .await
            .unwrap();
    }

    let claims = join_all((0..6).map(|_| {
        let schedule = schedule.clone();
        async move {
            schedule
                .claim(now, now + Duration::minutes(1), 40)
                .await
                .unwrap()
        }
    }))
    .await;

    let mut all: Vec<_> = claims.into_iter().flatten().map(|c| c.order_id).collect();
    assert_eq!(all.len(), 240, "six claims of 40 each");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 240, "no order claimed twice");
}

#[tokio::test]
async fn a_claim_says_since_when_each_order_is_due_and_the_count_keeps_claimed_ones() {
    let settings = settings();
    let schedule = schedule(&settings).await;
    let now = Utc::now();
    let due = now - Duration::seconds(3);
    schedule.schedule("o1", due).await.unwrap();
    schedule
        .schedule("o2", now + Duration::minutes(5))
        .await
        .unwrap();

    let claimed = schedule
        .claim(now, now + Duration::minutes(1), 10)
        .await
        .unwrap();

    assert_eq!(ids(&claimed), ["o1"]);
    assert_eq!(claimed[0].due.timestamp_millis(), due.timestamp_millis());
    assert_eq!(
        schedule.scheduled().await.unwrap(),
        2,
        "one due later, one claimed"
    );
    schedule.done("o1").await.unwrap();
    assert_eq!(schedule.scheduled().await.unwrap(), 1);
}

#[tokio::test]
async fn an_order_not_yet_due_is_not_claimed() {
    let settings = settings();
    let schedule = schedule(&settings).await;
    let now = Utc::now();
    schedule
        .schedule("later", now + Duration::seconds(10))
        .await
        .unwrap();

    assert!(
        schedule
            .claim(now, now + Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_claim_that_lapses_is_claimed_again() {
    let settings = settings();
    let schedule = schedule(&settings).await;
    let now = Utc::now();
    schedule
        .schedule("o1", now - Duration::seconds(1))
        .await
        .unwrap();
    let first = schedule
        .claim(now, now + Duration::seconds(5), 10)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["o1"]);
    assert!(
        schedule
            .claim(now, now + Duration::seconds(5), 10)
            .await
            .unwrap()
            .is_empty(),
        "held"
    );

    // As an instance that died after claiming: later, the claim has lapsed.
    let later = now + Duration::seconds(6);
    assert_eq!(
        ids(&schedule
            .claim(later, later + Duration::seconds(5), 10)
            .await
            .unwrap()),
        ["o1"]
    );
}

#[tokio::test]
async fn an_expiry_whose_publish_fails_stays_scheduled_and_is_published_later() {
    let settings = settings();
    let _instance = Instance::start(&settings).await;
    let bus = bus(&settings).await;
    let schedule = schedule(&settings).await;
    // No stream: every publish fails.
    bus.jetstream()
        .delete_stream(bus.stream_name())
        .await
        .unwrap();
    let due = Utc::now() - Duration::seconds(1);
    schedule.schedule("o1", due).await.unwrap();

    eventually("the failed expiry to be rescheduled", || async {
        let at = schedule.due_at("o1").await.ok()??;
        (at > due).then_some(())
    })
    .await;

    let bus = crate::helpers::bus(&settings).await; // creates the stream again
    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    assert_eq!(expired.next().await.order_id, "o1");
}
