//! `POST /api/users/signup`: create an account and sign in.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum_extra::extract::CookieJar;
use common::session::SessionUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody, ErrorItem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, Credentials, busy, limit_address};
use crate::domain::{Email, Password};
use crate::repository::Inserted;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(signup))
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/api/users/signup", tag = "users", operation_id = "signUp",
    request_body = Credentials,
    responses(
        (status = 201, description = "Signed up; the `session` cookie is set", body = SessionUser,
            headers(("Set-Cookie" = String, description = "The `session` cookie"))),
        (status = 400, description = "The email is invalid or in use, or the password is 8 to 128 characters", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this address; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Too many passwords being hashed, or a dependency is unavailable", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait, when busy"))),
    ))]
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
