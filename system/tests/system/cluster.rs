//! The event log on a real three-server NATS cluster on loopback, as the
//! prod overlay runs it, with the stream at three replicas: its leader
//! killed with SIGKILL mid-flow loses nothing, the platform keeps serving
//! on the two servers left, and the leader, started again, catches up.

use std::time::Duration;

use async_nats::jetstream::{self, stream::Info};
use common::testing::eventually;
use system::{Platform, Profile};

use crate::faults::{on_sale, pay, place};
use crate::helpers::Person;
use crate::rules::rules_hold;

/// Each server's name in the cluster, and its process as `make up` names it.
const SERVERS: [(&str, &str); 3] = [
    ("n1", "nats-server"),
    ("n2", "nats-server-2"),
    ("n3", "nats-server-3"),
];

/// The stream as the cluster reports it, asked of whichever server answers.
async fn stream(platform: &Platform) -> Option<Info> {
    let client = platform.nats().await.ok()?;
    let stream = jetstream::new(client).get_stream("TICKETING").await.ok()?;
    stream.get_info().await.ok()
}

/// The stream once it has a leader and every replica is current.
async fn settled(platform: &Platform, what: &str) -> Info {
    eventually(what, || async {
        let info = stream(platform).await?;
        let cluster = info.cluster.as_ref()?;
        let caught_up = cluster.replicas.len() == 2
            && cluster
                .replicas
                .iter()
                .all(|peer| peer.current && !peer.offline && peer.lag.unwrap_or(0) == 0);
        (cluster.leader.is_some() && caught_up).then_some(info)
    })
    .await
}

#[tokio::test]
async fn the_stream_leader_killed_mid_flow_loses_nothing_and_catches_up_when_back() {
    let settings = [("NATS_CLUSTER", "3")];
    let mut platform =
        Platform::launch_with(Duration::from_secs(900), Profile::Debug, &settings).await;
    let info = settled(
        &platform,
        "the stream to have a leader and two current replicas",
    )
    .await;
    assert_eq!(
        info.config.num_replicas, 3,
        "the services ask for three replicas"
    );

    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;
    let tickets = on_sale(&seller, 6).await;
    // Purchases in flight: one paid, two placed and not yet paid.
    let mut orders = vec![place(&buyer, &tickets[0]).await];
    pay(&buyer, &orders[0]).await;
    orders.push(place(&buyer, &tickets[1]).await);
    orders.push(place(&buyer, &tickets[2]).await);

    let info = stream(&platform).await.expect("the cluster answers");
    let leader = info.cluster.and_then(|c| c.leader).expect("a leader");
    let (_, process) = SERVERS.iter().find(|(name, _)| *name == leader).unwrap();
    let before = info.state.messages;
    platform.kill(process).await;

    // Two servers left: the placed orders are paid, new ones placed and paid.
    pay(&buyer, &orders[1]).await;
    pay(&buyer, &orders[2]).await;
    for ticket in &tickets[3..] {
        let order = place(&buyer, ticket).await;
        pay(&buyer, &order).await;
        orders.push(order);
    }
    for order in &orders {
        buyer
            .until(&format!("/api/orders/{order}"), "status", "complete")
            .await;
    }
    for ticket in &tickets {
        buyer
            .until(&format!("/api/tickets/{ticket}"), "status", "sold")
            .await;
    }
    rules_hold(&platform).await;

    // Back, the old leader catches up with what it missed.
    platform.restart(process).await;
    let after = settled(&platform, "the restarted server to catch up").await;
    assert!(
        after.state.messages > before,
        "the stream kept what was published while {process} was down"
    );
    rules_hold(&platform).await;
}
