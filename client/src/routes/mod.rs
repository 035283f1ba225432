//! The client's pages, one file per part of the site, and what they share:
//! the browser's session, redirects that carry the APIs' cookies, and error
//! pages.

mod admin;
mod auth;
mod home;
mod orders;
mod reference;
mod selling;
mod tickets;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use common::session::{COOKIE_NAME, SessionUser};
use maud::html;

use crate::api::{Api, Failure, Session};
use crate::views::page;

/// What every page can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub api: Api,
    pub stripe: StripeJs,
}

/// How the browser loads Stripe.js.
#[derive(Clone)]
pub struct StripeJs {
    pub publishable_key: String,
    pub url: String,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(home::router())
        .merge(admin::router())
        .merge(crate::assets::router())
        .merge(auth::router())
        .merge(selling::router())
        .merge(tickets::router())
        .merge(orders::router())
        .merge(reference::router())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(state)
}

/// The browser's session cookie and address, ready to forward to the APIs.
pub struct Browser {
    cookie: Option<String>,
    forwarded_for: Option<String>,
}

impl Browser {
    pub fn session(&self) -> Session<'_> {
        Session {
            cookie: self.cookie.as_deref(),
            forwarded_for: self.forwarded_for.as_deref(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let forwarded_for = parts.headers.get("x-forwarded-for");
        Ok(Self {
            cookie: jar
                .get(COOKIE_NAME)
                .map(|cookie| format!("{COOKIE_NAME}={}", cookie.value())),
            forwarded_for: forwarded_for
                .and_then(|value| value.to_str().ok())
                .map(str::to_string),
        })
    }
}

/// A 303 to `location`, passing on the cookies an API set.
pub fn see_other(location: &str, set_cookies: Vec<HeaderValue>) -> Response {
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    for cookie in set_cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    /// The page needs a signed-in user.
    #[error("not signed in")]
    SignInFirst,
    /// Signed in, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// The user is banned.
    #[error("account suspended")]
    Suspended,
    #[error(transparent)]
    Broken(#[from] anyhow::Error),
}

impl From<Failure> for PageError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused { status, .. } if status == StatusCode::NOT_FOUND => Self::NotFound,
            Failure::Refused { status, .. } if status == StatusCode::UNAUTHORIZED => {
                Self::SignInFirst
            }
            Failure::Refused { status, errors } if status == StatusCode::FORBIDDEN => {
                if errors.iter().any(|e| e.message == SUSPENDED) {
                    Self::Suspended
                } else {
                    Self::Forbidden
                }
            }
            Failure::Refused { status, errors } => {
                Self::Broken(anyhow::anyhow!("an API refused with {status}: {errors:?}"))
            }
            Failure::Broken(err) => Self::Broken(err),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => not_found_page(),
            Self::SignInFirst => see_other("/auth/signin", Vec::new()),
            Self::Forbidden => {
                let content = html! { p { "This is not yours to see or change. " a href="/" { "See the tickets for sale" } "." } };
                (StatusCode::FORBIDDEN, page("Not allowed", None, content)).into_response()
            }
            Self::Suspended => {
                let content = html! { p.alert role="alert" { "Your account has been suspended. Your listings are hidden and you cannot buy or sell." } };
                (StatusCode::FORBIDDEN, page(SUSPENDED, None, content)).into_response()
            }
            Self::Broken(cause) => {
                tracing::error!(error = format!("{cause:#}"), "page failed unexpectedly");
                let content = html! {
                    p.alert role="alert" { "Something went wrong. Please try again in a moment." }
                };
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page("Something went wrong", None, content),
                )
                    .into_response()
            }
        }
    }
}

pub type PageResult = Result<Response, PageError>;

/// What the APIs answer a banned user, and the title of the page they see.
const SUSPENDED: &str = "Account suspended";

/// The signed-in user, or a redirect to the sign-in page.
pub async fn signed_in(api: &Api, browser: &Browser) -> Result<SessionUser, PageError> {
    api.current_user(browser.session())
        .await?
        .ok_or(PageError::SignInFirst)
}

/// A record id taken from a URL: one that is no id is a 404 here, before
/// it could reach an API path (`..%2F` would otherwise take it elsewhere).
pub fn record_id(raw: &str) -> Result<String, PageError> {
    let valid = raw.len() == 24 && raw.bytes().all(|b| b.is_ascii_hexdigit());
    valid
        .then(|| raw.to_ascii_lowercase())
        .ok_or(PageError::NotFound)
}

/// A path no page has. Under `/api/` it is an API path no service took (the
/// ingress hands the client whatever else reaches it, `/api/tickets/..%2F`
/// normalised to `/api/` among them): it is answered in the APIs' error
/// shape, not with a page.
async fn not_found(uri: Uri) -> Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        return common::ApiError::NotFound.into_response();
    }
    not_found_page()
}

/// A page asked with a method it does not take (a GET of a form's target).
async fn method_not_allowed(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return common::ApiError::MethodNotAllowed.into_response();
    }
    let content =
        html! { p { "This page cannot do that. " a href="/" { "See the tickets for sale" } "." } };
    (
        StatusCode::METHOD_NOT_ALLOWED,
        page("Not allowed", None, content),
    )
        .into_response()
}

fn not_found_page() -> Response {
    let content =
        html! { p { "There is nothing here. " a href="/" { "See the tickets for sale" } "." } };
    (StatusCode::NOT_FOUND, page("Page not found", None, content)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_url_segment_that_is_no_id_then_it_is_not_found_before_an_api_is_called() {
        for raw in [
            "../users/currentuser",
            "..%2Fusers%2Fcurrentuser",
            "",
            "6b0f996a",
        ] {
            assert!(matches!(record_id(raw), Err(PageError::NotFound)), "{raw}");
        }
    }

    #[test]
    fn given_an_id_in_any_case_then_it_is_passed_on_in_lower_case() {
        assert_eq!(
            record_id("6B0F996A32807A0A963337AB").ok().as_deref(),
            Some("6b0f996a32807a0a963337ab")
        );
    }
}
