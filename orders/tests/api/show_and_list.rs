use reqwest::StatusCode;

use crate::helpers::{errors, spawn_app, user};

#[tokio::test]
async fn the_buyer_sees_only_their_orders_newest_first() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let (other, _) = user();
    let first = app.seeded_ticket().await;
    let second = app.seeded_ticket().await;
    let theirs = app.seeded_ticket().await;
    let older = app.ordered(&cookie, &first.id).await;
    let newer = app.ordered(&cookie, &second.id).await;
    app.ordered(&other, &theirs.id).await;

    let response = app.get(Some(&cookie), "/api/orders").await;

    assert_eq!(response.status(), StatusCode::OK);
    let orders: Vec<serde_json::Value> = response.json().await.unwrap();
    assert_eq!(orders, [newer, older]);
}

#[tokio::test]
async fn the_buyer_sees_an_order_of_theirs() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.seeded_ticket().await;
    let order = app.ordered(&cookie, &ticket.id).await;

    let shown = app.order(&cookie, order["id"].as_str().unwrap()).await;

    assert_eq!(shown, order);
}

#[tokio::test]
async fn someone_elses_unknown_or_malformed_order_is_404() {
    let app = spawn_app().await;
    let (buyer, _) = user();
    let (stranger, _) = user();
    let ticket = app.seeded_ticket().await;
    let order = app.ordered(&buyer, &ticket.id).await;
    let id = order["id"].as_str().unwrap();

    for path in [
        format!("/api/orders/{id}"),
        "/api/orders/507f1f77bcf86cd799439011".to_string(),
        "/api/orders/not-an-id".to_string(),
    ] {
        let response = app.get(Some(&stranger), &path).await;
        errors(response, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn orders_are_private_to_signed_in_users() {
    let app = spawn_app().await;
    for path in ["/api/orders", "/api/orders/507f1f77bcf86cd799439011"] {
        let response = app.get(None, path).await;
        errors(response, StatusCode::UNAUTHORIZED).await;
    }
}

#[tokio::test]
async fn a_buyer_s_orders_come_a_page_at_a_time_newest_first() {
    let app = spawn_app().await;
    let (buyer, _) = user();
    let mut placed = Vec::new();
    for _ in 0..5 {
        let ticket = app.seeded_ticket().await;
        placed.push(
            app.ordered(&buyer, &ticket.id).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }

    let first = app.get(Some(&buyer), "/api/orders?limit=3").await;
    let link = first.headers()["link"].to_str().unwrap().to_string();
    let next = link
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let first: Vec<serde_json::Value> = first.json().await.unwrap();
    let second = app.get(Some(&buyer), &next).await;
    assert!(second.headers().get("link").is_none(), "the last page");
    let second: Vec<serde_json::Value> = second.json().await.unwrap();

    let seen: Vec<String> = first
        .iter()
        .chain(&second)
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    placed.reverse();
    assert_eq!(seen, placed);
    let items = errors(
        app.get(Some(&buyer), "/api/orders?after=nope").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(items[0].1.as_deref(), Some("after"));
}
