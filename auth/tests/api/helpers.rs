//! Starts the auth service in-process on port 0 with a fresh database, and
//! speaks to it with typed helpers.

use auth::config::Settings;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: mongodb::Database,
    pub settings: Settings,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The production settings, with `ADMIN_EMAILS` naming `admin@example.com`.
pub fn settings() -> Settings {
    Settings {
        service: common::testing::service_settings("auth"),
        bus: common::testing::bus_settings(),
        admin_emails: vec![ADMIN.to_string()],
        attempts_per_minute: 60,
    }
}

/// The admin `settings` names.
pub const ADMIN: &str = "admin@example.com";

pub async fn spawn_app() -> TestApp {
    start(settings()).await
}

/// One instance of the service with `settings`.
pub async fn start(settings: Settings) -> TestApp {
    let shutdown = CancellationToken::new();
    let app = auth::startup::build(&settings, shutdown.clone())
        .await
        .expect("the service builds");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    let (_, database) =
        common::mongo::connect(&settings.service.mongo_uri, &settings.service.mongo_db)
            .await
            .expect("database");
    TestApp {
        address,
        client: reqwest::Client::new(),
        database,
        settings,
        shutdown,
    }
}

impl TestApp {
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn signup(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/users/signup",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/users/signin",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Signs a new user up and returns the session cookie's value.
    pub async fn signed_up(&self, email: &str) -> String {
        let response = self.signup(email, "password123").await;
        assert_eq!(response.status(), StatusCode::CREATED);
        session_cookie(&response)
            .expect("signup sets the session cookie")
            .value
    }

    pub async fn current_user(&self, session: Option<&str>) -> Value {
        let mut request = self
            .client
            .get(format!("{}/api/users/currentuser", self.address));
        if let Some(token) = session {
            request = request.header("cookie", format!("session={token}"));
        }
        let response = request.send().await.expect("request sent");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json body")
    }

    pub async fn user_count(&self) -> u64 {
        self.database
            .collection::<mongodb::bson::Document>("users")
            .count_documents(mongodb::bson::doc! {})
            .await
            .unwrap()
    }
}

/// The `session` cookie a response sets, with its attributes.
pub struct SetCookie {
    pub value: String,
    pub attributes: String,
}

pub fn session_cookie(response: &Response) -> Option<SetCookie> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|header| {
            let header = header.to_str().ok()?;
            let rest = header.strip_prefix("session=")?;
            let (value, attributes) = rest.split_once(';').unwrap_or((rest, ""));
            Some(SetCookie {
                value: value.to_string(),
                attributes: attributes.to_string(),
            })
        })
}

pub use common::testing::error_items as errors;
