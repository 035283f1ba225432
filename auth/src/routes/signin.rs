//! `POST /api/users/signin`: check the credentials and set the session
//! cookie. An unknown email and a wrong password get the same answer in
//! about the same time; five failures for one email lock it for fifteen
//! minutes, whether or not it exists, the right password included.

use axum::extract::State;
use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use chrono::Utc;
use common::session::SessionUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, Credentials, busy, limit_address};
use crate::domain::limits::{self, Attempt};
use crate::domain::{Email, PasswordHash};
use crate::repository::{Checked, UserRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(signin))
}

/// Sign in; an unknown email and a wrong password answer alike.
#[utoipa::path(post, path = "/api/users/signin", tag = "users", operation_id = "signIn",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in; the `session` cookie is set", body = SessionUser,
            headers(("Set-Cookie" = String, description = "The `session` cookie"))),
        (status = 400, description = "Invalid credentials, or an invalid email", body = ErrorBody),
        (status = 403, description = "The account is suspended", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins for this email, or attempts from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Too many passwords being hashed, or a dependency is unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait, when busy"))),
    ))]
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
