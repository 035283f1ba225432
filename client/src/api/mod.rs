//! The services' APIs as the client calls them: every call carries the
//! browser's session cookie and address, and the `Set-Cookie` headers of
//! the answer are passed back to the browser with the page (an API that
//! clears a stale session cookie clears it in the browser too).

mod models;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::Response;
use common::ErrorItem;
use common::error::ErrorBody;
use common::session::SessionUser;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use models::listing_body;
pub use models::{ListingForm, Order, OrderedTicket, Payment, Shelf, Ticket, UserRecord};

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

tokio::task_local! {
    /// The `Set-Cookie`s the APIs answered while one page was made.
    static PASSED_BACK: std::cell::RefCell<Vec<HeaderValue>>;
}

/// A layer's function: every `Set-Cookie` the APIs answered while the page
/// was made goes to the browser with it, once.
pub async fn pass_cookies_back(request: Request, next: Next) -> Response {
    let made = async {
        let response = next.run(request).await;
        (PASSED_BACK.with(|kept| kept.take()), response)
    };
    let (cookies, mut response) = PASSED_BACK.scope(Default::default(), made).await;
    for cookie in cookies {
        let headers = response.headers_mut();
        if !headers.get_all(SET_COOKIE).iter().any(|set| *set == cookie) {
            headers.append(SET_COOKIE, cookie);
        }
    }
    response
}

/// A successful answer, the cookies it sets, and the next page's cursor.
pub struct Reply<T> {
    pub body: T,
    pub set_cookies: Vec<HeaderValue>,
    pub next: Option<String>,
}

/// The `after` of a `Link: <...>; rel="next"` header.
fn next_cursor(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get(reqwest::header::LINK)?.to_str().ok()?;
    let target = link
        .split(';')
        .next()?
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    let query = target.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "after")
        .map(|(_, cursor)| cursor)
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// Who a call is made for: the browser's `session` cookie, as a `Cookie`
/// header value, and the `X-Forwarded-For` the proxy gave its request, so
/// that the APIs see the browser's address rather than the client's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session<'a> {
    pub cookie: Option<&'a str>,
    pub forwarded_for: Option<&'a str>,
}

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
        if let Some(cookie) = session.cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        if let Some(traceparent) = common::telemetry::traceparent() {
            request = request.header(common::telemetry::TRACEPARENT, traceparent);
        }
        if let Some(forwarded_for) = session.forwarded_for {
            request = request.header("x-forwarded-for", forwarded_for);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|err| anyhow::Error::new(err).context(format!("{method} {path} failed")))?;
        let status = response.status();
        let set_cookies: Vec<HeaderValue> = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|value| HeaderValue::from_bytes(value.as_bytes()).ok())
            .collect();
        // Outside a page (no scope) there is no browser to pass them to.
        let _ = PASSED_BACK.try_with(|kept| kept.borrow_mut().extend(set_cookies.iter().cloned()));
        let next = next_cursor(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|err| anyhow::Error::new(err).context(format!("{method} {path}: body")))?;
        let errors = serde_json::from_slice::<ErrorBody>(&bytes).map(|body| body.errors);
        if status.is_client_error() {
            let errors = errors.unwrap_or_else(|_| vec![ErrorItem::new("The request was refused")]);
            return Err(Failure::Refused { status, errors });
        }
        // A service too busy says so in the error shape: people are told.
        if let (StatusCode::SERVICE_UNAVAILABLE, Ok(errors)) = (status, errors) {
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
        Ok(Reply {
            body,
            set_cookies,
            next,
        })
    }

    pub async fn current_user(&self, session: Session<'_>) -> Result<Option<SessionUser>, Failure> {
        if session.cookie.is_none() {
            return Ok(None);
        }
        let reply: Reply<CurrentUser> = self
            .call(Method::GET, "/api/users/currentuser", session, None)
            .await?;
        Ok(reply.body.current_user)
    }

    /// Signs up (`path` `signup`) or in (`signin`), without the browser's
    /// old session.
    pub async fn credentials(
        &self,
        session: Session<'_>,
        path: &str,
        email: &str,
        password: &str,
    ) -> Result<Reply<SessionUser>, Failure> {
        let body = json!({ "email": email, "password": password });
        let session = Session {
            cookie: None,
            ..session
        };
        self.call(
            Method::POST,
            &format!("/api/users/{path}"),
            session,
            Some(body),
        )
        .await
    }

    /// Ends this session, or every session of its user.
    pub async fn sign_out(
        &self,
        session: Session<'_>,
        everywhere: bool,
    ) -> Result<Reply<Value>, Failure> {
        let body = json!({ "everywhere": everywhere });
        self.call(Method::POST, "/api/users/signout", session, Some(body))
            .await
    }

    /// The users with this email (an admin's search).
    pub async fn users(
        &self,
        session: Session<'_>,
        email: &str,
    ) -> Result<Vec<UserRecord>, Failure> {
        let query = serde_urlencoded::to_string([("email", email)]).map_err(anyhow::Error::new)?;
        Ok(self
            .call(Method::GET, &format!("/api/users?{query}"), session, None)
            .await?
            .body)
    }

    /// Bans (`reason` given) or unbans a user.
    pub async fn ban(
        &self,
        session: Session<'_>,
        id: &str,
        reason: Option<&str>,
    ) -> Result<UserRecord, Failure> {
        let path = format!("/api/users/{id}/ban");
        let reply = match reason {
            Some(reason) => {
                let body = json!({ "reason": reason });
                self.call(Method::POST, &path, session, Some(body)).await?
            }
            None => self.call(Method::DELETE, &path, session, None).await?,
        };
        Ok(reply.body)
    }

    /// A page of the tickets for sale; `query` is the listing's parameters.
    pub async fn tickets_for_sale(&self, query: &[(&str, &str)]) -> Result<Shelf<Ticket>, Failure> {
        let query = serde_urlencoded::to_string(query).map_err(anyhow::Error::new)?;
        let reply = self
            .call(
                Method::GET,
                &format!("/api/tickets?{query}"),
                Session::default(),
                None,
            )
            .await?;
        Ok(Shelf {
            items: reply.body,
            next: reply.next,
        })
    }

    /// A page of the signed-in seller's own tickets.
    pub async fn my_tickets(
        &self,
        session: Session<'_>,
        after: Option<&str>,
    ) -> Result<Shelf<Ticket>, Failure> {
        let query = serde_urlencoded::to_string([("after", after)]).map_err(anyhow::Error::new)?;
        let reply = self
            .call(
                Method::GET,
                &format!("/api/tickets/mine?{query}"),
                session,
                None,
            )
            .await?;
        Ok(Shelf {
            items: reply.body,
            next: reply.next,
        })
    }

    /// A ticket as the browser's user may see it, or `None` if there is no such ticket.
    pub async fn ticket(&self, session: Session<'_>, id: &str) -> Result<Option<Ticket>, Failure> {
        found(
            self.call(Method::GET, &format!("/api/tickets/{id}"), session, None)
                .await,
        )
    }

    /// Lists a ticket (`id` none) or rewrites one.
    pub async fn save_listing(
        &self,
        session: Session<'_>,
        id: Option<&str>,
        form: &ListingForm,
    ) -> Result<Ticket, Failure> {
        let body = listing_body(form)?;
        let (method, path) = match id {
            None => (Method::POST, "/api/tickets".to_string()),
            Some(id) => (Method::PUT, format!("/api/tickets/{id}")),
        };
        Ok(self.call(method, &path, session, Some(body)).await?.body)
    }

    pub async fn withdraw(&self, session: Session<'_>, id: &str) -> Result<(), Failure> {
        let _: Reply<Value> = self
            .call(Method::DELETE, &format!("/api/tickets/{id}"), session, None)
            .await?;
        Ok(())
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

    pub async fn orders(
        &self,
        session: Session<'_>,
        after: Option<&str>,
    ) -> Result<Shelf<Order>, Failure> {
        let query = serde_urlencoded::to_string([("after", after)]).map_err(anyhow::Error::new)?;
        let reply = self
            .call(Method::GET, &format!("/api/orders?{query}"), session, None)
            .await?;
        Ok(Shelf {
            items: reply.body,
            next: reply.next,
        })
    }

    pub async fn order(&self, session: Session<'_>, id: &str) -> Result<Option<Order>, Failure> {
        found(
            self.call(Method::GET, &format!("/api/orders/{id}"), session, None)
                .await,
        )
    }

    /// Pays the order with the card `token`: paid, or waiting for the
    /// buyer's 3-D Secure check or for Stripe.
    pub async fn pay(
        &self,
        session: Session<'_>,
        order_id: &str,
        token: &str,
    ) -> Result<Payment, Failure> {
        let body = json!({ "orderId": order_id, "token": token });
        let reply: Reply<Payment> = self
            .call(Method::POST, "/api/payments", session, Some(body))
            .await?;
        Ok(reply.body)
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
