//! Sessions: an HS256 JWT `{id,email,role,sid,iat,exp}` in the `session`
//! cookie, and the extractors that read it. Every service checks the token
//! locally with the shared key, and against the sessions ended and the
//! users banned that it knows of (see [`crate::revocations`]). A missing,
//! malformed, tampered, expired or ended token means "not signed in"; a
//! banned user's is "Account suspended"; neither is ever a 500.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{Secret, ServiceSettings};
use crate::revocations::{Revoked, RevokedView};

mod extract;
pub use extract::{AdminUser, AuthSession, AuthUser, MaybeUser};

/// Name of the cookie that carries the session token.
pub const COOKIE_NAME: &str = "session";

/// What a user may do: an admin also bans and unbans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    User,
    Admin,
}

/// The signed-in user as every service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub role: Role,
}

/// One signed-in session: its user, its id, when it was issued and when it
/// would have expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: SessionUser,
    pub sid: String,
    /// Unix milliseconds: a session issued the very second every session
    /// of its user was ended is told apart from those it ended.
    pub issued_at_ms: u64,
    pub expires_at: u64,
}

/// The token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub role: Role,
    pub sid: String,
    pub iat: u64,
    /// `iat` in milliseconds.
    #[serde(default, rename = "iatMs")]
    pub iat_ms: u64,
    pub exp: u64,
}

/// What a session cookie comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Valid(Session),
    /// Malformed, tampered with, expired, or ended.
    Invalid,
    /// Its user is banned.
    Suspended,
}

impl ServiceSettings {
    /// The sessions this service issues or checks: `Secure` cookies
    /// everywhere but dev mode.
    pub fn sessions(&self) -> Sessions {
        Sessions::new(&self.jwt_key, self.session_ttl, !self.http.dev_mode)
    }
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
    revoked: Option<RevokedView>,
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
            revoked: None,
        }))
    }

    /// The same sessions, each checked against the sessions ended and the
    /// users banned that `revoked` knows of.
    pub fn checked_against(&self, revoked: RevokedView) -> Self {
        Self(Arc::new(Inner {
            encoding: self.0.encoding.clone(),
            decoding: self.0.decoding.clone(),
            validation: self.0.validation.clone(),
            ttl: self.0.ttl,
            secure: self.0.secure,
            revoked: Some(revoked),
        }))
    }

    pub fn ttl(&self) -> Duration {
        self.0.ttl
    }

    /// A new session for `user`, valid for the configured lifetime, and its token.
    pub fn issue(&self, user: &SessionUser) -> anyhow::Result<(Session, String)> {
        let iat_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or_default();
        let iat = iat_ms / 1000;
        let claims = Claims {
            id: user.id.clone(),
            email: user.email.clone(),
            role: user.role,
            sid: uuid::Uuid::new_v4().simple().to_string(),
            iat,
            iat_ms,
            exp: iat + self.0.ttl.as_secs(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.encoding)?;
        let session = Session {
            user: user.clone(),
            sid: claims.sid,
            issued_at_ms: iat_ms,
            expires_at: claims.exp,
        };
        Ok((session, token))
    }

    /// A signed token for a new session of `user`.
    pub fn token_for(&self, user: &SessionUser) -> anyhow::Result<String> {
        Ok(self.issue(user)?.1)
    }

    /// The cookie that signs `user` in to a new session.
    pub fn cookie_for(&self, user: &SessionUser) -> anyhow::Result<Cookie<'static>> {
        Ok(self.cookie(self.token_for(user)?, self.0.ttl))
    }

    /// The cookie that carries `token`.
    pub fn cookie_with(&self, token: String) -> Cookie<'static> {
        self.cookie(token, self.0.ttl)
    }

    /// The cookie that signs the browser out: empty and already expired.
    pub fn cleared_cookie(&self) -> Cookie<'static> {
        self.cookie(String::new(), Duration::ZERO)
    }

    /// The session a token names, if it is well-formed, signed with our key
    /// and current: what it says, before anything ended it.
    pub fn verify(&self, token: &str) -> Option<Session> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.0.decoding, &self.0.validation).ok()?;
        let claims = data.claims;
        Some(Session {
            user: SessionUser {
                id: claims.id,
                email: claims.email,
                role: claims.role,
            },
            sid: claims.sid,
            issued_at_ms: if claims.iat_ms > 0 {
                claims.iat_ms
            } else {
                claims.iat * 1000
            },
            expires_at: claims.exp,
        })
    }

    /// What a token comes to, the sessions ended and the users banned included.
    pub fn check(&self, token: &str) -> Checked {
        let Some(session) = self.verify(token) else {
            return Checked::Invalid;
        };
        match self
            .0
            .revoked
            .as_ref()
            .and_then(|revoked| revoked.check(&session.user.id, &session.sid, session.issued_at_ms))
        {
            None => Checked::Valid(session),
            Some(Revoked::Ended) => Checked::Invalid,
            Some(Revoked::Banned) => Checked::Suspended,
        }
    }

    /// What the request's session cookie comes to; `None` without one.
    pub fn of_headers(&self, headers: &axum::http::HeaderMap) -> Option<Checked> {
        let jar = CookieJar::from_headers(headers);
        let cookie = jar.get(COOKIE_NAME)?;
        (!cookie.value().is_empty()).then(|| self.check(cookie.value()))
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

/// A layer's function: a request whose session cookie is tampered with,
/// expired, ended or a banned user's gets an answer that clears it, unless
/// the answer sets the cookie itself.
pub async fn clear_stale_cookie(
    axum::extract::State(sessions): axum::extract::State<Sessions>,
    request: Request,
    next: Next,
) -> Response {
    let stale = matches!(
        sessions.of_headers(request.headers()),
        Some(Checked::Invalid | Checked::Suspended)
    );
    let mut response = next.run(request).await;
    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|value| value.to_str().is_ok_and(|v| v.starts_with(COOKIE_NAME)));
    if stale
        && !sets_session
        && let Ok(value) = HeaderValue::from_str(&sessions.cleared_cookie().to_string())
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
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
            role: Role::User,
        }
    }

    #[test]
    fn a_token_we_issued_verifies() {
        let sessions = sessions();
        let token = sessions.token_for(&alice()).unwrap();
        assert_eq!(sessions.verify(&token).map(|s| s.user), Some(alice()));
    }

    #[test]
    fn a_token_signed_with_another_key_does_not_verify() {
        let other = Sessions::new(&Secret::new("other-key"), Duration::from_secs(60), true);
        let token = other.token_for(&alice()).unwrap();
        assert!(sessions().verify(&token).is_none());
    }

    #[test]
    fn garbage_does_not_verify() {
        assert!(sessions().verify("not.a.token").is_none());
        assert!(sessions().verify("").is_none());
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
    fn every_session_has_an_id_of_its_own_and_carries_the_role() {
        let sessions = sessions();
        let admin = SessionUser {
            role: Role::Admin,
            ..alice()
        };
        let (first, token) = sessions.issue(&admin).unwrap();
        let (second, _) = sessions.issue(&admin).unwrap();
        assert_ne!(first.sid, second.sid);
        assert_eq!(sessions.verify(&token).unwrap().user.role, Role::Admin);
    }

    #[test]
    fn dev_mode_cookies_are_not_secure() {
        let dev = Sessions::new(&Secret::new("k"), Duration::from_secs(60), false);
        assert_eq!(dev.cookie_for(&alice()).unwrap().secure(), Some(false));
    }
}
