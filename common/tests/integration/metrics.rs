//! The gauges a service reads off the servers, against the real ones.

use std::sync::Arc;

use common::testing::{eventually, sample};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::helpers::{start_listener, test_bus, ticket};

/// `orders`' consumer's lag as `/metrics` shows it.
fn lag() -> Option<f64> {
    let page = common::metrics::exporter().render();
    sample(
        &page,
        r#"consumer_pending_messages{consumer="orders-ticket-created"}"#,
    )
}

#[tokio::test]
async fn consumer_pending_messages_rises_while_a_consumer_lags_and_falls_back_to_0() {
    common::metrics::exporter();
    let bus = test_bus().await;
    let stop = CancellationToken::new();
    // The handler is held up until the test lets it go on.
    let go_on = Arc::new(Semaphore::new(0));
    let gate = go_on.clone();
    let (_tally, _listener) = start_listener(&bus, &stop, move |_, _| {
        let gate = gate.clone();
        async move {
            let _ = gate.acquire().await;
            Ok(())
        }
    })
    .await;

    for id in 0..5 {
        bus.publish(&ticket(id)).await.unwrap();
    }
    eventually("the lag of five unhandled messages", || async {
        (lag()? == 5.0).then_some(())
    })
    .await;

    go_on.add_permits(5);
    eventually("the lag to fall back to 0", || async {
        (lag()? == 0.0).then_some(())
    })
    .await;
    stop.cancel();
}
