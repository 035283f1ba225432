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

use crate::domain::{Draft, Listing, Status};
use crate::repository::{TicketRecord, Tickets};

/// What every handler of this service can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub tickets: Tickets,
    pub sessions: Sessions,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(create::router())
        .merge(list::router())
        .merge(mine::router())
        .merge(show::router())
        .merge(update::router())
        .merge(withdraw::router())
        .with_state(state)
}

/// A ticket as the API shows it: the price as a decimal; the code only to
/// those who may see it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketView {
    id: String,
    title: String,
    price: Price,
    user_id: String,
    version: i64,
    order_id: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    venue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    starts_at: Option<String>,
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
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketInput {
    title: String,
    /// Read for its type; the amount is read from the text as written.
    #[allow(dead_code)]
    price: f64,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    venue: Option<String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
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
