//! `POST /api/orders`: reserve a ticket for the signed-in buyer.

use axum::extract::State;
use axum::http::StatusCode;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody};
use serde::Deserialize;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, OrderView};
use crate::repository::{PlaceRefused, Placing};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"ticketId": "6650f1c2a3b4c5d6e7f80912"}))]
struct NewOrder {
    /// The ticket to hold.
    ticket_id: String,
}

/// Hold a ticket for the buyer until the order expires.
#[utoipa::path(post, path = "/api/orders", tag = "orders", operation_id = "createOrder",
    request_body = NewOrder,
    responses(
        (status = 201, description = "The ticket is held until `expiresAt`", body = OrderView),
        (status = 400, description = "The ticket is reserved, not for sale, one's own or started; too many unpaid orders; or an invalid id", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
    ),
    security(("session" = [])))]
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
