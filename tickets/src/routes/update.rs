//! `PUT /api/tickets/:id`: the owner changes title and price while the
//! ticket is for sale.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::put;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, TicketInput, TicketView};
use crate::repository::EditRefused;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets/{id}", put(update))
}

#[tracing::instrument(skip(state, user, body), fields(user_id = %user.id))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<TicketInput>,
) -> ApiResult<AppJson<TicketView>> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    let (title, price) = body.parse()?;
    match state.tickets.edit(id, &user.id, &title, price).await? {
        Ok(ticket) => {
            tracing::info!(version = ticket.version, "ticket edited");
            Ok(AppJson(ticket.into()))
        }
        Err(EditRefused::NotFound) => Err(ApiError::NotFound),
        Err(EditRefused::NotOwner) => Err(ApiError::Forbidden),
        Err(EditRefused::Reserved) => Err(ApiError::bad_request("Cannot edit a reserved ticket")),
    }
}
