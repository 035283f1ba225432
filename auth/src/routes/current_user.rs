//! `GET /api/users/currentuser`: who the session cookie names, or null (for
//! an ended session or a banned user too).

use common::AppJson;
use common::session::{MaybeUser, SessionUser};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(current_user))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct CurrentUser {
    /// Null when signed out, the session ended, or the account suspended.
    current_user: Option<SessionUser>,
}

/// Who the session cookie names.
#[utoipa::path(get, path = "/api/users/currentuser", tag = "users", operation_id = "currentUser",
    responses((status = 200, description = "The signed-in user, or null", body = CurrentUser)))]
async fn current_user(MaybeUser(user): MaybeUser) -> AppJson<CurrentUser> {
    AppJson(CurrentUser { current_user: user })
}
