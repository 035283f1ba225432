use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use system::Platform;

use crate::helpers::{Person, count};

/// A body that is not what the route wants, and what makes it wrong.
fn bodies(route: &str) -> Vec<(&'static str, String)> {
    let mut bodies = vec![
        ("malformed JSON", "{\"title\": ".to_string()),
        ("an array", "[1, 2, 3]".to_string()),
        (
            "only unknown fields",
            "{\"unknown\": true, \"nested\": {\"x\": 1}}".to_string(),
        ),
        (
            "a 10 MB body",
            format!("{{\"title\": \"{}\"}}", "x".repeat(10 * 1024 * 1024)),
        ),
    ];
    let typed: &[(&str, &str)] = match route {
        "/api/users/signup" | "/api/users/signin" => &[
            ("wrong types", r#"{"email": 5, "password": ["x"]}"#),
            (
                "a null email",
                r#"{"email": null, "password": "password123"}"#,
            ),
        ],
        "/api/tickets" | "/api/tickets/{id}" => &[
            (
                "a price that is a string",
                r#"{"title": "Concert", "price": "10"}"#,
            ),
            ("an absurd price", r#"{"title": "Concert", "price": 1e308}"#),
            ("a tiny price", r#"{"title": "Concert", "price": 1e-9}"#),
            (
                "a negative zero price",
                r#"{"title": "Concert", "price": -0.0}"#,
            ),
            (
                "a number too big for JSON",
                r#"{"title": "Concert", "price": 1e400}"#,
            ),
            ("a huge title", r#"{"title": "__HUGE__", "price": 10}"#),
        ],
        "/api/orders" => &[
            (
                "a ticket id that is a number",
                r#"{"ticketId": 12345678901234567890}"#,
            ),
            (
                "an invalid ticket id",
                r#"{"ticketId": "../../etc/passwd"}"#,
            ),
        ],
        "/api/payments" => &[
            (
                "an order id that is an object",
                r#"{"orderId": {"$gt": ""}, "token": "pm_card_visa"}"#,
            ),
            (
                "an invalid order id",
                r#"{"orderId": "zzz", "token": "pm_card_visa"}"#,
            ),
            (
                "an absurd token",
                r#"{"orderId": "507f1f77bcf86cd799439011", "token": "__HUGE__"}"#,
            ),
        ],
        _ => &[],
    };
    for (what, body) in typed {
        bodies.push((what, body.replace("__HUGE__", &"x".repeat(100_000))));
    }
    bodies
}

/// Asserts a 4xx in the platform's error shape.
async fn refused(response: reqwest::Response, what: &str) {
    let status = response.status();
    assert!(status.is_client_error(), "{what}: {status}");
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|_| panic!("{what}: not JSON"));
    assert!(body["errors"][0]["message"].is_string(), "{what}: {body}");
}

#[tokio::test]
async fn every_route_refuses_bad_input_in_the_error_shape_and_stores_nothing() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let person = Person::sign_up(&platform, "prober").await;
    let http = reqwest::Client::new();
    let session = person.session_cookie(&platform.url);
    let routes = [
        (Method::POST, "/api/users/signup"),
        (Method::POST, "/api/users/signin"),
        (Method::POST, "/api/tickets"),
        (Method::PUT, "/api/tickets/{id}"),
        (Method::POST, "/api/orders"),
        (Method::POST, "/api/payments"),
    ];
    let ids = [
        "507f1f77bcf86cd799439011",
        "not-an-id",
        "1e308",
        "-1",
        &"9".repeat(5000),
        // Refused by the proxy before any route, and resolved to no route.
        "%00",
        "%ZZ",
        "..%2F",
    ];
    // Every bad body on every route (with a well-formed id where there is
    // one), then every bad id with a good body.
    let mut requests: Vec<(Method, String, &str, String)> = Vec::new();
    for (method, route) in &routes {
        let path = route.replace("{id}", ids[0]);
        for (what, body) in bodies(route) {
            requests.push((method.clone(), path.clone(), what, body));
        }
    }
    for id in &ids[1..] {
        let good = r#"{"title": "Concert", "price": 10}"#.to_string();
        requests.push((
            Method::PUT,
            format!("/api/tickets/{id}"),
            "an invalid id",
            good,
        ));
    }
    for (method, path, what, body) in requests {
        let response = http
            .request(method.clone(), format!("{}{path}", platform.url))
            .header("cookie", &session)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        refused(response, &format!("{method} {path} with {what}")).await;
    }
    for id in ids {
        for (method, path) in [
            (Method::GET, format!("/api/tickets/{id}")),
            (Method::GET, format!("/api/orders/{id}")),
            (Method::DELETE, format!("/api/orders/{id}")),
        ] {
            let response = http
                .request(method.clone(), format!("{}{path}", platform.url))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            refused(response, &format!("{method} {path}")).await;
        }
    }

    assert_eq!(
        count(&platform, "auth", "users").await,
        1,
        "only the prober signed up"
    );
    for (service, collection) in [
        ("tickets", "tickets"),
        ("orders", "orders"),
        ("payments", "payments"),
    ] {
        assert_eq!(
            count(&platform, service, collection).await,
            0,
            "{service} stored nothing"
        );
    }
    // Every service still answers.
    assert_eq!(
        person.json("/api/users/currentuser").await["currentUser"]["id"],
        person.id.as_str()
    );
    assert_eq!(person.get("/api/tickets").await.status(), StatusCode::OK);
    assert_eq!(person.get("/api/orders").await.status(), StatusCode::OK);
    let response = person.post("/api/payments", &serde_json::json!({})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
