use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{errors, session_cookie, spawn_app};

#[tokio::test]
async fn a_valid_signup_creates_the_user_and_signs_in() {
    let app = spawn_app().await;

    let response = app.signup("Alice@Example.com", "password123").await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = session_cookie(&response).expect("session cookie set");
    assert!(
        cookie.attributes.contains("HttpOnly"),
        "{}",
        cookie.attributes
    );
    assert!(
        cookie.attributes.contains("Path=/"),
        "{}",
        cookie.attributes
    );
    assert!(
        cookie.attributes.contains("SameSite=Lax"),
        "{}",
        cookie.attributes
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "alice@example.com", "stored lower-cased");
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(body.get("password").is_none() && body.get("passwordHash").is_none());
    let me = app.current_user(Some(&cookie.value)).await;
    assert_eq!(me["currentUser"]["id"], body["id"]);
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({ "email": "not-an-email", "password": "password123" }),
            "email",
            "an invalid email",
        ),
        (
            json!({ "email": "a@example.com", "password": "1234567" }),
            "password",
            "a password of 7 characters",
        ),
        (
            json!({ "email": "a@example.com", "password": "p".repeat(129) }),
            "password",
            "a password of 129 characters",
        ),
        (
            json!({ "password": "password123" }),
            "email",
            "a missing email",
        ),
        (
            json!({ "email": "a@example.com" }),
            "password",
            "a missing password",
        ),
        (
            json!({ "email": 42, "password": "password123" }),
            "email",
            "an email of the wrong type",
        ),
    ];
    for (body, field, case) in cases {
        let response = app.post_json("/api/users/signup", &body).await;
        let errors = errors(response, StatusCode::BAD_REQUEST).await;
        assert!(
            errors.iter().any(|(_, f)| f.as_deref() == Some(field)),
            "{case}: expected an error on {field}, got {errors:?}"
        );
    }
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn malformed_json_is_a_400_in_the_error_shape() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            "/api/users/signup",
            r#"{"email": "a@example.com", "password": "#,
        )
        .await;

    let errors = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(errors[0].0, "Body is not valid JSON");
    assert_eq!(app.user_count().await, 0);
}

#[tokio::test]
async fn an_email_already_used_in_another_letter_case_is_refused() {
    let app = spawn_app().await;
    app.signed_up("bob@example.com").await;

    let response = app.signup("BOB@Example.COM", "another-password").await;

    let errors = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        errors,
        vec![("Email in use".to_string(), Some("email".to_string()))]
    );
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn concurrent_signups_with_one_email_create_one_user() {
    let app = spawn_app().await;

    let responses =
        futures::future::join_all((0..5).map(|_| app.signup("race@example.com", "password123")))
            .await;

    let created = responses
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn an_unknown_route_is_a_404_in_the_error_shape() {
    let app = spawn_app().await;

    let response = app
        .client
        .get(format!("{}/api/users/nope", app.address))
        .send()
        .await
        .unwrap();

    let errors = errors(response, StatusCode::NOT_FOUND).await;
    assert_eq!(errors[0].0, "Not found");
}
