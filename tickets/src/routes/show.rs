//! `GET /api/tickets/:id`: one ticket, whatever its state.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, TicketView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets/{id}", get(show))
}

#[tracing::instrument(skip(state))]
async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<AppJson<TicketView>> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    let ticket = state.tickets.find(id).await?.ok_or(ApiError::NotFound)?;
    Ok(AppJson(ticket.into()))
}
