//! What admins do: find a user by email, ban them, lift the ban. A ban ends
//! every session the user had; lifting it lets them sign in again.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use common::session::{AdminUser, Role};
use common::{ApiError, ApiResult, AppJson, ErrorBody};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::domain::Email;
use crate::repository::UserRecord;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(find))
        .routes(routes!(ban, unban))
}

/// A user as admins see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = User)]
struct UserView {
    id: String,
    email: String,
    role: Role,
    banned: bool,
}

fn view(state: &AppState, user: &UserRecord) -> UserView {
    UserView {
        id: user.id.to_hex(),
        email: user.email.clone(),
        role: state.admins.session_user(user).role,
        banned: user.banned,
    }
}

/// The `email` a search names.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct FindQuery {
    /// The whole email address (any case).
    email: String,
}

/// Find a user by email (admins only).
#[utoipa::path(get, path = "/api/users", tag = "admin", operation_id = "findUsers",
    params(FindQuery),
    responses(
        (status = 200, description = "The user with that email, or none", body = Vec<UserView>),
        (status = 400, description = "The email is invalid", body = ErrorBody),
        (status = 403, description = "Not an admin, or the account is suspended", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip_all, fields(admin = %admin.id))]
async fn find(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<AppJson<Vec<UserView>>> {
    let raw = params.get("email").map(String::as_str).unwrap_or_default();
    let email = Email::parse(raw).map_err(|message| ApiError::invalid("email", message))?;
    let found = state.users.find_by_email(&email).await?;
    Ok(AppJson(
        found.iter().map(|user| view(&state, user)).collect(),
    ))
}

/// The longest reason an admin may give.
const REASON_LIMIT: usize = 500;

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct BanBody {
    /// Why, for the record (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: Option<String>,
}

async fn set_banned(
    state: &AppState,
    admin: &common::session::SessionUser,
    id: &str,
    reason: Option<&str>,
) -> ApiResult<AppJson<UserView>> {
    let banned = reason.is_some();
    let reason = reason.filter(|r| !r.is_empty());
    let id = common::mongo::parse_id(id).ok_or(ApiError::NotFound)?;
    if id.to_hex() == admin.id {
        return Err(ApiError::bad_request("You cannot ban yourself"));
    }
    let ttl = chrono::Duration::from_std(state.sessions.ttl()).unwrap_or_default();
    let now = Utc::now();
    let user = state
        .users
        .set_banned(id, banned, reason, now, now + ttl)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(user_id = %user.id, banned, reason, "ban changed");
    Ok(AppJson(view(state, &user)))
}

/// Suspend a user (admins only): every session ends, unpaid orders are
/// cancelled, tickets leave the listing.
#[utoipa::path(post, path = "/api/users/{id}/ban", tag = "admin", operation_id = "banUser",
    params(("id" = String, Path, description = "The user's id")),
    request_body(content = Option<BanBody>, description = "Optional"),
    responses(
        (status = 200, description = "Banned", body = UserView),
        (status = 400, description = "Banning oneself, or an invalid reason", body = ErrorBody),
        (status = 403, description = "Not an admin, or the account is suspended", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip(state, admin), fields(admin = %admin.id))]
async fn ban(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<AppJson<UserView>> {
    let BanBody { reason } = if body.iter().all(u8::is_ascii_whitespace) {
        BanBody::default()
    } else {
        common::json::parse(&body)?
    };
    let reason = reason.unwrap_or_default();
    let reason = reason.trim();
    if reason.chars().count() > REASON_LIMIT {
        return Err(ApiError::invalid(
            "reason",
            format!("Reason must be at most {REASON_LIMIT} characters"),
        ));
    }
    set_banned(&state, &admin, &id, Some(reason)).await
}

/// Lift a ban (admins only); sessions from before it stay ended.
#[utoipa::path(delete, path = "/api/users/{id}/ban", tag = "admin", operation_id = "unbanUser",
    params(("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "No longer banned", body = UserView),
        (status = 400, description = "Unbanning oneself", body = ErrorBody),
        (status = 403, description = "Not an admin, or the account is suspended", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip(state, admin), fields(admin = %admin.id))]
async fn unban(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<AppJson<UserView>> {
    set_banned(&state, &admin, &id, None).await
}
