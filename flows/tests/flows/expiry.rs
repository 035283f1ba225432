use std::time::Duration;

use common::testing::signed_in;

use crate::platform::Platform;

#[tokio::test]
async fn an_unpaid_order_expires_and_its_ticket_is_for_sale_again() {
    let platform = Platform::start(Duration::from_secs(2)).await;
    let (_, seller) = signed_in("seller");
    let (_, buyer) = signed_in("buyer");
    let (_, next) = signed_in("next");
    let ticket = platform.list_ticket(&seller, "Concert", 25.0).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let order = platform.order(&buyer, ticket_id).await;
    let order_id = order["id"].as_str().unwrap();
    platform.ticket_becomes(ticket_id, "reserved").await;

    let expired = platform.order_becomes(&buyer, order_id, "cancelled").await;

    let expires_at: chrono::DateTime<chrono::Utc> =
        expired["expiresAt"].as_str().unwrap().parse().unwrap();
    assert!(
        chrono::Utc::now() >= expires_at,
        "cancelled before it was due"
    );
    platform.ticket_becomes(ticket_id, "available").await;
    platform.order(&next, ticket_id).await;
    platform.ticket_becomes(ticket_id, "reserved").await;
    assert_eq!(platform.ticket_versions_agree(ticket_id).await, 3);
}
