//! `PUT /api/tickets/:id`: the owner rewrites the listing while the ticket
//! is for sale.

use axum::extract::{Path, State};
use common::json::AppJsonWithRaw;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, TicketInput, TicketView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(update))
}

/// Rewrite the listing of one's own ticket while it is for sale.
#[utoipa::path(put, path = "/api/tickets/{id}", tag = "tickets", operation_id = "updateTicket",
    params(("id" = String, Path, description = "The ticket's id")),
    request_body = TicketInput,
    responses(
        (status = 200, description = "Edited; its version went up by one", body = TicketView),
        (status = 400, description = "A field is invalid, or the ticket is reserved, sold or withdrawn", body = ErrorBody),
        (status = 403, description = "Not the seller, or the account is suspended", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip(state, user, body, raw), fields(user_id = %user.id))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    AppJsonWithRaw(body, raw): AppJsonWithRaw<TicketInput>,
) -> ApiResult<AppJson<TicketView>> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    let listing = body.parse(&raw)?;
    let ticket = state
        .tickets
        .edit(id, &user.id, &listing)
        .await?
        .map_err(super::withdraw::refusal)?;
    tracing::info!(version = ticket.version, "ticket edited");
    Ok(AppJson(TicketView::for_viewer(ticket, Some(&user.id))))
}
