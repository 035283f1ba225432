//! `POST /api/tickets`: list a ticket for sale.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::json::AppJsonWithRaw;
use common::session::AuthUser;
use common::{ApiResult, AppJson};

use super::{AppState, TicketInput, TicketView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets", post(create))
}

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
