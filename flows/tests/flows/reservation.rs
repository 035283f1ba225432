use common::testing::signed_in;
use reqwest::StatusCode;

use crate::platform::Platform;

#[tokio::test]
async fn a_ticket_is_listed_ordered_released_and_ordered_by_someone_else() {
    let platform = Platform::start(std::time::Duration::from_secs(900)).await;
    let (_, seller) = signed_in("seller");
    let (_, first) = signed_in("first");
    let (_, second) = signed_in("second");
    let ticket = platform.list_ticket(&seller, "Concert", 40.0).await;
    let ticket_id = ticket["id"].as_str().unwrap();

    let order = platform.order(&first, ticket_id).await;
    assert_eq!(order["ticket"]["price"], 40.0);
    let reserved = platform.ticket_becomes(ticket_id, "reserved").await;
    assert_eq!(reserved["orderId"], order["id"]);

    let cancelled = platform.cancel(&first, order["id"].as_str().unwrap()).await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    platform.ticket_becomes(ticket_id, "available").await;

    let second_order = platform.order(&second, ticket_id).await;
    let reserved = platform.ticket_becomes(ticket_id, "reserved").await;
    assert_eq!(reserved["orderId"], second_order["id"]);

    // Held, released, held again: version 3 in both databases.
    assert_eq!(platform.ticket_versions_agree(ticket_id).await, 3);
}
