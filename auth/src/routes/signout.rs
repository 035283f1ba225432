//! `POST /api/users/signout`: clear the session cookie.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use axum_extra::extract::CookieJar;
use common::AppJson;
use serde_json::{Value, json};

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/users/signout", post(signout))
}

async fn signout(State(state): State<AppState>, jar: CookieJar) -> (CookieJar, AppJson<Value>) {
    (jar.add(state.sessions.cleared_cookie()), AppJson(json!({})))
}
