use common::bus::Bus;
use common::events::{Event, TicketCreated};
use common::outbox::{Outbox, TxResult};
use common::testing::{Probe, eventually, service_settings};
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Client, Database};
use tokio_util::sync::CancellationToken;

use crate::helpers::{stored, test_bus, ticket};

async fn database() -> (Client, Database, Outbox) {
    let settings = service_settings("outbox");
    let (client, database) = common::mongo::connect(&settings.mongo_uri, &settings.mongo_db)
        .await
        .unwrap();
    let outbox = Outbox::new(&database);
    outbox.init().await.unwrap();
    (client, database, outbox)
}

/// Records a ticket and stages its event in one transaction, as a service does.
async fn create_ticket(
    client: &Client,
    database: &Database,
    outbox: &Outbox,
    event: &TicketCreated,
) {
    let tickets = database.collection::<mongodb::bson::Document>("tickets");
    let mut session = client.start_session().await.unwrap();
    session
        .start_transaction()
        .and_run2(async |session| {
            tickets
                .insert_one(doc! { "_id": &event.id, "title": &event.title })
                .session(&mut *session)
                .await?;
            outbox.stage(session, event).await
        })
        .await
        .unwrap();
    outbox.notify();
}

async fn wait_until_sent(outbox: &Outbox) {
    eventually("the outbox to be empty", || async {
        (outbox.pending().await.ok()? == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn events_committed_while_no_relay_runs_are_published_once_each_in_order_when_one_starts() {
    let (client, database, outbox) = database().await;
    let bus = test_bus().await;
    for id in 0..20 {
        create_ticket(&client, &database, &outbox, &ticket(id)).await;
    }
    assert_eq!(outbox.pending().await.unwrap(), 20);
    assert_eq!(
        stored(&bus, TicketCreated::SUBJECT).await,
        0,
        "nothing published before a relay runs"
    );
    let mut probe = Probe::<TicketCreated>::start(&bus).await;

    let stop = CancellationToken::new();
    tokio::spawn(common::relay::run(
        outbox.clone(),
        bus.clone(),
        stop.clone(),
    ));
    // A second replica's relay racing the first must not duplicate anything.
    tokio::spawn(common::relay::run(
        outbox.clone(),
        bus.clone(),
        stop.clone(),
    ));

    for id in 0..20 {
        assert_eq!(probe.next().await, ticket(id), "published in commit order");
    }
    wait_until_sent(&outbox).await;
    assert_eq!(
        stored(&bus, TicketCreated::SUBJECT).await,
        20,
        "each published once"
    );
    stop.cancel();
}

#[tokio::test]
async fn an_event_already_published_before_a_crash_is_not_published_again() {
    let (client, database, outbox) = database().await;
    let bus = test_bus().await;
    for id in 0..3 {
        create_ticket(&client, &database, &outbox, &ticket(id)).await;
    }
    // The relay published the first row and died before marking it sent.
    bus.publish(&ticket(0)).await.unwrap();

    let stop = CancellationToken::new();
    tokio::spawn(common::relay::run(
        outbox.clone(),
        bus.clone(),
        stop.clone(),
    ));

    wait_until_sent(&outbox).await;
    assert_eq!(stored(&bus, TicketCreated::SUBJECT).await, 3);
    stop.cancel();
}

#[tokio::test]
async fn an_aborted_transaction_stages_nothing() {
    let (client, database, outbox) = database().await;
    let tickets = database.collection::<mongodb::bson::Document>("tickets");
    let event = ticket(1);

    let mut session = client.start_session().await.unwrap();
    let result: mongodb::error::Result<()> = session
        .start_transaction()
        .and_run2(async |session| {
            tickets
                .insert_one(doc! { "_id": &event.id })
                .session(&mut *session)
                .await?;
            outbox.stage(session, &event).await?;
            Err(mongodb::error::Error::custom("a rule was broken"))
        })
        .await;

    assert!(result.is_err());
    assert_eq!(outbox.pending().await.unwrap(), 0);
    assert_eq!(tickets.count_documents(doc! {}).await.unwrap(), 0);
}

#[tokio::test]
async fn a_relay_started_on_a_fresh_stream_publishes_new_commits_promptly() {
    let (client, database, outbox) = database().await;
    let bus: Bus = test_bus().await;
    let mut probe = Probe::<TicketCreated>::start(&bus).await;
    let stop = CancellationToken::new();
    tokio::spawn(common::relay::run(
        outbox.clone(),
        bus.clone(),
        stop.clone(),
    ));

    create_ticket(&client, &database, &outbox, &ticket(5)).await;

    let event = probe.next().await;
    assert_eq!(event.message_id(), ticket(5).message_id());
    stop.cancel();
}

/// How many reads and updates the server has served on `database`'s outbox,
/// from its `top` command.
async fn outbox_operations(client: &Client, database: &Database) -> (i64, i64) {
    let top = client
        .database("admin")
        .run_command(doc! { "top": 1 })
        .await
        .unwrap();
    let namespace = format!("{}.outbox", database.name());
    let outbox = top
        .get_document("totals")
        .and_then(|totals| totals.get_document(&namespace))
        .expect("top reports the outbox");
    let count = |operation: &str| match outbox.get_document(operation).map(|o| o.get("count")) {
        Ok(Some(Bson::Int32(count))) => i64::from(*count),
        Ok(Some(Bson::Int64(count))) => *count,
        other => panic!("no count of {operation} in top: {other:?}"),
    };
    (count("queries"), count("update"))
}

#[tokio::test]
async fn committed_transactions_reach_the_bus_without_a_read_or_a_mark_each() {
    const COMMITS: usize = 50;
    let (client, database, outbox) = database().await;
    let bus = test_bus().await;
    let mut probe = Probe::<TicketCreated>::start(&bus).await;
    let stop = CancellationToken::new();
    tokio::spawn(common::relay::run(
        outbox.clone(),
        bus.clone(),
        stop.clone(),
    ));
    let tickets = database.collection::<Document>("tickets");

    let failed: TxResult<()> = common::transaction!(outbox, |session| {
        outbox.stage(session, &ticket(0)).await?;
        Err(mongodb::error::Error::custom("a rule was broken"))
    })
    .await;
    assert!(failed.is_err());
    let before = outbox_operations(&client, &database).await;
    let started = std::time::Instant::now();
    for id in 1..=COMMITS {
        common::transaction!(outbox, |session| {
            tickets
                .insert_one(doc! { "_id": &ticket(id).id })
                .session(&mut *session)
                .await?;
            outbox.stage(session, &ticket(id)).await
        })
        .await
        .unwrap();
    }
    for id in 1..=COMMITS {
        assert_eq!(probe.next().await, ticket(id), "published in commit order");
    }
    wait_until_sent(&outbox).await;
    let after = outbox_operations(&client, &database).await;

    assert_eq!(
        stored(&bus, TicketCreated::SUBJECT).await,
        COMMITS as u64,
        "the aborted transaction's event is not published"
    );
    // The relay reads once a second for rows nobody handed it, and marks
    // what it published at most every 100 ms.
    let elapsed = started.elapsed();
    let (reads, marks) = (after.0 - before.0, after.1 - before.1);
    let reads_allowed = elapsed.as_secs() as i64 + 2;
    let marks_allowed = reads_allowed + elapsed.as_millis() as i64 / 100 + 1;
    assert!(
        reads <= reads_allowed,
        "{reads} reads of the outbox in {elapsed:?} for {COMMITS} commits"
    );
    assert!(
        marks <= marks_allowed,
        "{marks} marks in {elapsed:?} for {COMMITS} commits"
    );
    stop.cancel();
}

/// Commits `n` tickets through `outbox`'s transactions, as a replica of a
/// service does: each row is handed to that replica's relay.
async fn commit_through(outbox: &Outbox, database: &Database, ids: std::ops::Range<usize>) {
    let tickets = database.collection::<Document>("tickets");
    for id in ids {
        common::transaction!(outbox, |session| {
            tickets
                .insert_one(doc! { "_id": &ticket(id).id })
                .session(&mut *session)
                .await?;
            outbox.stage(session, &ticket(id)).await
        })
        .await
        .unwrap();
    }
}

/// Every publish of `subject` the server receives, duplicates included:
/// a plain subscriber sees them all, whatever the stream keeps.
async fn publishes(bus: &Bus, subject: &str) -> async_nats::Subscriber {
    let subscriber = bus.client().subscribe(bus.subject(subject)).await.unwrap();
    bus.flush().await.unwrap();
    subscriber
}

/// How many publishes `subscriber` saw until a marker sent now on the same
/// connection, which the server delivers after everything sent before it.
async fn publishes_so_far(bus: &Bus, subscriber: &mut async_nats::Subscriber) -> usize {
    use futures::StreamExt;
    let marker = bytes_marker();
    bus.client()
        .publish(bus.subject(TicketCreated::SUBJECT), marker.clone())
        .await
        .unwrap();
    let mut seen = 0;
    loop {
        match tokio::time::timeout(common::testing::DEADLINE, subscriber.next()).await {
            Ok(Some(message)) if message.payload == marker => return seen,
            Ok(Some(_)) => seen += 1,
            _ => panic!("the marker never came back"),
        }
    }
}

fn bytes_marker() -> axum::body::Bytes {
    axum::body::Bytes::from_static(b"marker: nothing after this")
}

#[tokio::test]
async fn a_relay_leaves_the_rows_of_another_replica_s_relay_to_it() {
    const COMMITS: usize = 30;
    let (client, database, mine) = database().await;
    // Another replica of the service, on the same database, with its relay running.
    let other = Outbox::new(&database).with_orphan_age(std::time::Duration::from_secs(3600));
    let bus = test_bus().await;
    let mut sent = publishes(&bus, TicketCreated::SUBJECT).await;
    let stop = CancellationToken::new();
    tokio::spawn(common::relay::run(other.clone(), bus.clone(), stop.clone()));

    // This replica commits while its own relay is not running yet.
    commit_through(&mine, &database, 0..COMMITS).await;
    let before = outbox_operations(&client, &database).await.0;
    eventually("the other relay to read the outbox twice", || async {
        (outbox_operations(&client, &database).await.0 >= before + 2).then_some(())
    })
    .await;
    assert_eq!(
        stored(&bus, TicketCreated::SUBJECT).await,
        0,
        "the other relay published them"
    );
    tokio::spawn(common::relay::run(mine.clone(), bus.clone(), stop.clone()));

    wait_until_sent(&mine).await;
    assert_eq!(
        publishes_so_far(&bus, &mut sent).await,
        COMMITS,
        "each row published once"
    );
    stop.cancel();
}

#[tokio::test]
async fn the_rows_of_a_replica_that_died_are_published_by_another_once_each() {
    const COMMITS: usize = 10;
    let (_client, database, dead) = database().await;
    let survivor = Outbox::new(&database).with_orphan_age(std::time::Duration::from_secs(1));
    let bus = test_bus().await;
    let mut sent = publishes(&bus, TicketCreated::SUBJECT).await;

    // Its transactions committed; its relay never published them.
    commit_through(&dead, &database, 0..COMMITS).await;
    let stop = CancellationToken::new();
    tokio::spawn(common::relay::run(
        survivor.clone(),
        bus.clone(),
        stop.clone(),
    ));

    wait_until_sent(&survivor).await;
    assert_eq!(
        publishes_so_far(&bus, &mut sent).await,
        COMMITS,
        "each row published once"
    );
    stop.cancel();
}
