//! The client's pages, one file per part of the site, and what they share:
//! the browser's session, redirects that carry the APIs' cookies, and error
//! pages.

mod auth;
mod home;
mod orders;
mod tickets;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use common::session::{COOKIE_NAME, SessionUser};
use maud::html;

use crate::api::{Api, Failure};
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
        .merge(auth::router())
        .merge(tickets::router())
        .merge(orders::router())
        .fallback(not_found)
        .with_state(state)
}

/// The browser's session cookie, ready to forward to the APIs.
pub struct Browser(Option<String>);

impl Browser {
    pub fn session(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        Ok(Self(
            jar.get(COOKIE_NAME)
                .map(|cookie| format!("{COOKIE_NAME}={}", cookie.value())),
        ))
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

/// The signed-in user, or a redirect to the sign-in page.
pub async fn signed_in(api: &Api, browser: &Browser) -> Result<SessionUser, PageError> {
    api.current_user(browser.session())
        .await?
        .ok_or(PageError::SignInFirst)
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

fn not_found_page() -> Response {
    let content =
        html! { p { "There is nothing here. " a href="/" { "See the tickets for sale" } "." } };
    (StatusCode::NOT_FOUND, page("Page not found", None, content)).into_response()
}
