//! The auth service's routes, one file per endpoint.

mod current_user;
mod signin;
mod signout;
mod signup;

use axum::Router;
use axum::extract::FromRef;
use common::session::{SessionUser, Sessions};
use serde::Deserialize;

use crate::domain::PasswordHash;
use crate::repository::{UserRecord, Users};

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub users: Users,
    pub sessions: Sessions,
    /// Verified against when the email is unknown, so that an unknown email
    /// takes as long as a wrong password.
    pub decoy_hash: PasswordHash,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(signup::router())
        .merge(signin::router())
        .merge(signout::router())
        .merge(current_user::router())
        .with_state(state)
}

/// The body of signup and signin.
#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

impl From<UserRecord> for SessionUser {
    fn from(user: UserRecord) -> Self {
        SessionUser {
            id: user.id.to_hex(),
            email: user.email,
        }
    }
}
