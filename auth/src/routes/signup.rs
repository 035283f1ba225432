//! `POST /api/users/signup`: create an account and sign in.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum_extra::extract::CookieJar;
use common::session::SessionUser;
use common::{ApiError, ApiResult, AppJson, ErrorItem};

use super::{AppState, Credentials, busy, limit_address};
use crate::domain::{Email, Password};
use crate::repository::Inserted;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/signup", post(signup))
}

#[tracing::instrument(skip_all)]
async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
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
    limit_address(&state, &headers).await?;
    if state.users.find_by_email(&email).await?.is_some() {
        // Spares a hash; the unique index still decides under a race.
        return Err(ApiError::invalid("email", "Email in use"));
    }
    let hash = password.hash(&state.hasher).await.map_err(busy)??;
    let user = match state.users.insert(&email, &hash).await? {
        Inserted::Created(user) => state.admins.session_user(&user),
        Inserted::EmailTaken => return Err(ApiError::invalid("email", "Email in use")),
    };
    tracing::info!(user_id = %user.id, "user signed up");
    let cookie = state.sessions.cookie_for(&user)?;
    Ok((StatusCode::CREATED, jar.add(cookie), AppJson(user)))
}
