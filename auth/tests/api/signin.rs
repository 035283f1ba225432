use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{errors, session_cookie, spawn_app};

#[tokio::test]
async fn the_right_password_signs_in_and_sets_the_cookie() {
    let app = spawn_app().await;
    app.signed_up("carol@example.com").await;

    let response = app.signin("Carol@example.com", "password123").await;

    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).expect("session cookie set");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "carol@example.com");
    let me = app.current_user(Some(&cookie.value)).await;
    assert_eq!(me["currentUser"]["email"], "carol@example.com");
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.signed_up("dave@example.com").await;

    let unknown = app.signin("nobody@example.com", "password123").await;
    assert!(session_cookie(&unknown).is_none());
    let unknown = errors(unknown, StatusCode::BAD_REQUEST).await;
    let wrong = app.signin("dave@example.com", "wrong-password").await;
    assert!(session_cookie(&wrong).is_none());
    let wrong = errors(wrong, StatusCode::BAD_REQUEST).await;

    assert_eq!(unknown, vec![("Invalid credentials".to_string(), None)]);
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn a_missing_password_is_named() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            "/api/users/signin",
            &serde_json::json!({ "email": "e@example.com" }),
        )
        .await;

    let errors = errors(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(errors[0].1.as_deref(), Some("password"));
}
