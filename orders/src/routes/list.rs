//! `GET /api/orders`: a page of the signed-in buyer's orders, newest first.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use common::paging::Paged;
use common::session::AuthUser;
use common::{ApiError, ApiResult};

use super::{AppState, OrderView};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/orders", get(list))
}

#[tracing::instrument(skip_all, fields(user_id = %user.id))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Paged<OrderView>> {
    let named: HashMap<String, String> = params.iter().cloned().collect();
    let (limit, after) = common::paging::by_id(&named).map_err(ApiError::BadRequest)?;
    let page = state.orders.of_buyer(&user.id, limit, after).await?;
    Ok(Paged {
        page: page.map(OrderView::from),
        path: "/api/orders".into(),
        query: params,
    })
}
