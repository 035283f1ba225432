//! `GET /api/users/currentuser`: who the session cookie names, or null (for
//! an ended session or a banned user too).

use axum::Router;
use axum::routing::get;
use common::AppJson;
use common::session::{MaybeUser, SessionUser};
use serde::Serialize;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/currentuser", get(current_user))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CurrentUser {
    current_user: Option<SessionUser>,
}

async fn current_user(MaybeUser(user): MaybeUser) -> AppJson<CurrentUser> {
    AppJson(CurrentUser { current_user: user })
}
