//! Sessions: an HS256 JWT `{id,email,iat,exp}` in the `session` cookie, and
//! the extractors that read it. Every service checks the token locally with
//! the shared key. A missing, malformed, tampered, expired or unsigned token
//! means "not signed in"; it is never a 500.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Secret;
use crate::error::ApiError;

/// Name of the cookie that carries the session token.
pub const COOKIE_NAME: &str = "session";

/// The signed-in user as every service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    pub email: String,
}

/// The token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub id: String,
    pub email: String,
    pub iat: u64,
    pub exp: u64,
}

/// Issues and verifies session cookies. Cheap to clone.
#[derive(Clone)]
pub struct Sessions(Arc<Inner>);

struct Inner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
    secure: bool,
}

impl Sessions {
    /// `secure` sets the cookie's `Secure` flag: on everywhere but dev mode.
    pub fn new(key: &Secret, ttl: Duration, secure: bool) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Self(Arc::new(Inner {
            encoding: EncodingKey::from_secret(key.expose().as_bytes()),
            decoding: DecodingKey::from_secret(key.expose().as_bytes()),
            validation,
            ttl,
            secure,
        }))
    }

    /// A signed token for `user`, valid for the configured lifetime.
    pub fn token_for(&self, user: &SessionUser) -> anyhow::Result<String> {
        let iat = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            id: user.id.clone(),
            email: user.email.clone(),
            iat,
            exp: iat + self.0.ttl.as_secs(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.0.encoding,
        )?)
    }

    /// The cookie that signs `user` in.
    pub fn cookie_for(&self, user: &SessionUser) -> anyhow::Result<Cookie<'static>> {
        Ok(self.cookie(self.token_for(user)?, self.0.ttl))
    }

    /// The cookie that signs the browser out: empty and already expired.
    pub fn cleared_cookie(&self) -> Cookie<'static> {
        self.cookie(String::new(), Duration::ZERO)
    }

    /// The user a token names, if it is well-formed, signed with our key and current.
    pub fn verify(&self, token: &str) -> Option<SessionUser> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation).ok()?;
        Some(SessionUser {
            id: data.claims.id,
            email: data.claims.email,
        })
    }

    fn cookie(&self, value: String, max_age: Duration) -> Cookie<'static> {
        let max_age =
            cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
        Cookie::build((COOKIE_NAME, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.0.secure)
            .max_age(max_age)
            .build()
    }
}

/// The current user, if any. Never rejects.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SessionUser>);

/// A signed-in user; rejects with 401 otherwise.
#[derive(Debug, Clone)]
pub struct AuthUser(pub SessionUser);

impl<S> FromRequestParts<S> for MaybeUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let sessions = Sessions::from_ref(state);
        let jar = CookieJar::from_headers(&parts.headers);
        Ok(Self(
            jar.get(COOKIE_NAME)
                .and_then(|cookie| sessions.verify(cookie.value())),
        ))
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state)
            .await
            .unwrap_or(MaybeUser(None));
        user.map(AuthUser).ok_or(ApiError::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Sessions {
        Sessions::new(&Secret::new("test-key"), Duration::from_secs(60), true)
    }

    fn alice() -> SessionUser {
        SessionUser {
            id: "u1".into(),
            email: "alice@example.com".into(),
        }
    }

    #[test]
    fn a_token_we_issued_verifies() {
        let sessions = sessions();
        let token = sessions.token_for(&alice()).unwrap();
        assert_eq!(sessions.verify(&token), Some(alice()));
    }

    #[test]
    fn a_token_signed_with_another_key_does_not_verify() {
        let other = Sessions::new(&Secret::new("other-key"), Duration::from_secs(60), true);
        let token = other.token_for(&alice()).unwrap();
        assert_eq!(sessions().verify(&token), None);
    }

    #[test]
    fn garbage_does_not_verify() {
        assert_eq!(sessions().verify("not.a.token"), None);
        assert_eq!(sessions().verify(""), None);
    }

    #[test]
    fn the_session_cookie_has_the_designed_flags() {
        let cookie = sessions().cookie_for(&alice()).unwrap();
        assert_eq!(cookie.name(), "session");
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
    }

    #[test]
    fn dev_mode_cookies_are_not_secure() {
        let dev = Sessions::new(&Secret::new("k"), Duration::from_secs(60), false);
        assert_eq!(dev.cookie_for(&alice()).unwrap().secure(), Some(false));
    }
}
