//! A ticket's page: its details, its Purchase button, and for its seller
//! (and its buyer once paid) the code that gets them in.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::session::SessionUser;
use maud::{Markup, html};

use super::{AppState, Browser, PageError, PageResult, see_other, signed_in};
use crate::api::{Api, Failure, Ticket};
use crate::views::csrf_field;
use crate::views::{event_facts, money, page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/{id}", get(show))
        .route("/tickets/{id}/purchase", post(purchase))
}

fn ticket_page(ticket: &Ticket, user: Option<&SessionUser>, errors: &[String]) -> Markup {
    let own = user.is_some_and(|user| user.id == ticket.user_id);
    let content = html! {
        div.card {
            (event_facts(ticket.starts_at, ticket.venue.as_deref()))
            p { "Price: " span.price { (money(ticket.price)) } }
            @if let Some(description) = &ticket.description {
                @for paragraph in description.split('\n') { p.description { (paragraph) } }
            }
            @if let Some(code) = &ticket.code {
                div.notice #ticket-code {
                    p { "The ticket's code, for the door: " }
                    p { code { (code) } }
                }
            }
            @if !errors.is_empty() {
                div.alert role="alert" { @for message in errors { p { (message) } } }
            }
            @match (ticket.status.as_str(), user) {
                ("available", Some(_)) if own => {
                    p { "This is your ticket; it is for sale." }
                    p { a href=(format!("/tickets/{}/edit", ticket.id)) { "Edit the listing" } }
                    form method="post" action=(format!("/tickets/{}/withdraw", ticket.id)) {
                        (csrf_field())
                        button type="submit" { "Withdraw from sale" }
                    }
                },
                ("available", Some(_)) => form method="post" action=(format!("/tickets/{}/purchase", ticket.id)) {
                    (csrf_field())
                    button.primary type="submit" { "Purchase" }
                },
                ("available", None) => p { a href="/auth/signin" { "Sign in" } " to buy this ticket." },
                ("reserved", _) => p.status { "Reserved: someone is buying this ticket." },
                ("withdrawn", _) => p.status { "Withdrawn from sale." },
                _ => p.status { "Sold." },
            }
        }
    };
    page(&ticket.title, user, content)
}

async fn show(State(api): State<Api>, browser: Browser, Path(id): Path<String>) -> PageResult {
    let id = super::record_id(&id)?;
    let (user, ticket) = tokio::try_join!(
        api.current_user(browser.session()),
        api.ticket(browser.session(), &id)
    )?;
    let ticket = ticket.ok_or(PageError::NotFound)?;
    Ok(ticket_page(&ticket, user.as_ref(), &[]).into_response())
}

#[tracing::instrument(skip(api, browser))]
async fn purchase(State(api): State<Api>, browser: Browser, Path(id): Path<String>) -> PageResult {
    let id = super::record_id(&id)?;
    let user = signed_in(&api, &browser).await?;
    match api.order_ticket(browser.session(), &id).await {
        Ok(order) => Ok(see_other(&format!("/orders/{}", order.id), Vec::new())),
        Err(Failure::Refused { status, errors }) if status == StatusCode::BAD_REQUEST => {
            let ticket = api
                .ticket(browser.session(), &id)
                .await?
                .ok_or(PageError::NotFound)?;
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
