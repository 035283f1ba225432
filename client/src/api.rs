//! The services' APIs as the client calls them: every call carries the
//! browser's session cookie, and the `Set-Cookie` headers of the answer are
//! kept to be passed back to the browser.

use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use common::ErrorItem;
use common::error::ErrorBody;
use common::events::OrderStatus;
use common::session::SessionUser;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A ticket as the tickets API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub title: String,
    pub price: f64,
    pub user_id: String,
    pub status: String,
}

/// An order as the orders API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub status: OrderStatus,
    pub expires_at: DateTime<Utc>,
    pub ticket: OrderedTicket,
    #[serde(default)]
    pub refunded: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderedTicket {
    pub id: String,
    pub title: String,
    pub price: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CurrentUser {
    current_user: Option<SessionUser>,
}

/// Why a call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The API refused the request in the platform's error shape: the
    /// errors are for the person at the browser.
    #[error("refused with {status}")]
    Refused {
        status: StatusCode,
        errors: Vec<ErrorItem>,
    },
    /// Anything else: an API down, or an answer we cannot read.
    #[error(transparent)]
    Broken(#[from] anyhow::Error),
}

/// A successful answer and the cookies it sets.
pub struct Reply<T> {
    pub body: T,
    pub set_cookies: Vec<HeaderValue>,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// The browser's `session` cookie, as a `Cookie` header value.
pub type Session<'a> = Option<&'a str>;

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: base.to_string(),
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        session: Session<'_>,
        body: Option<Value>,
    ) -> Result<Reply<T>, Failure> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(cookie) = session {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|err| anyhow::Error::new(err).context(format!("{method} {path} failed")))?;
        let status = response.status();
        let set_cookies = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| HeaderValue::from_bytes(value.as_bytes()).ok())
            .collect();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| anyhow::Error::new(err).context(format!("{method} {path}: body")))?;
        if status.is_client_error() {
            let errors = serde_json::from_slice::<ErrorBody>(&bytes)
                .map(|body| body.errors)
                .unwrap_or_else(|_| vec![ErrorItem::new("The request was refused")]);
            return Err(Failure::Refused { status, errors });
        }
        if !status.is_success() {
            return Err(anyhow::anyhow!("{method} {path} answered {status}").into());
        }
        // A 204 has no body; read it as JSON null.
        let bytes = if bytes.is_empty() {
            "null".into()
        } else {
            bytes
        };
        let body = serde_json::from_slice(&bytes).map_err(|err| {
            anyhow::Error::new(err).context(format!("{method} {path}: unreadable answer"))
        })?;
        Ok(Reply { body, set_cookies })
    }

    pub async fn current_user(&self, session: Session<'_>) -> Result<Option<SessionUser>, Failure> {
        if session.is_none() {
            return Ok(None);
        }
        let reply: Reply<CurrentUser> = self
            .call(Method::GET, "/api/users/currentuser", session, None)
            .await?;
        Ok(reply.body.current_user)
    }

    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Reply<SessionUser>, Failure> {
        let body = json!({ "email": email, "password": password });
        self.call(Method::POST, "/api/users/signup", None, Some(body))
            .await
    }

    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
    ) -> Result<Reply<SessionUser>, Failure> {
        let body = json!({ "email": email, "password": password });
        self.call(Method::POST, "/api/users/signin", None, Some(body))
            .await
    }

    pub async fn sign_out(&self, session: Session<'_>) -> Result<Reply<Value>, Failure> {
        self.call(Method::POST, "/api/users/signout", session, None)
            .await
    }

    pub async fn tickets_for_sale(&self) -> Result<Vec<Ticket>, Failure> {
        Ok(self
            .call(Method::GET, "/api/tickets", None, None)
            .await?
            .body)
    }

    /// A ticket, or `None` if there is no such ticket.
    pub async fn ticket(&self, id: &str) -> Result<Option<Ticket>, Failure> {
        found(
            self.call(Method::GET, &format!("/api/tickets/{id}"), None, None)
                .await,
        )
    }

    pub async fn sell(
        &self,
        session: Session<'_>,
        title: &str,
        price: f64,
    ) -> Result<Ticket, Failure> {
        let body = json!({ "title": title, "price": price });
        Ok(self
            .call(Method::POST, "/api/tickets", session, Some(body))
            .await?
            .body)
    }

    pub async fn order_ticket(
        &self,
        session: Session<'_>,
        ticket_id: &str,
    ) -> Result<Order, Failure> {
        let body = json!({ "ticketId": ticket_id });
        Ok(self
            .call(Method::POST, "/api/orders", session, Some(body))
            .await?
            .body)
    }

    pub async fn orders(&self, session: Session<'_>) -> Result<Vec<Order>, Failure> {
        Ok(self
            .call(Method::GET, "/api/orders", session, None)
            .await?
            .body)
    }

    pub async fn order(&self, session: Session<'_>, id: &str) -> Result<Option<Order>, Failure> {
        found(
            self.call(Method::GET, &format!("/api/orders/{id}"), session, None)
                .await,
        )
    }

    pub async fn pay(
        &self,
        session: Session<'_>,
        order_id: &str,
        token: &str,
    ) -> Result<(), Failure> {
        let body = json!({ "orderId": order_id, "token": token });
        let _: Reply<Value> = self
            .call(Method::POST, "/api/payments", session, Some(body))
            .await?;
        Ok(())
    }
}

/// A 404 is "nothing there", not a failure.
fn found<T>(reply: Result<Reply<T>, Failure>) -> Result<Option<T>, Failure> {
    match reply {
        Ok(reply) => Ok(Some(reply.body)),
        Err(Failure::Refused { status, .. }) if status == StatusCode::NOT_FOUND => Ok(None),
        Err(failure) => Err(failure),
    }
}
