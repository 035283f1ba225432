//! `POST /api/tickets`: list a ticket for sale.

use axum::extract::State;
use axum::http::StatusCode;
use common::json::AppJsonWithRaw;
use common::session::AuthUser;
use common::{ApiResult, AppJson, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, TicketInput, TicketView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

/// List a ticket for sale.
#[utoipa::path(post, path = "/api/tickets", tag = "tickets", operation_id = "createTicket",
    request_body = TicketInput,
    responses(
        (status = 201, description = "Listed, with its code", body = TicketView),
        (status = 400, description = "A field is invalid (named by `field`)", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    AppJsonWithRaw(body, raw): AppJsonWithRaw<TicketInput>,
) -> ApiResult<(StatusCode, AppJson<TicketView>)> {
    let listing = body.parse(&raw)?;
    let ticket = state.tickets.create(&listing, &user.id).await?;
    tracing::info!(ticket_id = %ticket.id, "ticket listed");
    Ok((
        StatusCode::CREATED,
        AppJson(TicketView::for_viewer(ticket, Some(&user.id))),
    ))
}
