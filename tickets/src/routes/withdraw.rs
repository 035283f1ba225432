//! `DELETE /api/tickets/:id`: the owner takes an available ticket off sale;
//! orders then refuses it. A reserved or sold one stays.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::delete;
use common::session::AuthUser;
use common::{ApiError, ApiResult};

use super::AppState;
use crate::domain::EditRefused;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets/{id}", delete(withdraw))
}

#[tracing::instrument(skip(state, user), fields(user_id = %user.id))]
async fn withdraw(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    let ticket = state
        .tickets
        .withdraw(id, &user.id)
        .await?
        .map_err(refusal)?;
    tracing::info!(version = ticket.version, "ticket withdrawn");
    Ok(StatusCode::NO_CONTENT)
}

/// An edit's or a withdrawal's refusal as the API answers it.
pub(super) fn refusal(refused: EditRefused) -> ApiError {
    match refused {
        EditRefused::NotFound => ApiError::NotFound,
        EditRefused::NotOwner => ApiError::Forbidden,
        other => ApiError::bad_request(other.to_string()),
    }
}
