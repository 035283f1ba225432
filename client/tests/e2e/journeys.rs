//! What people do on the site, end to end.

use std::time::Duration;

use crate::browser::Browser;
use system::{Platform, free_port};

/// Long enough to pay in a headless browser, short enough to wait for.
const WINDOW: Duration = Duration::from_secs(20);
pub(crate) const PASSWORD: &str = "password123";

pub(crate) async fn sign_up(browser: &Browser, email: &str) {
    browser.visit("/auth/signup").await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.sees("nav", "Sign out").await;
}

pub(crate) async fn sign_out(browser: &Browser) {
    browser.click("nav form button").await;
    browser.sees("nav", "Sign in").await;
}

/// Types a card into localstripe's stand-in for Stripe's card element.
async fn type_card(browser: &Browser, number: &str) {
    for (field, value) in [
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ] {
        browser
            .fill(&format!("#card-element input[placeholder={field}]"), value)
            .await;
    }
}

pub(crate) async fn sell(browser: &Browser, title: &str, price: &str) {
    browser.visit("/tickets/new").await;
    browser.fill("#title", title).await;
    browser.fill("#price", price).await;
    browser.click("main form button[type=submit]").await;
    browser.sees("h1", title).await;
}

#[tokio::test]
async fn people_sign_up_sell_buy_pay_and_see_an_unpaid_order_expire_in_a_real_browser() {
    let platform = Platform::start(WINDOW).await;
    let browser = Browser::open(&platform.url).await;
    let run = free_port();
    let (seller, buyer) = (
        format!("seller{run}@example.com"),
        format!("buyer{run}@example.com"),
    );
    let (concert, opera) = (format!("Concert {run}"), format!("Opera {run}"));

    // Signed out, the header offers to sign in or up.
    browser.visit("/").await;
    browser.sees("nav", "Sign up").await;
    browser.shoot("home-signed-out").await;

    // The API's errors appear beside the fields they name.
    browser.visit("/auth/signup").await;
    browser.shoot("sign-up").await;
    browser.fill("#email", "not-an-email").await;
    browser.fill("#password", "short").await;
    browser.click("main form button[type=submit]").await;
    browser.sees("#email-error", "Email").await;
    browser.sees("#password-error", "8").await;
    browser.shoot("sign-up-errors").await;

    // Sign up, sign out, a wrong password, then the right one.
    sign_up(&browser, &seller).await;
    browser.shoot("home-signed-in").await;
    browser.visit("/auth/signout").await;
    browser.shoot("sign-out").await;
    browser.click("main form button[type=submit]").await;
    browser.sees("nav", "Sign in").await;
    browser.visit("/auth/signin").await;
    browser.shoot("sign-in").await;
    browser.fill("#email", &seller).await;
    browser.fill("#password", "wrong-password").await;
    browser.click("main form button[type=submit]").await;
    browser.sees("main .alert", "Invalid credentials").await;
    browser.shoot("sign-in-error").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.sees("nav", "Sign out").await;

    // The seller lists two tickets.
    browser.visit("/tickets/new").await;
    browser.shoot("sell").await;
    sell(&browser, &concert, "25.50").await;
    browser.sees("main .price", "$25.50").await;
    browser.shoot("ticket-own").await;
    sell(&browser, &opera, "40").await;
    sign_out(&browser).await;

    // A second user buys the concert ticket and pays with the test card.
    sign_up(&browser, &buyer).await;
    browser.visit("/").await;
    browser.sees("main", &concert).await;
    browser.click_link(&concert).await;
    browser.sees("main form button", "Purchase").await;
    browser.shoot("ticket").await;
    browser.click("main form button").await;
    browser.sees("#order-status", "Awaiting payment").await;
    browser.sees("#countdown", ":").await;
    browser.sees("#card-element", "localstripe").await;
    browser.shoot("order").await;
    type_card(&browser, "4242424242424242").await;
    browser.click("#payment-form button").await;
    browser
        .reloads_until("#order-status", "Paid", Duration::from_secs(20))
        .await;
    browser.shoot("order-paid").await;

    // The ticket is gone from the home page; the order shows paid.
    browser.visit("/").await;
    browser
        .reloads_until("main", &opera, Duration::from_secs(10))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while browser.page_source().await.contains(&concert) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sold ticket is still listed"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        browser.visit("/").await;
    }
    browser.shoot("home-after-sale").await;
    browser.visit("/orders").await;
    browser.sees("main table", &concert).await;
    browser.sees("main table", "Paid").await;
    browser.shoot("orders").await;

    // An order left unpaid shows as expired after its window.
    browser.visit("/").await;
    browser.click_link(&opera).await;
    browser.click("main form button").await;
    browser.sees("#order-status", "Awaiting payment").await;
    let order_page = browser.path().await;
    browser
        .reloads_until("#order-status", "Expired", WINDOW + Duration::from_secs(20))
        .await;
    assert_eq!(browser.path().await, order_page);
    browser.shoot("order-expired").await;
    browser.visit("/orders").await;
    browser.sees("main table", "Expired").await;

    // Unknown pages answer in HTML.
    browser.visit("/no-such-page").await;
    browser.sees("h1", "Page not found").await;
    browser.shoot("not-found").await;

    browser.close().await;
}

#[tokio::test]
async fn a_buyer_whose_card_needs_3d_secure_confirms_it_in_the_browser_or_tries_again() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let browser = Browser::open(&platform.url).await;
    let run = free_port();
    let (seller, buyer) = (
        format!("seller{run}@example.com"),
        format!("buyer{run}@example.com"),
    );
    let (concert, opera) = (format!("Concert {run}"), format!("Opera {run}"));
    sign_up(&browser, &seller).await;
    sell(&browser, &concert, "30").await;
    sell(&browser, &opera, "45").await;
    sign_out(&browser).await;
    sign_up(&browser, &buyer).await;

    // The bank asks; the buyer confirms: the order is paid.
    browser.visit("/").await;
    browser.click_link(&concert).await;
    browser.click("main form button").await;
    browser.sees("#order-status", "Awaiting payment").await;
    type_card(&browser, "4000002500003155").await;
    browser.click("#payment-form button").await;
    browser.sees("main", "Your bank asks you to confirm").await;
    browser.shoot("order-3d-secure").await;
    browser.click_button("Complete authentication").await;
    browser
        .reloads_until("#order-status", "Paid", Duration::from_secs(30))
        .await;

    // The bank asks; the check fails: the form is offered again, and
    // another card pays.
    browser.visit("/").await;
    browser.click_link(&opera).await;
    browser.click("main form button").await;
    browser.sees("#order-status", "Awaiting payment").await;
    type_card(&browser, "4000002500003155").await;
    browser.click("#payment-form button").await;
    browser.click_button("Fail authentication").await;
    browser
        .sees("main div.alert", "Your bank did not confirm the payment")
        .await;
    browser.shoot("order-3d-secure-failed").await;
    type_card(&browser, "4242424242424242").await;
    browser.click("#payment-form button").await;
    browser
        .reloads_until("#order-status", "Paid", Duration::from_secs(30))
        .await;

    browser.close().await;
}
