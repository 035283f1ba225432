//! The API contract through the proxy: the document served as committed,
//! its reference page, and every refusal in the error shape, whether a
//! service or the proxy itself makes it (the cases schemathesis and the
//! issue found), with no server version given away.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use system::Platform;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::Person;

/// A request written as is (reqwest would percent-encode what we send
/// raw): its status, the `Server` header and the body.
async fn raw(platform: &Platform, request_line: &str, extra_header: &str) -> (u16, String, String) {
    let address = platform.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("{request_line}\r\nHost: x\r\n{extra_header}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let server = head
        .lines()
        .find_map(|line| line.strip_prefix("Server: "))
        .unwrap_or_default()
        .to_string();
    (status, server, body.to_string())
}

fn message(body: &str, what: &str) -> String {
    let body: Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body}"));
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not the error shape: {body}"))
        .to_string()
}

#[tokio::test]
async fn the_contract_is_served_and_every_refusal_is_in_the_error_shape_without_a_version() {
    let platform = Platform::start(Duration::from_secs(900)).await;
    let long = "a".repeat(9000);
    let cases = [
        ("TRACE / HTTP/1.1", String::new(), 405, "Method not allowed"),
        (
            "PATCH /api/tickets HTTP/1.1",
            String::new(),
            405,
            "Method not allowed",
        ),
        (
            "PUT /api/users/currentuser HTTP/1.1",
            String::new(),
            405,
            "Method not allowed",
        ),
        (
            r#"GET /api/tickets?q="<b> HTTP/1.1"#,
            String::new(),
            400,
            "The address has characters that must be percent-encoded",
        ),
        (
            &*format!("GET /api/tickets/{long} HTTP/1.1"),
            String::new(),
            414,
            "The address is too long",
        ),
        (
            "GET /api/tickets HTTP/1.1",
            format!("X-Padding: {long}\r\n"),
            431,
            "The request headers are too large",
        ),
    ];
    for (line, header, status, expected) in cases {
        let (got, server, body) = raw(&platform, line, &header).await;
        let what = &line[..line.len().min(40)];
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(message(&body, what), expected, "{what}");
        assert_eq!(server, "nginx", "{what}: the proxy names no version");
    }

    // A service's own routes, asked directly, answer 405 in the shape too.
    let http = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let url = format!("http://127.0.0.1:{}{path}", platform.port("tickets"));
        let response = http.post(url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(
            message(&response.text().await.unwrap(), path),
            "Method not allowed"
        );
    }

    // A body that is not an object, or a field of the wrong type, in our words.
    let person = Person::sign_up(&platform, "contract").await;
    for (body, expected) in [
        ("[1]", "Body must be a JSON object"),
        (r#"{"title": 5, "price": 1}"#, "title must be a string"),
        (
            r#"{"title": "Gig", "price": "ten"}"#,
            "price must be a number",
        ),
    ] {
        let response = http
            .request(Method::POST, format!("{}/api/tickets", platform.url))
            .header("cookie", person.session_cookie(&platform.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(message(&response.text().await.unwrap(), body), expected);
    }

    // The document as committed, and the reference page made from it.
    let committed = std::fs::read_to_string(system::workspace_root().join("openapi.json")).unwrap();
    let served = http
        .get(format!("{}/api/openapi.json", platform.url))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "application/json");
    assert_eq!(served.text().await.unwrap(), committed);
    let reference = http
        .get(format!("{}/docs/api", platform.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        reference.contains("<code>POST /api/payments</code>"),
        "{reference}"
    );
}
