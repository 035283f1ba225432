//! `DELETE /api/orders/:id`: the buyer cancels; the ticket is for sale
//! again. Cancelling twice is harmless; a paid order cannot be cancelled.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use common::session::AuthUser;
use common::{ApiError, ApiResult, ErrorBody};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::domain::Command;
use crate::repository::{TransitionRefused, Transitioned};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cancel))
}

/// Cancel one of the caller's unpaid orders; the ticket is for sale again.
#[utoipa::path(delete, path = "/api/orders/{id}", tag = "orders", operation_id = "cancelOrder",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 204, description = "Cancelled (again, harmlessly)"),
        (status = 400, description = "Cannot cancel a completed order", body = ErrorBody),
        (status = 404, description = "No such order, or someone else's", body = ErrorBody),
    ),
    security(("session" = [])))]
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
