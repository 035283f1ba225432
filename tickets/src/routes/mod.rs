//! The tickets service's routes, one file per endpoint, and the ticket as the
//! API shows it.

mod create;
mod list;
mod mine;
mod show;
mod update;
mod withdraw;

use axum::Router;
use axum::extract::FromRef;
use chrono::SecondsFormat;
use common::session::Sessions;
use common::{ApiError, Price};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;

use crate::domain::{Draft, Listing, Status};
use crate::repository::{TicketRecord, Tickets};

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub tickets: Tickets,
    pub sessions: Sessions,
}

/// Every route, each registered with its part of the OpenAPI document.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(create::router())
        .merge(list::router())
        .merge(mine::router())
        .merge(show::router())
        .merge(update::router())
        .merge(withdraw::router())
}

pub fn router(state: AppState) -> Router {
    routes().split_for_parts().0.with_state(state)
}

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// A ticket as the API shows it: the price as a decimal; the code only to
/// those who may see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Ticket)]
struct TicketView {
    #[schema(example = "6650f1c2a3b4c5d6e7f80912")]
    id: String,
    #[schema(example = "Nick Cave, front row")]
    title: String,
    price: Price,
    /// The seller.
    user_id: String,
    /// Goes up by one on every change.
    version: i64,
    /// The order holding or that bought it.
    order_id: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    venue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    starts_at: Option<String>,
    /// What the buyer needs at the door: shown to the seller, and to the
    /// buyer once paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

impl TicketView {
    /// The ticket as `viewer` (signed in or not) may see it.
    fn for_viewer(ticket: TicketRecord, viewer: Option<&str>) -> Self {
        let sees_code =
            crate::domain::holds::sees_code(&ticket.user_id, ticket.holder.as_ref(), viewer);
        let code = ticket.code.clone().filter(|_| sees_code);
        Self {
            code,
            ..Self::from(ticket)
        }
    }
}

impl From<TicketRecord> for TicketView {
    /// The ticket as anyone may see it: without its code.
    fn from(ticket: TicketRecord) -> Self {
        Self {
            order_id: ticket.order_id().map(str::to_string),
            starts_at: ticket
                .starts_at()
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            status: ticket.status,
            id: ticket.id.to_hex(),
            title: ticket.title,
            price: Price::from_cents(ticket.price),
            user_id: ticket.user_id,
            version: ticket.version,
            description: ticket.description,
            venue: ticket.venue,
            code: None,
        }
    }
}

/// The body of create and update. Fields a client may not set are ignored.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TicketInput, example = json!({"title": "Nick Cave, front row", "price": 45.5,
    "venue": "Royal Albert Hall", "startsAt": "2031-06-01T19:30:00Z"}))]
struct TicketInput {
    /// 1 to 200 characters after trimming, at least one visible, no
    /// control characters.
    #[schema(min_length = 1, max_length = 200, pattern = "[^\\s]")]
    title: String,
    /// More than 0, at most 1,000,000, at most two decimals.
    // Read for its type; the amount is read from the text as written.
    #[allow(dead_code)]
    #[schema(
        exclusive_minimum = 0,
        maximum = 1_000_000,
        multiple_of = 0.01,
        example = 45.5
    )]
    price: f64,
    #[serde(default)]
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    venue: Option<String>,
    /// RFC 3339, in the future.
    #[serde(default)]
    #[schema(format = DateTime)]
    starts_at: Option<String>,
    /// What the buyer needs at the door (a barcode's text, a link).
    #[serde(default)]
    #[schema(max_length = 500)]
    code: Option<String>,
}

impl TicketInput {
    /// The validated listing, or a 400 naming every bad field. `body` is
    /// the request as sent, for the price as written.
    fn parse(&self, body: &[u8]) -> Result<Listing, ApiError> {
        let price = common::json::raw_field(body, "price");
        let draft = Draft {
            title: &self.title,
            price: price.as_deref(),
            description: self.description.as_deref(),
            venue: self.venue.as_deref(),
            starts_at: self.starts_at.as_deref(),
            code: self.code.as_deref(),
        };
        Listing::parse(draft, chrono::Utc::now()).map_err(ApiError::BadRequest)
    }
}
