//! `DELETE /api/orders/:id`: the buyer cancels; the ticket is for sale
//! again. Cancelling twice is harmless; a paid order cannot be cancelled.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::delete;
use common::session::AuthUser;
use common::{ApiError, ApiResult};

use super::AppState;
use crate::domain::Command;
use crate::repository::{TransitionRefused, Transitioned};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/orders/{id}", delete(cancel))
}

#[tracing::instrument(skip(state, user), fields(user_id = %user.id))]
async fn cancel(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    match state
        .orders
        .transition(id, Some(&user.id), Command::Cancel)
        .await?
    {
        Ok(Transitioned::Changed(order)) => {
            tracing::info!(version = order.version, "order cancelled");
            Ok(StatusCode::NO_CONTENT)
        }
        Ok(Transitioned::Unchanged(_)) => Ok(StatusCode::NO_CONTENT),
        Err(TransitionRefused::NotFound) => Err(ApiError::NotFound),
        Err(TransitionRefused::Refused(refusal)) => Err(ApiError::bad_request(refusal.to_string())),
    }
}
