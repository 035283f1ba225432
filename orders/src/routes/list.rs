//! `GET /api/orders`: a page of the signed-in buyer's orders, newest first.

use std::collections::HashMap;

use axum::extract::{Query, State};
use common::paging::{PageQuery, Paged};
use common::session::AuthUser;
use common::{ApiError, ApiResult, ErrorBody};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, OrderView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// A page of the caller's orders, newest first.
#[utoipa::path(get, path = "/api/orders", tag = "orders", operation_id = "listOrders",
    params(PageQuery),
    responses(
        (status = 200, description = "A page", body = Vec<OrderView>,
            headers(("Link" = String, description = "The next page (RFC 8288), when there is one"))),
        (status = 400, description = "A parameter is invalid (named by `field`)", body = ErrorBody),
    ),
    security(("session" = [])))]
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
