//! The buyer's orders, and an order's page: a countdown and the payment
//! form while it can be paid, and a clear state once it is paid, expired or
//! cancelled.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use common::events::OrderStatus;
use common::session::SessionUser;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::{AppState, Browser, PageError, PageResult, StripeJs, see_other, signed_in};
use crate::api::{Api, Failure, Order};
use crate::views::{money, page};

const SCRIPT: &str = include_str!("../assets/order.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/pay", post(pay))
}

/// What the buyer is told about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    AwaitingPayment,
    Paid,
    Expired,
    Cancelled,
}

impl Shown {
    /// An order past its time cannot be paid, even before expiration has
    /// cancelled it; a cancelled order past its time expired.
    pub fn of(order: &Order, now: DateTime<Utc>) -> Self {
        match order.status {
            OrderStatus::Complete => Self::Paid,
            OrderStatus::Created | OrderStatus::Cancelled if now >= order.expires_at => {
                Self::Expired
            }
            OrderStatus::Created => Self::AwaitingPayment,
            OrderStatus::Cancelled => Self::Cancelled,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "Awaiting payment",
            Self::Paid => "Paid",
            Self::Expired => "Expired",
            Self::Cancelled => "Cancelled",
        }
    }
}

async fn list(State(api): State<Api>, browser: Browser) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    let orders = api.orders(browser.session()).await?;
    let now = Utc::now();
    let content = html! {
        @if orders.is_empty() {
            p { "You have no orders yet." }
        } @else {
            table {
                thead { tr { th scope="col" { "Ticket" } th scope="col" { "Status" } } }
                tbody {
                    @for order in &orders {
                        tr {
                            td { a href=(format!("/orders/{}", order.id)) { (order.ticket.title) } }
                            td.status { (Shown::of(order, now).label()) }
                        }
                    }
                }
            }
        }
    };
    Ok(page("My orders", Some(&user), content).into_response())
}

fn order_page(order: &Order, user: &SessionUser, stripe: &StripeJs, error: Option<&str>) -> Markup {
    let shown = Shown::of(order, Utc::now());
    let expires_at = order
        .expires_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let content = html! {
        div.card {
            p { "Ticket: " a href=(format!("/tickets/{}", order.ticket.id)) { (order.ticket.title) } }
            p { "Price: " span.price { (money(order.ticket.price)) } }
            p { "Status: " span.status #order-status { (shown.label()) } }
            @match shown {
                Shown::AwaitingPayment => {
                    p { "Time left to pay: " span #countdown data-expires-at=(expires_at) role="timer" aria-live="off" { "…" } }
                    p.alert #expired-note role="status" hidden { "This order has expired." }
                    @if let Some(message) = error {
                        div.alert role="alert" { p { (message) } }
                    }
                    form #payment-form.stacked method="post" action=(format!("/orders/{}/pay", order.id)) data-key=(stripe.publishable_key) {
                        div.field {
                            label for="card-element" { "Card" }
                            div #card-element {}
                        }
                        input type="hidden" name="token" #token;
                        p.error #card-errors role="alert" {}
                        button.primary type="submit" { "Pay " (money(order.ticket.price)) }
                    }
                    script src=(stripe.url) {}
                    script { (PreEscaped(SCRIPT)) }
                }
                Shown::Paid => p.notice role="status" { "Paid. The ticket is yours." },
                Shown::Expired => p.alert role="status" {
                    "This order expired before it was paid; the ticket was released."
                    @if order.refunded { " A payment made at the last moment was refunded." }
                },
                Shown::Cancelled => p.alert role="status" {
                    "This order was cancelled."
                    @if order.refunded { " Its payment was refunded." }
                },
            }
        }
    };
    page("Order", Some(user), content)
}

async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> PageResult {
    let user = signed_in(&state.api, &browser).await?;
    let order = state
        .api
        .order(browser.session(), &id)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(order_page(&order, &user, &state.stripe, None).into_response())
}

#[derive(Deserialize)]
struct Payment {
    #[serde(default)]
    token: String,
}

#[tracing::instrument(skip(state, browser, payment))]
async fn pay(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Form(payment): Form<Payment>,
) -> PageResult {
    let user = signed_in(&state.api, &browser).await?;
    match state.api.pay(browser.session(), &id, &payment.token).await {
        Ok(()) => {
            settled(&state.api, &browser, &id).await;
            Ok(see_other(&format!("/orders/{id}"), Vec::new()))
        }
        Err(Failure::Refused { status, errors }) if status == StatusCode::BAD_REQUEST => {
            let order = state
                .api
                .order(browser.session(), &id)
                .await?
                .ok_or(PageError::NotFound)?;
            let message = errors
                .first()
                .map(|e| e.message.as_str())
                .unwrap_or("The payment failed");
            Ok((
                StatusCode::BAD_REQUEST,
                order_page(&order, &user, &state.stripe, Some(message)),
            )
                .into_response())
        }
        Err(failure) => Err(PageError::from(failure)),
    }
}

/// Waits briefly for the orders service to hear of the payment, so that the
/// page the buyer lands on says "Paid" rather than offering to pay again.
async fn settled(api: &Api, browser: &Browser, id: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        match api.order(browser.session(), id).await {
            Ok(Some(order)) if order.status != OrderStatus::Created => return,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::OrderedTicket;

    fn order(status: OrderStatus, expires_in: chrono::Duration) -> Order {
        Order {
            id: "o1".into(),
            status,
            expires_at: Utc::now() + expires_in,
            ticket: OrderedTicket {
                id: "t1".into(),
                title: "Concert".into(),
                price: 12.5,
            },
            refunded: false,
        }
    }

    #[test]
    fn a_created_order_within_its_window_awaits_payment() {
        let order = order(OrderStatus::Created, chrono::Duration::minutes(5));
        assert_eq!(Shown::of(&order, Utc::now()), Shown::AwaitingPayment);
    }

    #[test]
    fn an_order_past_its_window_is_expired_even_before_it_is_cancelled() {
        let order = order(OrderStatus::Created, chrono::Duration::seconds(-1));
        assert_eq!(Shown::of(&order, Utc::now()), Shown::Expired);
        let cancelled = self::order(OrderStatus::Cancelled, chrono::Duration::seconds(-1));
        assert_eq!(Shown::of(&cancelled, Utc::now()), Shown::Expired);
    }

    #[test]
    fn a_paid_order_stays_paid_after_its_window() {
        let order = order(OrderStatus::Complete, chrono::Duration::seconds(-1));
        assert_eq!(Shown::of(&order, Utc::now()), Shown::Paid);
    }

    #[test]
    fn an_order_cancelled_within_its_window_is_cancelled() {
        let order = order(OrderStatus::Cancelled, chrono::Duration::minutes(5));
        assert_eq!(Shown::of(&order, Utc::now()), Shown::Cancelled);
    }
}
