//! `GET /api/tickets`: a page of the tickets for sale, found by words and
//! price, in the asked order.

use std::collections::HashMap;

use axum::extract::{Query, State};
use common::paging::{PageQuery, Paged};
use common::{ApiError, ApiResult, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, TicketView};
use crate::domain::Catalogue;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The listing's own query, beside the page's.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
struct ListingQuery {
    /// Words that must all appear in the title or the venue (any case).
    q: Option<String>,
    /// The lowest price shown.
    #[param(minimum = 0)]
    min_price: Option<f64>,
    /// The highest price shown.
    #[param(minimum = 0)]
    max_price: Option<f64>,
    /// `newest` (default), `price`, `-price` or `startsAt` (soonest first).
    #[param(pattern = "^(newest|price|-price|startsAt)$")]
    sort: Option<String>,
}

/// A page of the tickets for sale: available, the seller not banned, the
/// event not started.
#[utoipa::path(get, path = "/api/tickets", tag = "tickets", operation_id = "listTickets",
    params(PageQuery, ListingQuery),
    responses(
        (status = 200, description = "A page, newest first unless sorted",
            body = Vec<TicketView>,
            headers(("Link" = String, description = "The next page (RFC 8288), when there is one"))),
        (status = 400, description = "A parameter is invalid (named by `field`)", body = ErrorBody),
    ))]
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
