//! `POST /api/users/signup`: create an account and sign in.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum_extra::extract::CookieJar;
use common::session::SessionUser;
use common::{ApiError, ApiResult, AppJson, ErrorItem};

use super::{AppState, Credentials};
use crate::domain::{Email, Password};
use crate::repository::Inserted;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/signup", post(signup))
}

#[tracing::instrument(skip_all)]
async fn signup(
    State(state): State<AppState>,
    jar: CookieJar,
    AppJson(body): AppJson<Credentials>,
) -> ApiResult<(StatusCode, CookieJar, AppJson<SessionUser>)> {
    let (email, password) = match (Email::parse(&body.email), Password::parse(&body.password)) {
        (Ok(email), Ok(password)) => (email, password),
        (email, password) => {
            let mut errors = Vec::new();
            if let Err(message) = email {
                errors.push(ErrorItem::field("email", message));
            }
            if let Err(message) = password {
                errors.push(ErrorItem::field("password", message));
            }
            return Err(ApiError::BadRequest(errors));
        }
    };
    let hash = password.hash().await?;
    let user: SessionUser = match state.users.insert(&email, &hash).await? {
        Inserted::Created(user) => user.into(),
        Inserted::EmailTaken => return Err(ApiError::invalid("email", "Email in use")),
    };
    tracing::info!(user_id = %user.id, "user signed up");
    let cookie = state.sessions.cookie_for(&user)?;
    Ok((StatusCode::CREATED, jar.add(cookie), AppJson(user)))
}
