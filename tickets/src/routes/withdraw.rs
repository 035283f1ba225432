//! `DELETE /api/tickets/:id`: the owner takes an available ticket off sale;
//! orders then refuses it. A reserved or sold one stays.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use common::session::AuthUser;
use common::{ApiError, ApiResult, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::domain::EditRefused;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(withdraw))
}

/// Take one's own available ticket off sale.
#[utoipa::path(delete, path = "/api/tickets/{id}", tag = "tickets", operation_id = "withdrawTicket",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 204, description = "Withdrawn from sale"),
        (status = 400, description = "The ticket is reserved or sold", body = ErrorBody),
        (status = 403, description = "Not the seller, or the account is suspended", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
    ),
    security(("session" = [])))]
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
