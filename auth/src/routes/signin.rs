//! `POST /api/users/signin`: check the credentials and set the session cookie.
//! An unknown email and a wrong password get the same answer in about the
//! same time.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use axum_extra::extract::CookieJar;
use common::session::SessionUser;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, Credentials};
use crate::domain::{Email, PasswordHash};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/signin", post(signin))
}

#[tracing::instrument(skip_all)]
async fn signin(
    State(state): State<AppState>,
    jar: CookieJar,
    AppJson(body): AppJson<Credentials>,
) -> ApiResult<(CookieJar, AppJson<SessionUser>)> {
    let email = Email::parse(&body.email).map_err(|message| ApiError::invalid("email", message))?;
    if body.password.is_empty() {
        return Err(ApiError::invalid("password", "Password is required"));
    }
    let user = state.users.find_by_email(&email).await?;
    let hash = match &user {
        Some(user) => PasswordHash::from_stored(user.password_hash.clone()),
        None => state.decoy_hash.clone(),
    };
    let matches = hash.verify(body.password).await?;
    let Some(user) = user.filter(|_| matches) else {
        return Err(ApiError::bad_request("Invalid credentials"));
    };
    let user: SessionUser = user.into();
    let cookie = state.sessions.cookie_for(&user)?;
    Ok((jar.add(cookie), AppJson(user)))
}
