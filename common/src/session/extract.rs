//! The request extractors: who is signed in, as the session cookie says.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::{Checked, Role, Session, SessionUser, Sessions};
use crate::ApiError;

/// The current user, if any. Never rejects.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<SessionUser>);

/// A signed-in user; rejects with 401 otherwise, and 403 for a banned one.
#[derive(Debug, Clone)]
pub struct AuthUser(pub SessionUser);

/// A signed-in session, for what acts on the session itself (signing out).
#[derive(Debug, Clone)]
pub struct AuthSession(pub Session);

/// A signed-in admin; 403 for anyone else signed in.
#[derive(Debug, Clone)]
pub struct AdminUser(pub SessionUser);

impl<S> FromRequestParts<S> for MaybeUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            match Sessions::from_ref(state).of_headers(&parts.headers) {
                Some(Checked::Valid(session)) => Some(session.user),
                _ => None,
            },
        ))
    }
}

impl<S> FromRequestParts<S> for AuthSession
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Sessions::from_ref(state).of_headers(&parts.headers) {
            Some(Checked::Valid(session)) => Ok(Self(session)),
            Some(Checked::Suspended) => Err(ApiError::Suspended),
            _ => Err(ApiError::Unauthorized),
        }
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AuthSession(session) = AuthSession::from_request_parts(parts, state).await?;
        Ok(Self(session.user))
    }
}

impl<S> FromRequestParts<S> for AdminUser
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(Self(user))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}
