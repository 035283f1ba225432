use reqwest::StatusCode;

use crate::helpers::{Order, errors, spawn_app, user};

#[tokio::test]
async fn a_ticket_is_shown_to_anyone() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let ticket = app.listed(&cookie, "Concert", 12.5).await;

    let shown = app.ticket(ticket["id"].as_str().unwrap()).await;

    assert_eq!(shown, ticket);
    assert_eq!(shown["price"], 12.5);
}

#[tokio::test]
async fn an_unknown_or_malformed_ticket_id_is_404() {
    let app = spawn_app().await;
    for id in ["507f1f77bcf86cd799439011", "not-an-id", "1"] {
        let response = app.get(&format!("/api/tickets/{id}")).await;
        errors(response, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn the_list_holds_only_tickets_for_sale_newest_first() {
    let app = spawn_app().await;
    let (cookie, _) = user();
    let free = app.listed(&cookie, "Free", 10.0).await;
    let held = app.listed(&cookie, "Held", 10.0).await;
    let sold = app.listed(&cookie, "Sold", 10.0).await;
    let newest = app.listed(&cookie, "Newest", 10.0).await;
    let holding = Order::of(&held, 0);
    app.bus.publish(&holding.created()).await.unwrap();
    let buying = Order::of(&sold, 0);
    app.bus.publish(&buying.created()).await.unwrap();
    app.bus.publish(&buying.completed()).await.unwrap();
    app.at_version(held["id"].as_str().unwrap(), 1).await;
    app.at_version(sold["id"].as_str().unwrap(), 2).await;

    let titles: Vec<_> = app
        .for_sale()
        .await
        .into_iter()
        .map(|t| t["title"].clone())
        .collect();

    assert_eq!(titles, [newest["title"].clone(), free["title"].clone()]);
}
