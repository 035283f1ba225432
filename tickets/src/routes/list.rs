//! `GET /api/tickets`: the tickets for sale.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use common::{ApiResult, AppJson};

use super::{AppState, TicketView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets", get(list))
}

#[tracing::instrument(skip_all)]
async fn list(State(state): State<AppState>) -> ApiResult<AppJson<Vec<TicketView>>> {
    let tickets = state.tickets.for_sale().await?;
    Ok(AppJson(tickets.into_iter().map(Into::into).collect()))
}
