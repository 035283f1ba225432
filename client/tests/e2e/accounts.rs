//! Accounts that can be defended, in the browser: forms another site sends
//! are refused, an admin bans a user, and people are told why they cannot
//! go on.

use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use system::{Platform, Profile, free_port};

use crate::browser::Browser;
use crate::journeys::{PASSWORD, sell, sign_out, sign_up};

async fn sign_in(browser: &Browser, email: &str, password: &str) {
    browser.visit("/auth/signin").await;
    browser.fill("#email", email).await;
    browser.fill("#password", password).await;
    browser.click("main form button[type=submit]").await;
}

/// Another site, on another origin, whose page posts forms to the
/// platform: signing the visitor in as the attacker, or selling as them.
async fn attacker_site(platform: &str, attacker: &str) -> String {
    let page = format!(
        r#"<!doctype html><title>Win a prize</title>
        <form id="signin" method="post" action="{platform}/auth/signin">
          <input type="hidden" name="email" value="{attacker}">
          <input type="hidden" name="password" value="{PASSWORD}">
          <input type="hidden" name="csrf" value="guessed">
          <button id="claim">Claim your prize</button>
        </form>
        <form id="sell" method="post" action="{platform}/tickets/new">
          <input type="hidden" name="title" value="Forged listing">
          <input type="hidden" name="price" value="1">
          <button id="sell-it">Claim another prize</button>
        </form>"#
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = Router::new().route("/", get(move || async move { Html(page) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/")
}

#[tokio::test]
async fn a_forged_post_from_another_site_is_refused_and_a_banned_user_is_told_so() {
    let run = free_port();
    let (victim, attacker, admin) = (
        format!("victim{run}@example.com"),
        format!("attacker{run}@example.com"),
        format!("admin{run}@example.com"),
    );
    let platform = Platform::launch_with(
        Duration::from_secs(900),
        Profile::Debug,
        &[("ADMIN_EMAILS", admin.as_str())],
    )
    .await;
    let browser = Browser::open(&platform.url).await;
    sign_up(&browser, &attacker).await;
    sign_out(&browser).await;
    sign_up(&browser, &victim).await;
    let listing = format!("Front row {run}");
    sell(&browser, &listing, "20").await;

    // Another site's forms reach the platform without a token of ours:
    // refused, and the browser is still the victim's.
    let site = attacker_site(&platform.url, &attacker).await;
    browser.visit_elsewhere(&site).await;
    browser.click("#claim").await;
    browser.sees("h1", "Form refused").await;
    browser.shoot("form-refused").await;
    browser.visit_elsewhere(&site).await;
    browser.click("#sell-it").await;
    browser.sees("h1", "Form refused").await;
    browser.visit("/tickets/mine").await;
    browser.sees("main table", &listing).await;
    let source = browser.page_source().await;
    assert!(
        source.contains(&format!("Signed in as {victim}")),
        "{source}"
    );
    assert!(
        !source.contains("Forged listing"),
        "a forged form sold a ticket"
    );

    // Only admins reach the admin page.
    browser.visit("/admin/users").await;
    browser.sees("h1", "Not allowed").await;
    browser.visit("/").await;
    sign_out(&browser).await;

    // The admin finds the victim by email and bans them.
    sign_up(&browser, &admin).await;
    browser.click_link("Users").await;
    browser.fill("#email", &victim).await;
    browser.click("main form.search button").await;
    browser.sees("main table", "Active").await;
    browser.fill("main table input[name=reason]", "Spam").await;
    browser
        .click(&format!("button[aria-label='Ban {victim}']"))
        .await;
    browser.sees("main table", "Banned").await;
    browser.shoot("admin-users").await;
    sign_out(&browser).await;

    // The banned user's listing is gone, and signing in says why.
    browser.visit("/").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while browser.page_source().await.contains(&listing) {
        assert!(tokio::time::Instant::now() < deadline, "the listing stayed");
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.visit("/").await;
    }
    sign_in(&browser, &victim, PASSWORD).await;
    browser.sees("main .alert", "Account suspended").await;
    browser.shoot("account-suspended").await;

    // Five wrong passwords lock the attacker's email out, in minutes.
    for _ in 0..5 {
        sign_in(&browser, &attacker, "wrong-password").await;
        browser.sees("main .alert", "Invalid credentials").await;
    }
    sign_in(&browser, &attacker, PASSWORD).await;
    browser
        .sees("main .alert", "Too many attempts, try again in 15 minutes")
        .await;
    browser.shoot("too-many-attempts").await;

    browser.close().await;
}
