//! The orders service's routes, one file per endpoint, and the order as the
//! API shows it.

mod cancel;
mod create;
mod list;
mod show;

use axum::Router;
use axum::extract::FromRef;
use chrono::{DateTime, SecondsFormat, Utc};
use common::Price;
use common::events::OrderStatus;
use common::session::Sessions;
use serde::{Serialize, Serializer};
use utoipa_axum::router::OpenApiRouter;

use crate::repository::{OrderRecord, Orders};

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub orders: Orders,
    pub sessions: Sessions,
    /// How long a new order holds its ticket.
    pub expiration_window: chrono::Duration,
    /// Unpaid orders a buyer may have at once.
    pub max_open_orders: i64,
    /// Who is banned: their tickets are not for sale.
    pub revocations: common::revocations::Revocations,
}

/// Every route, each registered with its part of the OpenAPI document.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(create::router())
        .merge(list::router())
        .merge(show::router())
        .merge(cancel::router())
}

pub fn router(state: AppState) -> Router {
    routes().split_for_parts().0.with_state(state)
}

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// An order as the API shows it: the price as a decimal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Order)]
struct OrderView {
    id: String,
    /// The buyer.
    user_id: String,
    status: OrderStatus,
    /// When the hold lapses unless paid.
    #[serde(serialize_with = "millis")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: DateTime<Utc>,
    version: i64,
    ticket: TicketView,
    /// The order was paid while it was being cancelled, and the payment refunded.
    refunded: bool,
}

/// The ticket as the order holds it, at the price it was placed at.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderTicket)]
struct TicketView {
    id: String,
    title: String,
    price: Price,
}

impl From<OrderRecord> for OrderView {
    fn from(order: OrderRecord) -> Self {
        Self {
            id: order.id.to_hex(),
            user_id: order.user_id.clone(),
            status: order.status,
            expires_at: order.expires_at(),
            version: order.version,
            ticket: TicketView {
                id: order.ticket.id,
                title: order.ticket.title,
                price: Price::from_cents(order.ticket.price),
            },
            refunded: order.refund_id.is_some(),
        }
    }
}

/// RFC 3339 in UTC with milliseconds, as JavaScript's `Date` prints it.
fn millis<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}
