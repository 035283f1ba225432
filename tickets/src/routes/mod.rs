//! The tickets service's routes, one file per endpoint, and the ticket as the
//! API shows it.

mod create;
mod list;
mod show;
mod update;

use axum::Router;
use axum::extract::FromRef;
use common::session::Sessions;
use common::{ApiError, ErrorItem, Price};
use serde::{Deserialize, Serialize};

use crate::domain::Title;
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
        .merge(show::router())
        .merge(update::router())
        .with_state(state)
}

/// Where a ticket is in its life, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum TicketStatus {
    Available,
    Reserved,
    Sold,
}

/// A ticket as the API shows it: the price as a decimal.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketView {
    id: String,
    title: String,
    price: Price,
    user_id: String,
    version: i64,
    order_id: Option<String>,
    status: TicketStatus,
}

impl From<TicketRecord> for TicketView {
    fn from(ticket: TicketRecord) -> Self {
        let status = match (ticket.sold, &ticket.order_id) {
            (true, _) => TicketStatus::Sold,
            (false, Some(_)) => TicketStatus::Reserved,
            (false, None) => TicketStatus::Available,
        };
        Self {
            id: ticket.id.to_hex(),
            title: ticket.title,
            price: Price::from_cents(ticket.price),
            user_id: ticket.user_id,
            version: ticket.version,
            order_id: ticket.order_id,
            status,
        }
    }
}

/// The body of create and update. Fields a client may not set are ignored.
#[derive(Deserialize)]
struct TicketInput {
    title: String,
    price: f64,
}

impl TicketInput {
    /// The validated title and price, or a 400 naming every bad field.
    fn parse(&self) -> Result<(Title, Price), ApiError> {
        match (Title::parse(&self.title), Price::parse(self.price)) {
            (Ok(title), Ok(price)) => Ok((title, price)),
            (title, price) => {
                let mut errors = Vec::new();
                if let Err(message) = title {
                    errors.push(ErrorItem::field("title", message));
                }
                if let Err(message) = price {
                    errors.push(ErrorItem::field("price", message));
                }
                Err(ApiError::BadRequest(errors))
            }
        }
    }
}
