//! `PUT /api/tickets/:id`: the owner rewrites the listing while the ticket
//! is for sale.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::put;
use common::json::AppJsonWithRaw;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, TicketInput, TicketView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets/{id}", put(update))
}

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
