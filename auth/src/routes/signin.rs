//! `POST /api/users/signin`: check the credentials and set the session
//! cookie. An unknown email and a wrong password get the same answer in
//! about the same time; five failures for one email lock it for fifteen
//! minutes, whether or not it exists, the right password included.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum_extra::extract::CookieJar;
use chrono::Utc;
use common::session::SessionUser;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, Credentials, busy, limit_address};
use crate::domain::limits::{self, Attempt};
use crate::domain::{Email, PasswordHash};
use crate::repository::{Checked, UserRecord};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/signin", post(signin))
}

#[tracing::instrument(skip_all)]
async fn signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    AppJson(body): AppJson<Credentials>,
) -> ApiResult<(CookieJar, AppJson<SessionUser>)> {
    let email = Email::parse(&body.email).map_err(|message| ApiError::invalid("email", message))?;
    if body.password.is_empty() {
        return Err(ApiError::invalid("password", "Password is required"));
    }
    limit_address(&state, &headers).await?;
    let now = Utc::now();
    match state.attempts.attempt(email.as_str(), now).await? {
        Attempt::Go => {}
        Attempt::Locked(wait) => {
            return Err(ApiError::TooMany {
                retry_after: wait.as_secs(),
                message: limits::lockout_message(wait),
            });
        }
        Attempt::Crowded => return Err(ApiError::Busy { retry_after: 1 }),
    }
    let checked = check(&state, &email, body.password).await;
    let settled = match &checked {
        Ok(Some(_)) => Checked::Succeeded,
        Ok(None) => Checked::Failed,
        Err(_) => Checked::NotTried,
    };
    state.attempts.checked(email.as_str(), settled).await?;
    let Some(user) = checked? else {
        return Err(ApiError::bad_request("Invalid credentials"));
    };
    if user.banned {
        return Err(ApiError::Suspended);
    }
    let user = state.admins.session_user(&user);
    let cookie = state.sessions.cookie_for(&user)?;
    Ok((jar.add(cookie), AppJson(user)))
}

/// The user whose password this is, if any: an unknown email is checked
/// against a decoy hash, so that both take about the same time.
async fn check(state: &AppState, email: &Email, password: String) -> ApiResult<Option<UserRecord>> {
    let user = state.users.find_by_email(email).await?;
    let hash = match &user {
        Some(user) => PasswordHash::from_stored(user.password_hash.clone()),
        None => state.decoy_hash.clone(),
    };
    let matches = hash.verify(password, &state.hasher).await.map_err(busy)??;
    Ok(user.filter(|_| matches))
}
