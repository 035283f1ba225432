use chrono::{Duration, Utc};
use common::events::ExpirationComplete;
use common::testing::{Probe, eventually, stored};
use expiration::schedule::Schedule;

use crate::helpers::{Instance, bus, order, settings};

#[tokio::test]
async fn an_order_expires_when_due_and_not_before() {
    let settings = settings();
    let _instance = Instance::start(&settings).await;
    let bus = bus(&settings).await;
    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    let order = order(Utc::now() + Duration::seconds(1));

    bus.publish(&order).await.unwrap();

    assert_eq!(expired.next().await.order_id, order.id);
    assert!(
        Utc::now() >= order.expires_at,
        "published before it was due"
    );
}

#[tokio::test]
async fn an_order_already_past_its_time_expires_at_once() {
    let settings = settings();
    let _instance = Instance::start(&settings).await;
    let bus = bus(&settings).await;
    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    let order = order(Utc::now() - Duration::hours(1));

    bus.publish(&order).await.unwrap();

    assert_eq!(expired.next().await.order_id, order.id);
}

#[tokio::test]
async fn an_order_due_while_the_service_is_down_expires_after_it_comes_back() {
    let settings = settings();
    let first = Instance::start(&settings).await;
    let bus = bus(&settings).await;
    let schedule = Schedule::connect(settings.redis_url.expose(), &settings.redis_prefix)
        .await
        .unwrap();
    let order = order(Utc::now() + Duration::seconds(1));
    bus.publish(&order).await.unwrap();
    eventually("the order to be scheduled", || async {
        schedule.due_at(&order.id).await.ok()?.map(|_| ())
    })
    .await;

    first.stop().await;
    eventually("the order to fall due", || async {
        (Utc::now() > order.expires_at).then_some(())
    })
    .await;
    assert_eq!(
        stored(&bus, "expiration.complete").await,
        0,
        "nothing published while down"
    );
    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    let _second = Instance::start(&settings).await;

    assert_eq!(expired.next().await.order_id, order.id);
}

#[tokio::test]
async fn with_two_instances_each_order_expires_exactly_once() {
    let settings = settings();
    let _one = Instance::start(&settings).await;
    let _two = Instance::start(&settings).await;
    let bus = bus(&settings).await;
    let mut expired = Probe::<ExpirationComplete>::start(&bus).await;
    let due = Utc::now() + Duration::milliseconds(500);
    let orders: Vec<_> = (0..50).map(|_| order(due)).collect();

    for order in &orders {
        bus.publish(order).await.unwrap();
    }

    let mut seen: Vec<_> = Vec::new();
    for _ in &orders {
        seen.push(expired.next().await.order_id);
    }
    seen.sort();
    let mut expected: Vec<_> = orders.iter().map(|o| o.id.clone()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    expired
        .assert_no_more(std::time::Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn a_duplicate_order_created_keeps_the_first_schedule() {
    let settings = settings();
    let schedule = Schedule::connect(settings.redis_url.expose(), &settings.redis_prefix)
        .await
        .unwrap();
    let order_id = order(Utc::now()).id;
    let first = Utc::now() + Duration::hours(1);

    schedule.schedule(&order_id, first).await.unwrap();
    schedule
        .schedule(&order_id, first + Duration::hours(1))
        .await
        .unwrap();

    assert_eq!(
        schedule
            .due_at(&order_id)
            .await
            .unwrap()
            .map(|t| t.timestamp_millis()),
        Some(first.timestamp_millis())
    );
}

#[tokio::test]
async fn health_needs_redis_and_the_bus() {
    let settings = settings();
    let instance = Instance::start(&settings).await;
    let response = reqwest::get(format!("{}/readyz", instance.address))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
}
