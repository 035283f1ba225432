//! Admins, bans, attempt limits and stale cookies, on the auth service.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, TestApp, settings, spawn_app, start};

async fn as_user(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    session: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.request(method, format!("{}{path}", app.address));
    if let Some(token) = session {
        request = request.header("cookie", format!("session={token}"));
    }
    request.send().await.unwrap()
}

async fn user_id(app: &TestApp, admin: &str, email: &str) -> String {
    let found: Vec<Value> = as_user(
        app,
        reqwest::Method::GET,
        &format!("/api/users?email={email}"),
        Some(admin),
    )
    .await
    .json()
    .await
    .unwrap();
    found[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_admins_reach_the_admin_routes_and_sessions_carry_the_role() {
    let app = spawn_app().await;
    let admin = app.signed_up(ADMIN).await;
    let user = app.signed_up("plain@example.com").await;
    assert_eq!(
        app.current_user(Some(&admin)).await["currentUser"]["role"],
        "admin"
    );
    assert_eq!(
        app.current_user(Some(&user)).await["currentUser"]["role"],
        "user"
    );
    let target = user_id(&app, &admin, "plain@example.com").await;

    for (method, path) in [
        (
            reqwest::Method::GET,
            "/api/users?email=plain@example.com".to_string(),
        ),
        (reqwest::Method::POST, format!("/api/users/{target}/ban")),
        (reqwest::Method::DELETE, format!("/api/users/{target}/ban")),
    ] {
        assert_eq!(
            as_user(&app, method.clone(), &path, Some(&user))
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{method} {path}"
        );
        assert_eq!(
            as_user(&app, method.clone(), &path, None).await.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    let found: Vec<Value> = as_user(
        &app,
        reqwest::Method::GET,
        "/api/users?email=PLAIN@example.com",
        Some(&admin),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        found,
        [json!({ "id": target, "email": "plain@example.com", "role": "user", "banned": false })]
    );
}

#[tokio::test]
async fn a_ban_refuses_sign_in_and_names_the_unknown_and_oneself() {
    let app = spawn_app().await;
    let admin = app.signed_up(ADMIN).await;
    app.signed_up("banned@example.com").await;
    let target = user_id(&app, &admin, "banned@example.com").await;
    let ban = async |id: String| {
        as_user(
            &app,
            reqwest::Method::POST,
            &format!("/api/users/{id}/ban"),
            Some(&admin),
        )
        .await
    };

    let banned: Value = ban(target.clone()).await.json().await.unwrap();
    assert_eq!(banned["banned"], true);
    let again = ban(target.clone()).await;
    assert_eq!(again.status(), StatusCode::OK, "banning twice is harmless");

    let refused = app.signin("banned@example.com", "password123").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["errors"][0]["message"],
        "Account suspended"
    );
    let me = user_id(&app, &admin, ADMIN).await;
    assert_eq!(ban(me).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        ban("507f1f77bcf86cd799439011".into()).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(ban("nope".into()).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_user_stored_before_bans_existed_can_be_banned() {
    let app = spawn_app().await;
    let admin = app.signed_up(ADMIN).await;
    app.signed_up("old@example.com").await;
    let users = app.database.collection::<mongodb::bson::Document>("users");
    users
        .update_one(
            mongodb::bson::doc! { "email": "old@example.com" },
            mongodb::bson::doc! { "$unset": { "banned": "", "version": "" } },
        )
        .await
        .unwrap();
    let target = user_id(&app, &admin, "old@example.com").await;

    let path = format!("/api/users/{target}/ban");
    let banned = as_user(&app, reqwest::Method::POST, &path, Some(&admin)).await;

    assert_eq!(banned.json::<Value>().await.unwrap()["banned"], true);
    let refused = app.signin("old@example.com", "password123").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_ban_keeps_its_reason_and_a_reason_too_long_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.signed_up(ADMIN).await;
    app.signed_up("spammer@example.com").await;
    let target = user_id(&app, &admin, "spammer@example.com").await;
    let ban = async |body: Value| {
        app.client
            .post(format!("{}/api/users/{target}/ban", app.address))
            .header("cookie", format!("session={admin}"))
            .json(&body)
            .send()
            .await
            .unwrap()
    };

    let refused = ban(json!({ "reason": "x".repeat(501) })).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "reason");
    let users = app.database.collection::<mongodb::bson::Document>("users");
    let record = |email: &'static str| {
        let users = users.clone();
        async move {
            users
                .find_one(mongodb::bson::doc! { "email": email })
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        record("spammer@example.com").await.get_bool("banned").ok(),
        Some(false)
    );

    assert_eq!(
        ban(json!({ "reason": " Spam " })).await.status(),
        StatusCode::OK
    );
    let banned = record("spammer@example.com").await;
    assert_eq!(banned.get_bool("banned").ok(), Some(true));
    assert_eq!(banned.get_str("banReason").ok(), Some("Spam"));
}

#[tokio::test]
async fn five_failed_sign_ins_lock_an_email_on_every_replica_the_right_password_included() {
    let first = spawn_app().await;
    let second = start(first.settings.clone()).await;
    first.signed_up("locked@example.com").await;

    for attempt in 0..5 {
        let app = if attempt % 2 == 0 { &first } else { &second };
        assert_eq!(
            app.signin("locked@example.com", "wrong-password")
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
    }

    for app in [&first, &second] {
        let locked = app.signin("locked@example.com", "password123").await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = locked.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((800..=900).contains(&wait), "{wait}");
        let body: Value = locked.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["message"],
            "Too many attempts, try again in 15 minutes"
        );
    }
    // An email nobody has is locked alike: the lock says nothing of who exists.
    for _ in 0..5 {
        second.signin("nobody@example.com", "wrong-password").await;
    }
    let unknown = first.signin("nobody@example.com", "wrong-password").await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn guesses_sent_all_at_once_to_two_replicas_get_five_tries_between_them() {
    let first = spawn_app().await;
    let second = start(first.settings.clone()).await;
    first.signed_up("guessed@example.com").await;

    let guesses = (0..20).map(|n| {
        let app = if n % 2 == 0 { &first } else { &second };
        async move {
            app.signin("guessed@example.com", "wrong-password")
                .await
                .status()
        }
    });
    let answers = futures::future::join_all(guesses).await;

    let tried = answers
        .iter()
        .filter(|s| **s == StatusCode::BAD_REQUEST)
        .count();
    assert!(tried <= 5, "{tried} guesses were checked: {answers:?}");
    let right = first.signin("guessed@example.com", "password123").await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS, "{answers:?}");
}

#[tokio::test]
async fn an_address_is_limited_across_replicas_and_other_addresses_are_not() {
    let mut limited = settings();
    limited.attempts_per_minute = 3;
    let first = start(limited.clone()).await;
    let second = start(first.settings.clone()).await;
    let attempt = |app: &TestApp, address: &'static str| {
        app.client
            .post(format!("{}/api/users/signin", app.address))
            .header("x-forwarded-for", address)
            .json(&json!({ "email": "someone@example.com", "password": "wrong-password" }))
            .send()
    };

    for app in [&first, &second, &first] {
        assert_eq!(
            attempt(app, "203.0.113.9").await.unwrap().status(),
            StatusCode::BAD_REQUEST
        );
    }
    let limited = attempt(&second, "203.0.113.9").await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        attempt(&first, "198.51.100.4").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited_and_the_refused_one_makes_no_user() {
    let mut limited = settings();
    limited.attempts_per_minute = 3;
    let app = start(limited).await;
    let sign_up = |n: u32| {
        app.client
            .post(format!("{}/api/users/signup", app.address))
            .header("x-forwarded-for", "203.0.113.20")
            .json(&json!({ "email": format!("crowd{n}@example.com"), "password": "password123" }))
            .send()
    };

    for n in 0..3 {
        assert_eq!(sign_up(n).await.unwrap().status(), StatusCode::CREATED);
    }
    let refused = sign_up(3).await.unwrap();

    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    assert_eq!(app.user_count().await, 3);
}

#[tokio::test]
async fn a_tampered_or_ended_cookie_is_cleared_by_the_answer() {
    let app = spawn_app().await;
    let session = app.signed_up("stale@example.com").await;
    let clears = |response: &reqwest::Response| {
        response.headers().get_all("set-cookie").iter().any(|v| {
            v.to_str().unwrap().starts_with("session=;")
                && v.to_str().unwrap().contains("Max-Age=0")
        })
    };

    let tampered = as_user(
        &app,
        reqwest::Method::GET,
        "/api/users/currentuser",
        Some(&format!("{session}x")),
    )
    .await;
    assert!(clears(&tampered), "a tampered cookie stays");
    let valid = as_user(
        &app,
        reqwest::Method::GET,
        "/api/users/currentuser",
        Some(&session),
    )
    .await;
    assert!(!clears(&valid), "a valid cookie is cleared");
    let signed_out = as_user(
        &app,
        reqwest::Method::POST,
        "/api/users/signout",
        Some(&session),
    )
    .await;
    assert_eq!(signed_out.status(), StatusCode::OK);
    let ended = common::testing::eventually("the session to end", || async {
        let response = as_user(
            &app,
            reqwest::Method::GET,
            "/api/users/currentuser",
            Some(&session),
        )
        .await;
        clears(&response).then_some(response)
    })
    .await;
    assert_eq!(
        ended.json::<Value>().await.unwrap(),
        json!({ "currentUser": null })
    );
}
