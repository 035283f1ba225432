//! `GET /api/orders`: the signed-in buyer's orders, newest first.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use common::session::AuthUser;
use common::{ApiResult, AppJson};

use super::{AppState, OrderView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/orders", get(list))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<AppJson<Vec<OrderView>>> {
    let orders = state.orders.of_buyer(&user.id).await?;
    Ok(AppJson(orders.into_iter().map(Into::into).collect()))
}
