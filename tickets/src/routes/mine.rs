//! `GET /api/tickets/mine`: a page of the seller's own tickets, in every
//! status, newest first, with their codes.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use common::paging::Paged;
use common::session::AuthUser;
use common::{ApiError, ApiResult};

use super::{AppState, TicketView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets/mine", get(mine))
}

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
