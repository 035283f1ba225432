//! `GET /api/orders/:id`: one of the buyer's orders. Someone else's order is
//! a 404, so that ids cannot be probed.

use axum::extract::{Path, State};
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson, ErrorBody};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, OrderView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show))
}

/// One of the caller's orders.
#[utoipa::path(get, path = "/api/orders/{id}", tag = "orders", operation_id = "showOrder",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such order, or someone else's", body = ErrorBody),
    ),
    security(("session" = [])))]
#[tracing::instrument(skip(state, user), fields(user_id = %user.id))]
async fn show(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<AppJson<OrderView>> {
    let id = common::mongo::parse_id(&id).ok_or(ApiError::NotFound)?;
    let order = state
        .orders
        .find(id, Some(&user.id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(AppJson(order.into()))
}
