//! `POST /api/orders`: reserve a ticket for the signed-in buyer.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson};
use serde::Deserialize;

use super::{AppState, OrderView};
use crate::repository::{PlaceRefused, Placing};

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
    let placing = Placing {
        buyer: &user.id,
        ticket: ticket_id,
        expires_at,
        window: state.expiration_window,
        max_open: state.max_open_orders,
        revocations: &state.revocations,
    };
    match state.orders.place(placing).await? {
        Ok(order) => {
            tracing::info!(order_id = %order.id, %ticket_id, "order placed");
            Ok((StatusCode::CREATED, AppJson(order.into())))
        }
        Err(PlaceRefused::UnknownTicket) => Err(ApiError::NotFound),
        Err(refused @ PlaceRefused::OwnTicket) => {
            Err(ApiError::invalid("ticketId", refused.to_string()))
        }
        Err(refused) => Err(ApiError::bad_request(refused.to_string())),
    }
}
