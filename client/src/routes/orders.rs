//! The buyer's orders, and an order's page: a countdown and the payment
//! form while it can be paid, and a clear state once it is paid, expired or
//! cancelled.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use common::events::OrderStatus;
use common::session::SessionUser;
use maud::{Markup, html};
use serde::Deserialize;

use super::{AppState, Browser, PageError, PageResult, StripeJs, see_other, signed_in};
use crate::api::{Api, Failure, Order, Payment};
use crate::assets;
use crate::views::csrf_field;
use crate::views::{money, page};

/// What the order page says after a 3-D Secure check that failed.
const AUTHENTICATION_FAILED: &str =
    "Your bank did not confirm the payment. Try again, or use another card.";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list))
        .route("/orders/{id}", get(show))
        .route("/orders/{id}/pay", post(pay))
        .route("/orders/{id}/paid", get(paid))
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

#[derive(Deserialize)]
struct ListQuery {
    after: Option<String>,
}

async fn list(State(api): State<Api>, browser: Browser, Query(at): Query<ListQuery>) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    let shelf = api.orders(browser.session(), at.after.as_deref()).await?;
    let orders = shelf.items;
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
        @if let Some(next) = &shelf.next {
            nav.pager aria-label="Pages" { a rel="next" href=(format!("/orders?after={next}")) { "Next →" } }
        }
    };
    Ok(page("My orders", Some(&user), content).into_response())
}

/// The order's page; `code` is the paid ticket's code for the door.
fn order_page(
    order: &Order,
    user: &SessionUser,
    stripe: &StripeJs,
    error: Option<&str>,
    code: Option<&str>,
) -> Markup {
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
                        (csrf_field())
                        div.field {
                            label for="card-element" { "Card" }
                            div #card-element {}
                        }
                        input type="hidden" name="token" #token;
                        p.error #card-errors role="alert" {}
                        button.primary type="submit" { "Pay " (money(order.ticket.price)) }
                    }
                    script src=(stripe.url) {}
                    script src=(assets::url("order.js")) {}
                }
                Shown::Paid => div.notice role="status" {
                    p { "Paid. The ticket is yours." }
                    @if let Some(code) = code {
                        p #ticket-code { "Its code, for the door: " code { (code) } }
                    }
                },
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

#[derive(Deserialize)]
struct ShowQuery {
    /// `failed` after a 3-D Secure check the bank refused.
    payment: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let id = super::record_id(&id)?;
    let user = signed_in(&state.api, &browser).await?;
    let order = state
        .api
        .order(browser.session(), &id)
        .await?
        .ok_or(PageError::NotFound)?;
    let error = (query.payment.as_deref() == Some("failed")).then_some(AUTHENTICATION_FAILED);
    // Once paid, the ticket's code is the buyer's to see.
    let code = match order.status {
        OrderStatus::Complete => state
            .api
            .ticket(browser.session(), &order.ticket.id)
            .await?
            .and_then(|ticket| ticket.code),
        _ => None,
    };
    Ok(order_page(&order, &user, &state.stripe, error, code.as_deref()).into_response())
}

/// After the bank confirmed a payment: the order page, once orders has
/// heard of it (or after a few seconds, saying what it knows).
async fn paid(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> PageResult {
    let id = super::record_id(&id)?;
    signed_in(&state.api, &browser).await?;
    settled(&state.api, &browser, &id).await;
    Ok(see_other(&format!("/orders/{id}"), Vec::new()))
}

/// The 3-D Secure step: Stripe.js completes it, then the page moves on.
fn authenticate_page(order: &Order, user: &SessionUser, stripe: &StripeJs, secret: &str) -> Markup {
    let content = html! {
        div.card #authenticate data-key=(stripe.publishable_key) data-secret=(secret)
            data-order=(format!("/orders/{}", order.id)) {
            p { "Your bank asks you to confirm the payment of " (money(order.ticket.price)) " for " (order.ticket.title) "." }
            p.notice role="status" { "Waiting for your bank…" }
            noscript { p.alert { "Confirming with your bank needs JavaScript." } }
        }
        script src=(stripe.url) {}
        script src=(assets::url("authenticate.js")) {}
    };
    page("Confirm the payment", Some(user), content)
}

#[derive(Deserialize)]
struct PaymentForm {
    #[serde(default)]
    token: String,
}

#[tracing::instrument(skip(state, browser, payment))]
async fn pay(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Form(payment): Form<PaymentForm>,
) -> PageResult {
    let id = super::record_id(&id)?;
    let user = signed_in(&state.api, &browser).await?;
    match state.api.pay(browser.session(), &id, &payment.token).await {
        Ok(Payment {
            client_secret: Some(secret),
            ..
        }) => {
            let order = state
                .api
                .order(browser.session(), &id)
                .await?
                .ok_or(PageError::NotFound)?;
            Ok(authenticate_page(&order, &user, &state.stripe, &secret).into_response())
        }
        Ok(_) => {
            settled(&state.api, &browser, &id).await;
            Ok(see_other(&format!("/orders/{id}"), Vec::new()))
        }
        Err(Failure::Refused { status, errors })
            if status == StatusCode::BAD_REQUEST || status == StatusCode::PAYMENT_REQUIRED =>
        {
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
                status,
                order_page(&order, &user, &state.stripe, Some(message), None),
            )
                .into_response())
        }
        Err(failure) => Err(PageError::from(failure)),
    }
}

/// Waits briefly for the orders service to hear of the payment, so that the
/// page the buyer lands on says "Paid" rather than offering to pay again.
async fn settled(api: &Api, browser: &Browser, id: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
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
