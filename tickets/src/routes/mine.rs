//! `GET /api/tickets/mine`: a page of the seller's own tickets, in every
//! status, newest first, with their codes.

use std::collections::HashMap;

use axum::extract::{Query, State};
use common::paging::{PageQuery, Paged};
use common::session::AuthUser;
use common::{ApiError, ApiResult, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, TicketView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(mine))
}

/// A page of the caller's own tickets, in every status, newest first.
#[utoipa::path(get, path = "/api/tickets/mine", tag = "tickets", operation_id = "myTickets",
    params(PageQuery),
    responses(
        (status = 200, description = "A page, with each ticket's code", body = Vec<TicketView>,
            headers(("Link" = String, description = "The next page (RFC 8288), when there is one"))),
        (status = 400, description = "A parameter is invalid (named by `field`)", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn mine(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Paged<TicketView>> {
    let named: HashMap<String, String> = params.iter().cloned().collect();
    let (limit, after) = common::paging::by_id(&named).map_err(ApiError::BadRequest)?;
    let page = state.tickets.of_seller(&user.id, limit, after).await?;
    Ok(Paged {
        page: page.map(|ticket| TicketView::for_viewer(ticket, Some(&user.id))),
        path: "/api/tickets/mine".into(),
        query: params,
    })
}
