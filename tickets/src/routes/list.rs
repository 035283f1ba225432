//! `GET /api/tickets`: a page of the tickets for sale, found by words and
//! price, in the asked order.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use common::paging::Paged;
use common::{ApiError, ApiResult};

use super::{AppState, TicketView};
use crate::domain::Catalogue;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/tickets", get(list))
}

#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    Query(params): Query<Vec<(String, String)>>,
) -> ApiResult<Paged<TicketView>> {
    let named: HashMap<String, String> = params.iter().cloned().collect();
    let catalogue = Catalogue::parse(&named).map_err(ApiError::BadRequest)?;
    let page = state.tickets.for_sale(&catalogue).await?;
    Ok(Paged {
        page: page.map(TicketView::from),
        path: "/api/tickets".into(),
        query: params,
    })
}
