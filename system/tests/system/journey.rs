use std::time::Duration;

use common::testing::eventually;
use reqwest::StatusCode;
use serde_json::json;
use system::Platform;

use crate::helpers::{Person, replicas_agree};

#[tokio::test]
async fn a_ticket_is_sold_bought_and_paid_through_the_proxy() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let seller = Person::sign_up(&platform, "seller").await;
    let buyer = Person::sign_up(&platform, "buyer").await;

    let ticket = seller.sell("Concert", 25.5).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let response = buyer.order(ticket_id).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: serde_json::Value = response.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(order["ticket"]["price"], 25.5);
    buyer
        .until(&format!("/api/tickets/{ticket_id}"), "status", "reserved")
        .await;

    let paid = common::testing::eventually("payments to take the payment", || async {
        let response = buyer
            .post(
                "/api/payments",
                &json!({ "orderId": order_id, "token": "pm_card_visa" }),
            )
            .await;
        (response.status() == StatusCode::CREATED).then_some(response)
    })
    .await;
    let payment: serde_json::Value = paid.json().await.unwrap();
    assert_eq!(payment["orderId"], order_id);

    buyer
        .until(&format!("/api/orders/{order_id}"), "status", "complete")
        .await;
    buyer
        .until(&format!("/api/tickets/{ticket_id}"), "status", "sold")
        .await;
    let for_sale = buyer.json("/api/tickets").await;
    assert!(
        for_sale
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["id"] != ticket_id)
    );
    let refused = buyer.http_delete(&format!("/api/orders/{order_id}")).await;
    assert_eq!(
        refused.status(),
        StatusCode::BAD_REQUEST,
        "a paid order cannot be cancelled"
    );

    replicas_agree(&platform, ("tickets", "tickets"), ("orders", "tickets")).await;
    replicas_agree(&platform, ("orders", "orders"), ("payments", "orders")).await;

    // The buyer signs out; their old cookie, replayed on a page, is
    // cleared in the browser by the client that showed the page.
    let cookie = buyer.session_cookie(&platform.url);
    let signed_out = buyer
        .post("/api/users/signout", &serde_json::json!({}))
        .await;
    assert_eq!(signed_out.status(), StatusCode::OK);
    let page = eventually("the page to clear the ended session", || async {
        let page = reqwest::Client::new()
            .get(format!("{}/", platform.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let clears = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.starts_with("session=;")));
        clears.then_some(page)
    })
    .await;
    assert_eq!(page.status(), StatusCode::OK);
}
