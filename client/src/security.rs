//! What keeps another site from acting through the browser: a CSRF token
//! on every form, tied to the session (or, signed out, to a cookie of its
//! own), checked on every POST; and the headers every page carries (a
//! Content-Security-Policy allowing only the platform and Stripe.js, no
//! framing, no sniffing, no referrer to other sites).

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use maud::html;
use sha2::Sha256;

use crate::views::{CSRF_FIELD as FIELD, CSRF_TOKEN as TOKEN, page};

/// The cookie a signed-out browser's forms are tied to.
const CSRF_COOKIE: &str = "csrf";
/// Form bodies read to find the token, at most.
const FORM_LIMIT: usize = 64 * 1024;

/// How the client signs its tokens, and where Stripe.js comes from.
#[derive(Clone)]
pub struct Guard {
    key: Vec<u8>,
    secure: bool,
    /// The policy every page is sent with.
    policy: HeaderValue,
}

impl Guard {
    pub fn new(
        key: &common::config::Secret,
        secure: bool,
        stripe_js_url: &str,
    ) -> anyhow::Result<Self> {
        let stripe = origin(stripe_js_url);
        // Stripe.js itself calls Stripe's API and frames its 3-D Secure
        // pages from two more hosts; a stand-in serves all from its own.
        let (api, frames) = if stripe == "https://js.stripe.com" {
            (
                "https://api.stripe.com",
                "https://js.stripe.com https://hooks.stripe.com",
            )
        } else {
            (stripe.as_str(), stripe.as_str())
        };
        let policy = format!(
            "default-src 'self'; script-src 'self' {stripe}; connect-src 'self' {api}; \
             frame-src {frames}; img-src 'self' data:; style-src 'self'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'"
        );
        Ok(Self {
            key: key.expose().as_bytes().to_vec(),
            secure,
            policy: HeaderValue::from_str(&policy)?,
        })
    }

    /// The MAC of a browser with `cookie` and, when signed in, `session`.
    fn mac(&self, cookie: &str, session: Option<&str>) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length");
        mac.update(b"csrf:");
        mac.update(cookie.as_bytes());
        mac.update(b":");
        mac.update(session_id(session).unwrap_or_default().as_bytes());
        mac
    }

    fn token(&self, cookie: &str, session: Option<&str>) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(cookie, session).finalize().into_bytes())
    }

    /// Whether `token` is this browser's, compared in constant time.
    fn valid(&self, cookie: &str, session: Option<&str>, token: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|tag| self.mac(cookie, session).verify_slice(&tag).is_ok())
    }
}

/// The `sid` a session cookie names, read without checking its signature:
/// only to tie the token to it; the APIs check the session itself.
fn session_id(session: Option<&str>) -> Option<String> {
    let payload = session?.split('.').nth(1)?;
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["sid"].as_str().map(str::to_string)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

/// Checks the token of every POST, gives the page's forms theirs, and adds
/// the security headers to every answer.
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let session = jar
        .get(common::session::COOKIE_NAME)
        .map(|c| c.value().to_string());
    let (cookie, fresh) = match jar.get(CSRF_COOKIE) {
        Some(cookie) if !cookie.value().is_empty() => (cookie.value().to_string(), false),
        _ => (uuid::Uuid::new_v4().simple().to_string(), true),
    };
    let request = if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return refused(&guard);
        };
        if !token_matches(&guard, &bytes, &cookie, session.as_deref(), fresh) {
            tracing::warn!(path = %parts.uri.path(), "a form without a valid CSRF token refused");
            return refused(&guard);
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    let token = guard.token(&cookie, session.as_deref());
    let mut response = TOKEN.scope(token, next.run(request)).await;
    if fresh {
        let cookie = Cookie::build((CSRF_COOKIE, cookie))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(guard.secure)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    headers(&guard, &mut response);
    response
}

fn token_matches(
    guard: &Guard,
    body: &Bytes,
    cookie: &str,
    session: Option<&str>,
    fresh: bool,
) -> bool {
    if fresh {
        return false; // a form we never gave this browser
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    fields
        .iter()
        .find(|(name, _)| name == FIELD)
        .is_some_and(|(_, token)| guard.valid(cookie, session, token))
}

fn refused(guard: &Guard) -> Response {
    let content = html! {
        p.alert role="alert" { "This form has expired, or was sent from another site. Go back, reload the page and try again." }
    };
    let mut response = (StatusCode::FORBIDDEN, page("Form refused", None, content)).into_response();
    headers(guard, &mut response);
    response
}

fn headers(guard: &Guard, response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, guard.policy.clone());
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::new(
            &common::config::Secret::new("key"),
            true,
            "https://js.stripe.com/v3/",
        )
        .unwrap()
    }

    /// A session cookie as auth issues it: only its `sid` matters here.
    fn session(sid: &str) -> String {
        let claims = URL_SAFE_NO_PAD.encode(format!(r#"{{"sid":"{sid}"}}"#));
        format!("header.{claims}.signature")
    }

    #[test]
    fn given_a_token_then_only_its_cookie_and_session_make_it_valid() {
        let guard = guard();
        let signed_out = guard.token("c1", None);
        assert!(guard.valid("c1", None, &signed_out));
        assert!(
            !guard.valid("c2", None, &signed_out),
            "another browser's cookie"
        );
        assert!(!guard.valid("c1", None, "forged"));
        assert!(!guard.valid("c1", None, ""));

        let (one, other) = (session("s1"), session("s2"));
        let signed_in = guard.token("c1", Some(&one));
        assert!(guard.valid("c1", Some(&one), &signed_in));
        assert!(
            !guard.valid("c1", Some(&other), &signed_in),
            "another session"
        );
        assert!(
            !guard.valid("c1", Some(&one), &signed_out),
            "a signed-out form"
        );
    }

    #[test]
    fn given_a_form_post_then_the_token_is_read_from_its_fields() {
        let guard = guard();
        let token = guard.token("c1", None);
        let body = Bytes::from(format!("email=a%40b.co&csrf={token}&password=x"));
        assert!(token_matches(&guard, &body, "c1", None, false));
        assert!(
            !token_matches(&guard, &body, "c1", None, true),
            "a cookie never given"
        );
        assert!(!token_matches(
            &guard,
            &Bytes::from("email=a"),
            "c1",
            None,
            false
        ));
    }

    #[test]
    fn the_policy_allows_only_the_platform_and_stripe() {
        let policy = guard().policy.to_str().unwrap().to_string();
        assert!(
            policy.contains("script-src 'self' https://js.stripe.com;"),
            "{policy}"
        );
        assert!(
            policy.contains("connect-src 'self' https://api.stripe.com;"),
            "{policy}"
        );
        assert!(
            policy.contains("style-src 'self';"),
            "no inline style: {policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"));

        let local = Guard::new(
            &common::config::Secret::new("key"),
            false,
            "http://127.0.0.1:8420/js.stripe.com/v3/",
        )
        .unwrap();
        let policy = local.policy.to_str().unwrap().to_string();
        assert!(
            policy.contains("connect-src 'self' http://127.0.0.1:8420;"),
            "{policy}"
        );
    }

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("http://127.0.0.1:8420/js.stripe.com/v3/"),
            "http://127.0.0.1:8420"
        );
    }
}
