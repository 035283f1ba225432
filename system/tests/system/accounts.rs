//! The NATS accounts `make up` runs, as the cluster does: each service
//! signs in as itself, and the server refuses it what the event catalogue
//! does not give it.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use common::testing::DEADLINE;
use system::Platform;
use tokio::sync::mpsc;

/// A connection as `user`, with what the server says it refused.
async fn signed_in_as(
    platform: &Platform,
    user: &str,
) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
    let (refusals, refused) = mpsc::unbounded_channel();
    let client = platform
        .nats_options(user)
        .custom_inbox_prefix(common::bus::inbox_prefix(user))
        .event_callback(move |event| {
            let refusals = refusals.clone();
            async move {
                if let async_nats::Event::ServerError(err) = event {
                    let _ = refusals.send(err.to_string());
                }
            }
        })
        .connect(common::bus::server_addrs(&platform.nats_url()))
        .await
        .unwrap_or_else(|err| panic!("{user} cannot sign in: {err}"));
    (client, refused)
}

/// Waits for the server to say it refused something that mentions `what`.
async fn refusal(refused: &mut mpsc::UnboundedReceiver<String>, what: &str) -> String {
    let waiting = async {
        while let Some(said) = refused.recv().await {
            if said.contains("Permissions Violation") && said.contains(what) {
                return said;
            }
        }
        panic!("the connection closed before the server refused {what}");
    };
    tokio::time::timeout(DEADLINE, waiting)
        .await
        .unwrap_or_else(|_| panic!("the server did not refuse {what} within {DEADLINE:?}"))
}

/// JetStream as `client` with a short wait for answers: what is refused
/// gets none.
fn jetstream(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(2))
        .build(client)
}

#[tokio::test]
async fn a_service_may_publish_and_consume_only_what_the_catalogue_gives_it() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let stream = common::config::DEFAULT_STREAM;
    let (orders, mut refused) = signed_in_as(&platform, "orders").await;
    let js = jetstream(orders.clone());

    // Orders publishing a ticket, which only tickets may: refused, not stored.
    let forged = js
        .publish("ticketing.ticket.created", r#"{"forged":true}"#.into())
        .await
        .expect("sent");
    assert!(forged.await.is_err(), "the server stored a forged ticket");
    refusal(&mut refused, "Publish to \"ticketing.ticket.created\"").await;
    let log = platform.nats().await.unwrap();
    let log = jetstream::new(log).get_stream(stream).await.unwrap();
    assert!(
        log.get_last_raw_message_by_subject("ticketing.ticket.created")
            .await
            .is_err(),
        "the log holds a ticket nobody created"
    );

    // Its own subjects are stored: here a dead letter of one of its consumers.
    let own = js
        .publish(
            "ticketing.deadletter.orders-ticket-created",
            r#"{"parked":true}"#.into(),
        )
        .await
        .expect("sent")
        .await
        .expect("orders may park its own dead letters");
    assert!(own.sequence > 0);

    // A consumer of what it does not consume, its own events among them: refused.
    let on_its_own_events = pull::Config {
        durable_name: Some("orders-order-created".into()),
        filter_subject: "ticketing.order.created".into(),
        ..Default::default()
    };
    let created = js
        .get_stream(stream)
        .await
        .expect("orders reads the stream's info")
        .create_consumer(on_its_own_events)
        .await;
    assert!(
        created.is_err(),
        "orders created a consumer on order.created"
    );
    refusal(&mut refused, "$JS.API.CONSUMER.CREATE").await;

    // Nor may it hear another service's replies and deliveries.
    let _snooping = orders.subscribe("_INBOX.tickets.>").await.expect("sent");
    refusal(&mut refused, "Subscription to \"_INBOX.tickets.>\"").await;

    // Meanwhile every service, signed in as itself, is ready.
    for service in system::SERVICES {
        let ready = format!("http://127.0.0.1:{}/readyz", platform.port(service));
        let status = reqwest::get(&ready).await.unwrap().status();
        assert!(status.is_success(), "{service} is not ready: {status}");
    }
}
