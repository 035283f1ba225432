//! `GET /api/orders/:id`: one of the buyer's orders. Someone else's order is
//! a 404, so that ids cannot be probed.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use common::session::AuthUser;
use common::{ApiError, ApiResult, AppJson};

use super::{AppState, OrderView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/orders/{id}", get(show))
}

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
