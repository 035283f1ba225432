use std::time::Duration;

use common::dispatch::consumer_name;
use common::events::ExpirationComplete;
use common::testing::{Probe, drained, signed_in};
use reqwest::StatusCode;

use crate::platform::Platform;

#[tokio::test]
async fn a_ticket_is_bought_paid_and_sold_and_its_expiry_changes_nothing() {
    let platform = Platform::start(Duration::from_secs(2)).await;
    let (_, seller) = signed_in("seller");
    let (_, buyer) = signed_in("buyer");
    let ticket = platform.list_ticket(&seller, "Concert", 12.5).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let order = platform.order(&buyer, ticket_id).await;
    let order_id = order["id"].as_str().unwrap();

    let payment = platform.pay(&buyer, order_id).await;

    assert_eq!(payment["orderId"], order_id);
    let paid = platform.order_becomes(&buyer, order_id, "complete").await;
    let sold = platform.ticket_becomes(ticket_id, "sold").await;
    assert_eq!(sold["orderId"], order_id);
    assert!(
        platform
            .tickets_for_sale()
            .await
            .iter()
            .all(|t| t["id"] != ticket_id)
    );

    // A completed order can be neither cancelled by its buyer nor expired.
    let refused = platform.cancel(&buyer, order_id).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    // Expiration announces the expiry when it is due; orders must ignore it.
    let mut expiries = Probe::<ExpirationComplete>::start(&platform.bus).await;
    assert_eq!(expiries.next().await.order_id, order_id);
    drained(
        &platform.bus,
        &consumer_name("orders", "expiration.complete"),
    )
    .await;
    let versions = platform.ticket_versions_agree(ticket_id).await;
    assert_eq!(versions, 2, "held, then sold");
    assert_eq!(platform.order_of(&buyer, order_id).await, paid);
    assert_eq!(platform.ticket(ticket_id).await, sold);
}
