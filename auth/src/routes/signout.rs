//! `POST /api/users/signout` (`{"everywhere":true}` optional): clears the
//! cookie and ends the session on every service, or every session of the
//! user. Signed out already, it only clears the cookie.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use common::events::SessionEnded;
use common::session::Checked;
use common::{ApiError, ApiResult, AppJson};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/signout", post(signout))
}

#[derive(Deserialize, Default)]
struct Signout {
    #[serde(default)]
    everywhere: bool,
}

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
