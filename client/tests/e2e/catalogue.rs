//! Shopping the catalogue in a real browser: a listing with its details,
//! search, order, price and pages, the seller's listings and withdrawal,
//! and the code a paid buyer gets.

use std::time::Duration;

use serde_json::json;
use system::{Platform, free_port};

use crate::browser::Browser;

const PASSWORD: &str = "password123";

/// A seller signed up through the API, listing `count` tickets at once.
async fn seller_with_tickets(platform: &Platform, run: u16, count: usize) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_up = http
        .post(format!("{}/api/users/signup", platform.url))
        .json(&json!({ "email": format!("bulk{run}@example.com"), "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(signed_up.status().is_success());
    for i in 0..count {
        let listed = http
            .post(format!("{}/api/tickets", platform.url))
            .json(&json!({ "title": format!("Filler {i}"), "price": 40 + i, "venue": "Somewhere" }))
            .send()
            .await
            .unwrap();
        assert!(listed.status().is_success());
    }
}

async fn sign_up(browser: &Browser, email: &str) {
    browser.visit("/auth/signup").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.sees("nav", "Sign out").await;
}

#[tokio::test]
async fn people_list_with_details_search_page_withdraw_and_the_buyer_gets_the_code() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let run = free_port();
    seller_with_tickets(&platform, run, 22).await;
    let browser = Browser::open(&platform.url).await;
    let (seller, buyer) = (
        format!("seller{run}@example.com"),
        format!("buyer{run}@example.com"),
    );
    let gig = format!("Blue Moon {run}");

    // The seller lists a ticket with every detail, and a second one.
    sign_up(&browser, &seller).await;
    browser.visit("/tickets/new").await;
    browser.fill("#title", &gig).await;
    browser.fill("#price", "19.99").await;
    browser.fill("#venue", "The Old Hall").await;
    browser.set_value("#startsAt", "2031-05-01T20:00").await;
    browser.fill("#description", "Doors at seven.").await;
    browser.fill("#code", "DOOR-4711").await;
    browser.shoot("sell-with-details").await;
    browser.click("main form button[type=submit]").await;
    browser.sees("h1", &gig).await;
    browser.sees("main .facts", "The Old Hall").await;
    browser.sees("main .facts", "1 May 2031").await;
    browser.sees("#ticket-code", "DOOR-4711").await;
    browser.shoot("ticket-with-details").await;
    browser.visit("/tickets/new").await;
    browser.fill("#title", &format!("Spare {run}")).await;
    browser.fill("#price", "5").await;
    browser.click("main form button[type=submit]").await;
    browser.sees("h1", "Spare").await;

    // A bad price is refused in our words.
    browser.visit("/tickets/new").await;
    browser.fill("#title", "Broken").await;
    browser.fill("#price", "NaN").await;
    browser.click("main form button[type=submit]").await;
    browser.sees("#price-error", "Price must be a number").await;

    // Its listings: the spare one is withdrawn.
    browser.visit("/tickets/mine").await;
    browser.sees("main table", &gig).await;
    browser
        .click(&format!("button[aria-label='Withdraw Spare {run}']"))
        .await;
    browser.sees("main table", "Withdrawn").await;
    browser.shoot("my-listings").await;
    browser.click("nav form button").await;

    // A shopper searches, orders by price, filters, and pages.
    sign_up(&browser, &buyer).await;
    browser.visit("/").await;
    browser.shoot("home-catalogue").await;
    browser.click_link("Next →").await;
    browser.sees("main .pager", "Previous").await;
    browser.shoot("home-page-2").await;
    browser.click_link("← Previous").await;
    browser.sees("main", "Filler 21").await;
    browser.fill("#q", &format!("moon {run}")).await;
    browser.click("form.search button").await;
    browser.sees("main .tickets", &gig).await;
    assert!(
        !browser.page_source().await.contains("Filler"),
        "the search kept other tickets"
    );
    browser.shoot("home-search").await;
    browser.visit("/").await;
    browser.select("#sort", "price").await;
    browser.fill("#maxPrice", "20").await;
    browser.click("form.search button").await;
    browser.sees("main .tickets li:first-child", &gig).await;
    assert!(
        !browser
            .page_source()
            .await
            .contains(&format!("Spare {run}")),
        "a withdrawn ticket was listed"
    );
    browser.shoot("home-filtered").await;

    // The buyer pays, and the paid order shows the code.
    browser.click_link(&gig).await;
    browser.click("main form button").await;
    browser.sees("#order-status", "Awaiting payment").await;
    for (field, value) in [
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ] {
        browser
            .fill(&format!("#card-element input[placeholder={field}]"), value)
            .await;
    }
    browser.click("#payment-form button").await;
    browser
        .reloads_until("#ticket-code", "DOOR-4711", Duration::from_secs(30))
        .await;
    browser.shoot("order-paid-with-code").await;

    // Every page's footer leads to the API reference, made from openapi.json.
    browser.click_link("API reference").await;
    browser.sees("h1", "API reference").await;
    browser
        .sees("#createPayment h3", "POST /api/payments")
        .await;
    browser.shoot("api-reference").await;

    browser.close().await;
}
