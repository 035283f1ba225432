use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{session_cookie, spawn_app};

#[tokio::test]
async fn signout_clears_the_cookie() {
    let app = spawn_app().await;
    let token = app.signed_up("erin@example.com").await;

    let response = app
        .client
        .post(format!("{}/api/users/signout", app.address))
        .header("cookie", format!("session={token}"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).expect("signout sets the cookie");
    assert_eq!(cookie.value, "");
    assert!(
        cookie.attributes.contains("Max-Age=0"),
        "{}",
        cookie.attributes
    );
    assert!(
        cookie.attributes.contains("Path=/"),
        "{}",
        cookie.attributes
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({}));
}
