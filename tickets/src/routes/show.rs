//! `GET /api/tickets/:id`: one ticket, whatever its state; its code to its
//! seller, and to its buyer once paid.

use axum::extract::{Path, State};
use common::session::MaybeUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, TicketView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show))
}

/// One ticket in any status; its code only to its seller, and to its buyer
/// once the order is paid.
#[utoipa::path(get, path = "/api/tickets/{id}", tag = "tickets", operation_id = "showTicket",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "The ticket", body = TicketView),
        (status = 404, description = "No such ticket", body = ErrorBody),
    ))]
#[tracing::instrument(skip(state, viewer))]
async fn show(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<AppJson<TicketView>> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    let ticket = state.tickets.find(id).await?.ok_or(ApiError::NotFound)?;
    Ok(AppJson(TicketView::for_viewer(
        ticket,
        viewer.as_ref().map(|u| u.id.as_str()),
    )))
}
