//! `/`: the tickets for sale.

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;

use super::{AppState, Browser, PageResult};
use crate::api::Api;
use crate::views::{money, page};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[tracing::instrument(skip_all)]
async fn home(State(api): State<Api>, browser: Browser) -> PageResult {
    let (user, tickets) =
        tokio::try_join!(api.current_user(browser.session()), api.tickets_for_sale())?;
    let content = html! {
        @if tickets.is_empty() {
            p { "No tickets are for sale right now." }
        } @else {
            ul.tickets aria-label="Tickets for sale" {
                @for ticket in &tickets {
                    li {
                        a href=(format!("/tickets/{}", ticket.id)) { (ticket.title) }
                        span.price { (money(ticket.price)) }
                    }
                }
            }
        }
    };
    Ok(page("Tickets for sale", user.as_ref(), content).into_response())
}
