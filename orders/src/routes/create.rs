//! `POST /api/orders`: reserve a ticket for the signed-in buyer.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson};
use serde::Deserialize;

use super::{AppState, OrderView};
use crate::repository::PlaceRefused;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/orders", post(create))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewOrder {
    ticket_id: String,
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    AppJson(body): AppJson<NewOrder>,
) -> ApiResult<(StatusCode, AppJson<OrderView>)> {
    let ticket_id = common::mongo::parse_id(&body.ticket_id)
        .ok_or_else(|| ApiError::invalid("ticketId", "ticketId must be a valid id"))?;
    let expires_at = chrono::Utc::now() + state.expiration_window;
    match state.orders.place(&user.id, ticket_id, expires_at).await? {
        Ok(order) => {
            tracing::info!(order_id = %order.id, %ticket_id, "order placed");
            Ok((StatusCode::CREATED, AppJson(order.into())))
        }
        Err(PlaceRefused::UnknownTicket) => Err(ApiError::NotFound),
        Err(PlaceRefused::OwnTicket) => Err(ApiError::invalid(
            "ticketId",
            "You cannot order your own ticket",
        )),
        Err(PlaceRefused::Reserved) => Err(ApiError::bad_request("Ticket is already reserved")),
    }
}
