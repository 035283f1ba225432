//! `POST /api/users/signout` (`{"everywhere":true}` optional): clears the
//! cookie and ends the session on every service, or every session of the
//! user. Signed out already, it only clears the cookie.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use common::events::SessionEnded;
use common::session::Checked;
use common::{ApiError, ApiResult, AppJson, ErrorBody};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(signout))
}

/// The optional body of a sign-out.
#[derive(Deserialize, Default, utoipa::ToSchema)]
struct Signout {
    /// End every session of the user, not only this one.
    #[serde(default)]
    everywhere: bool,
}

/// An empty object.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Empty {}

/// End this session (or, with `everywhere`, every session of the user) on
/// every service; signed out already, only clears the cookie.
#[utoipa::path(post, path = "/api/users/signout", tag = "users", operation_id = "signOut",
    request_body(content = Option<Signout>, description = "Optional"),
    responses(
        (status = 200, description = "Signed out; the cookie is cleared", body = Empty),
        (status = 400, description = "The body is not a valid sign-out", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Bytes,
) -> ApiResult<(CookieJar, AppJson<Value>)> {
    let Signout { everywhere } = if body.iter().all(u8::is_ascii_whitespace) {
        Signout::default()
    } else {
        common::json::parse(&body)?
    };
    if let Some(Checked::Valid(session)) = state.sessions.of_headers(&headers) {
        let expires_at = DateTime::from_timestamp(session.expires_at as i64, 0)
            .ok_or_else(|| ApiError::bad_request("Not signed in"))?;
        let ended = if everywhere {
            // Every session from now back: they all expire within one lifetime.
            let ttl = chrono::Duration::from_std(state.sessions.ttl()).unwrap_or_default();
            SessionEnded {
                user_id: session.user.id.clone(),
                session_id: None,
                at: Utc::now(),
                expires_at: Utc::now() + ttl,
            }
        } else {
            SessionEnded {
                user_id: session.user.id.clone(),
                session_id: Some(session.sid.clone()),
                at: Utc::now(),
                expires_at,
            }
        };
        state.users.end_sessions(&ended).await?;
        tracing::info!(user_id = %session.user.id, everywhere, "signed out");
    }
    Ok((jar.add(state.sessions.cleared_cookie()), AppJson(json!({}))))
}
