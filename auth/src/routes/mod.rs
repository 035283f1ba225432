//! The auth service's routes, one file per endpoint.

mod admin;
mod current_user;
mod signin;
mod signout;
mod signup;

use axum::Router;
use axum::extract::FromRef;
use axum::http::HeaderMap;
use chrono::Utc;
use common::session::{Role, SessionUser, Sessions};
use common::{ApiError, ApiResult};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;

use crate::domain::limits;
use crate::domain::{Busy, Hasher, PasswordHash};
use crate::repository::{Attempts, UserRecord, Users};

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub users: Users,
    pub attempts: Attempts,
    pub sessions: Sessions,
    /// Verified against when the email is unknown, so that an unknown email
    /// takes as long as a wrong password.
    pub decoy_hash: PasswordHash,
    pub hasher: Hasher,
    pub admins: Admins,
    /// Sign-ups and sign-ins a minute from one address; 0 for no limit.
    pub attempts_per_minute: u32,
}

/// Who the admins are.
#[derive(Clone, Default)]
pub struct Admins(pub std::sync::Arc<Vec<String>>);

impl Admins {
    /// What a user stored may do.
    pub fn session_user(&self, user: &UserRecord) -> SessionUser {
        let role = if self.0.contains(&user.email) {
            Role::Admin
        } else {
            Role::User
        };
        SessionUser {
            id: user.id.to_hex(),
            email: user.email.clone(),
            role,
        }
    }
}

/// Every route, each registered with its part of the OpenAPI document.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(signup::router())
        .merge(signin::router())
        .merge(signout::router())
        .merge(current_user::router())
        .merge(admin::router())
}

pub fn router(state: AppState) -> Router {
    routes().split_for_parts().0.with_state(state)
}

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The body of signup and signin.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse"}))]
struct Credentials {
    #[schema(format = Email)]
    email: String,
    /// 8 to 128 characters at sign-up.
    #[schema(min_length = 1, max_length = 128)]
    password: String,
}

/// A 429 for an address past its attempts this minute, as the proxy reports it.
async fn limit_address(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let address =
        limits::client_address(forwarded).map_or_else(|| "unknown".to_string(), |a| a.to_string());
    match state
        .attempts
        .from_address(&address, state.attempts_per_minute, Utc::now())
        .await?
    {
        None => Ok(()),
        Some(wait) => Err(ApiError::TooMany {
            retry_after: wait.as_secs(),
            message: limits::lockout_message(wait),
        }),
    }
}

/// A hash that found no room: the service is busy.
fn busy(_: Busy) -> ApiError {
    tracing::warn!("too many password hashes at once; refusing");
    ApiError::Busy { retry_after: 1 }
}
