//! Selling a ticket, and a ticket's page with its Purchase button.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::ErrorItem;
use common::session::SessionUser;
use maud::{Markup, html};
use serde::Deserialize;

use super::{AppState, Browser, PageError, PageResult, see_other, signed_in};
use crate::api::{Api, Failure, Ticket};
use crate::views::{FormErrors, field, money, page};

const SELL_FIELDS: &[&str] = &["title", "price"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/new", get(sell_page).post(sell))
        .route("/tickets/{id}", get(show))
        .route("/tickets/{id}/purchase", post(purchase))
}

#[derive(Deserialize, Default)]
struct NewTicket {
    #[serde(default)]
    title: String,
    #[serde(default)]
    price: String,
}

fn sell_form(user: &SessionUser, input: &NewTicket, errors: &FormErrors) -> Markup {
    let content = html! {
        form.stacked.card method="post" action="/tickets/new" novalidate {
            (errors.summary())
            (field("title", "Title", "text", &input.title, errors))
            (field("price", "Price in dollars", "text", &input.price, errors))
            button.primary type="submit" { "Sell" }
        }
    };
    page("Sell a ticket", Some(user), content)
}

async fn sell_page(State(api): State<Api>, browser: Browser) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    Ok(sell_form(&user, &NewTicket::default(), &FormErrors::none()).into_response())
}

#[tracing::instrument(skip_all)]
async fn sell(
    State(api): State<Api>,
    browser: Browser,
    Form(input): Form<NewTicket>,
) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    let refused = |errors| {
        Ok((
            StatusCode::BAD_REQUEST,
            sell_form(&user, &input, &FormErrors::new(SELL_FIELDS, errors)),
        )
            .into_response())
    };
    let Ok(price) = input.price.trim().parse::<f64>() else {
        return refused(vec![ErrorItem::field(
            "price",
            "Price must be a number, such as 12.50",
        )]);
    };
    match api.sell(browser.session(), &input.title, price).await {
        Ok(ticket) => Ok(see_other(&format!("/tickets/{}", ticket.id), Vec::new())),
        Err(Failure::Refused { status, errors }) if status == StatusCode::BAD_REQUEST => {
            refused(errors)
        }
        Err(failure) => Err(PageError::from(failure)),
    }
}

fn ticket_page(ticket: &Ticket, user: Option<&SessionUser>, errors: &[String]) -> Markup {
    let content = html! {
        div.card {
            p { "Price: " span.price { (money(ticket.price)) } }
            @if !errors.is_empty() {
                div.alert role="alert" { @for message in errors { p { (message) } } }
            }
            @match (ticket.status.as_str(), user) {
                ("available", Some(user)) if user.id == ticket.user_id => p { "This is your ticket; it is for sale." },
                ("available", Some(_)) => form method="post" action=(format!("/tickets/{}/purchase", ticket.id)) {
                    button.primary type="submit" { "Purchase" }
                },
                ("available", None) => p { a href="/auth/signin" { "Sign in" } " to buy this ticket." },
                ("reserved", _) => p.status { "Reserved: someone is buying this ticket." },
                _ => p.status { "Sold." },
            }
        }
    };
    page(&ticket.title, user, content)
}

async fn show(State(api): State<Api>, browser: Browser, Path(id): Path<String>) -> PageResult {
    let (user, ticket) = tokio::try_join!(api.current_user(browser.session()), api.ticket(&id))?;
    let ticket = ticket.ok_or(PageError::NotFound)?;
    Ok(ticket_page(&ticket, user.as_ref(), &[]).into_response())
}

#[tracing::instrument(skip(api, browser))]
async fn purchase(State(api): State<Api>, browser: Browser, Path(id): Path<String>) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    match api.order_ticket(browser.session(), &id).await {
        Ok(order) => Ok(see_other(&format!("/orders/{}", order.id), Vec::new())),
        Err(Failure::Refused { status, errors }) if status == StatusCode::BAD_REQUEST => {
            let ticket = api.ticket(&id).await?.ok_or(PageError::NotFound)?;
            let messages: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            Ok((
                StatusCode::BAD_REQUEST,
                ticket_page(&ticket, Some(&user), &messages),
            )
                .into_response())
        }
        Err(failure) => Err(PageError::from(failure)),
    }
}
