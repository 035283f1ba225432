use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::session::Claims;
use common::testing::JWT_KEY;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn token(claims: &Claims, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

fn claims(exp_offset: i64) -> Claims {
    let now = jsonwebtoken::get_current_timestamp();
    Claims {
        id: "abc".into(),
        email: "x@example.com".into(),
        role: common::session::Role::User,
        sid: "s1".into(),
        iat: now - 120,
        iat_ms: (now - 120) * 1000,
        exp: now.saturating_add_signed(exp_offset),
    }
}

#[tokio::test]
async fn no_cookie_means_no_user() {
    let app = spawn_app().await;
    assert_eq!(app.current_user(None).await, json!({ "currentUser": null }));
}

#[tokio::test]
async fn a_valid_cookie_names_the_user() {
    let app = spawn_app().await;
    let session = app.signed_up("frank@example.com").await;

    let me = app.current_user(Some(&session)).await;

    assert_eq!(me["currentUser"]["email"], "frank@example.com");
    assert!(me["currentUser"]["id"].is_string());
}

#[tokio::test]
async fn a_token_we_did_not_accept_means_no_user() {
    let app = spawn_app().await;
    let valid = token(&claims(3600), JWT_KEY);
    let (header, rest) = valid.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_payload = URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&json!({
            "id": "admin", "email": "admin@example.com", "iat": 0, "exp": 4_000_000_000u64
        }))
        .unwrap(),
    );
    let unsigned_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let cases = [
        (token(&claims(-60), JWT_KEY), "an expired token"),
        (
            format!("{header}.{forged_payload}.{signature}"),
            "a tampered payload",
        ),
        (
            token(&claims(3600), "some-other-key"),
            "a token signed with another key",
        ),
        (
            format!("{unsigned_header}.{forged_payload}."),
            "an alg-none token",
        ),
        ("not-a-jwt".to_string(), "garbage"),
    ];
    for (session, case) in cases {
        let me: Value = app.current_user(Some(&session)).await;
        assert_eq!(me, json!({ "currentUser": null }), "{case} was accepted");
    }
}
