//! Accounts across the services: a session ended by signing out is refused
//! by every service within a second; a ban is felt everywhere, ends the
//! user's unpaid orders, hides their tickets, and is lifted again.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::platform::{ADMIN, Platform, session_cookie};

/// Waits for `status` until a second after `started`, polling: "within a
/// second" of what set it off.
async fn within_a_second<F, Fut>(what: &str, started: Instant, mut answer: F, status: StatusCode)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StatusCode>,
{
    loop {
        let got = answer().await;
        if got == status {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: still {got} after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What each service answers `cookie` on a route that needs a session.
async fn answers(platform: &Platform, cookie: &str) -> [StatusCode; 3] {
    let tickets = platform.call(
        Method::GET,
        format!("{}/api/tickets/mine", platform.tickets),
        cookie,
        None,
    );
    let orders = platform.call(
        Method::GET,
        format!("{}/api/orders", platform.orders),
        cookie,
        None,
    );
    let payments = platform.call(
        Method::POST,
        format!("{}/api/payments", platform.payments),
        cookie,
        Some(json!({ "orderId": "507f1f77bcf86cd799439011", "token": "pm_card_visa" })),
    );
    let (t, o, p) = tokio::join!(tickets, orders, payments);
    [t.status(), o.status(), p.status()]
}

/// Every service answers `status` within a second of now.
async fn all_refuse(platform: &Platform, cookie: &str, status: StatusCode) {
    let started = Instant::now();
    for (i, service) in ["tickets", "orders", "payments"].into_iter().enumerate() {
        within_a_second(
            service,
            started,
            || async { answers(platform, cookie).await[i] },
            status,
        )
        .await;
    }
}

async fn sign_out(platform: &Platform, cookie: &str, body: Option<Value>) {
    let response = platform
        .call(
            Method::POST,
            format!("{}/api/users/signout", platform.auth),
            cookie,
            body,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_cookie_replayed_after_signing_out_is_refused_by_every_service_within_a_second() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let cookie = platform
        .sign_up(&format!("leaver-{}@example.com", std::process::id()))
        .await;
    assert_eq!(
        answers(&platform, &cookie).await,
        [StatusCode::OK, StatusCode::OK, StatusCode::NOT_FOUND]
    );

    sign_out(&platform, &cookie, None).await;

    all_refuse(&platform, &cookie, StatusCode::UNAUTHORIZED).await;
    let me: Value = platform
        .call(
            Method::GET,
            format!("{}/api/users/currentuser", platform.auth),
            &cookie,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me, json!({ "currentUser": null }));
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_the_user() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let email = format!("everywhere-{}@example.com", std::process::id());
    let first = platform.sign_up(&email).await;
    let second = session_cookie(&platform.sign_in(&email).await);
    let third = session_cookie(&platform.sign_in(&email).await);

    sign_out(&platform, &second, Some(json!({ "everywhere": true }))).await;

    for cookie in [&first, &second, &third] {
        all_refuse(&platform, cookie, StatusCode::UNAUTHORIZED).await;
    }
    let again = session_cookie(&platform.sign_in(&email).await);
    assert_eq!(
        answers(&platform, &again).await[0],
        StatusCode::OK,
        "a new session works"
    );
}

#[tokio::test]
async fn a_banned_user_is_suspended_everywhere_loses_unpaid_orders_and_listings_until_unbanned() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let run = std::process::id();
    let admin = platform.sign_up(ADMIN).await;
    let seller = platform.sign_up(&format!("seller-{run}@example.com")).await;
    let user_email = format!("abuser-{run}@example.com");
    let user = platform.sign_up(&user_email).await;
    let theirs = platform.list_ticket(&user, "Their ticket", 10.0).await;
    let wanted = platform.list_ticket(&seller, "Wanted", 10.0).await;
    let order = platform.order(&user, wanted["id"].as_str().unwrap()).await;
    let user_id = platform
        .call(
            Method::GET,
            format!("{}/api/users?email={user_email}", platform.auth),
            &admin,
            None,
        )
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let banned = platform
        .call(
            Method::POST,
            format!("{}/api/users/{user_id}/ban", platform.auth),
            &admin,
            Some(json!({ "reason": "abuse" })),
        )
        .await;
    assert_eq!(banned.status(), StatusCode::OK);
    assert_eq!(banned.json::<Value>().await.unwrap()["banned"], true);

    all_refuse(&platform, &user, StatusCode::FORBIDDEN).await;
    let suspended = answers(&platform, &user).await;
    assert_eq!(suspended, [StatusCode::FORBIDDEN; 3]);
    let signin = platform.sign_in(&user_email).await;
    assert_eq!(signin.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        signin.json::<Value>().await.unwrap()["errors"][0]["message"],
        "Account suspended"
    );
    // Their unpaid order ended, and the ticket it held is for sale again.
    platform
        .ticket_becomes(wanted["id"].as_str().unwrap(), "available")
        .await;
    assert_eq!(
        platform.order_status(order["id"].as_str().unwrap()).await,
        "cancelled"
    );
    let theirs_id = theirs["id"].as_str().unwrap();
    common::testing::eventually("their ticket to leave the listing", || async {
        let listed = platform.tickets_for_sale().await;
        (!listed.iter().any(|t| t["id"] == theirs_id)).then_some(())
    })
    .await;
    let buyer = platform.sign_up(&format!("buyer-{run}@example.com")).await;
    let refused = platform
        .call(
            Method::POST,
            format!("{}/api/orders", platform.orders),
            &buyer,
            Some(json!({ "ticketId": theirs_id })),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["errors"][0]["message"],
        "Ticket is not for sale"
    );

    let unbanned = platform
        .call(
            Method::DELETE,
            format!("{}/api/users/{user_id}/ban", platform.auth),
            &admin,
            None,
        )
        .await;
    assert_eq!(unbanned.json::<Value>().await.unwrap()["banned"], false);

    common::testing::eventually("their ticket back on sale", || async {
        platform
            .tickets_for_sale()
            .await
            .iter()
            .any(|t| t["id"] == theirs_id)
            .then_some(())
    })
    .await;
    let back = platform.sign_in(&user_email).await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(
        answers(&platform, &user).await[0],
        StatusCode::UNAUTHORIZED,
        "sessions from before the ban stay ended"
    );
}
