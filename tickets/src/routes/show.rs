//! `GET /api/tickets/:id`: one ticket, whatever its state; its code to its
//! seller, and to its buyer once paid.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::session::MaybeUser;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, TicketView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets/{id}", get(show))
}

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
