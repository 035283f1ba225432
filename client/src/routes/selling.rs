//! Selling: listing a ticket with its details, editing the listing while it
//! is for sale, withdrawing it, and the seller's own tickets.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use common::session::SessionUser;
use maud::{Markup, html};
use serde::Deserialize;

use super::{AppState, Browser, PageError, PageResult, see_other, signed_in};
use crate::api::{Api, Failure, ListingForm, Ticket};
use crate::views::csrf_field;
use crate::views::{FormErrors, event_facts, field, money, optional_field, page, text_area};

const FIELDS: &[&str] = &["title", "price", "description", "venue", "startsAt", "code"];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tickets/new", get(sell_page).post(sell))
        .route("/tickets/mine", get(mine))
        .route("/tickets/{id}/edit", get(edit_page).post(edit))
        .route("/tickets/{id}/withdraw", post(withdraw))
}

/// The sell or edit form; `id` is the ticket being edited.
fn listing_form(
    user: &SessionUser,
    id: Option<&str>,
    input: &ListingForm,
    errors: &FormErrors,
) -> Markup {
    let (action, title, button) = match id {
        None => ("/tickets/new".to_string(), "Sell a ticket", "Sell"),
        Some(id) => (format!("/tickets/{id}/edit"), "Edit the listing", "Save"),
    };
    let content = html! {
        form.stacked.card method="post" action=(action) novalidate {
            (csrf_field())
            (errors.summary())
            (field("title", "Title", "text", &input.title, errors))
            (field("price", "Price in dollars", "text", &input.price, errors))
            (optional_field("venue", "Venue", "text", &input.venue, errors))
            (optional_field("startsAt", "Starts (UTC)", "datetime-local", &input.starts_at, errors))
            (text_area("description", "Description", &input.description, errors))
            (optional_field("code", "Code for the door (shown to your buyer once paid)", "text", &input.code, errors))
            button.primary type="submit" { (button) }
        }
    };
    page(title, Some(user), content)
}

/// A refused form, again, with the API's errors by field.
fn refused(
    user: &SessionUser,
    id: Option<&str>,
    input: &ListingForm,
    failure: Failure,
) -> PageResult {
    match failure {
        Failure::Refused { status, errors } if status == StatusCode::BAD_REQUEST => Ok((
            StatusCode::BAD_REQUEST,
            listing_form(user, id, input, &FormErrors::new(FIELDS, errors)),
        )
            .into_response()),
        failure => Err(PageError::from(failure)),
    }
}

async fn sell_page(State(api): State<Api>, browser: Browser) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    Ok(listing_form(&user, None, &ListingForm::default(), &FormErrors::none()).into_response())
}

#[tracing::instrument(skip_all)]
async fn sell(
    State(api): State<Api>,
    browser: Browser,
    Form(input): Form<ListingForm>,
) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    match api.save_listing(browser.session(), None, &input).await {
        Ok(ticket) => Ok(see_other(&format!("/tickets/{}", ticket.id), Vec::new())),
        Err(failure) => refused(&user, None, &input, failure),
    }
}

/// The form filled in with the listing as it stands.
fn as_form(ticket: &Ticket) -> ListingForm {
    ListingForm {
        title: ticket.title.clone(),
        price: format!("{:.2}", ticket.price),
        description: ticket.description.clone().unwrap_or_default(),
        venue: ticket.venue.clone().unwrap_or_default(),
        starts_at: ticket
            .starts_at
            .map(|at| at.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        code: ticket.code.clone().unwrap_or_default(),
    }
}

async fn edit_page(State(api): State<Api>, browser: Browser, Path(id): Path<String>) -> PageResult {
    let id = super::record_id(&id)?;
    let user = signed_in(&api, &browser).await?;
    let ticket = api
        .ticket(browser.session(), &id)
        .await?
        .ok_or(PageError::NotFound)?;
    if ticket.user_id != user.id {
        return Err(PageError::Forbidden);
    }
    Ok(listing_form(&user, Some(&id), &as_form(&ticket), &FormErrors::none()).into_response())
}

#[tracing::instrument(skip(api, browser, input))]
async fn edit(
    State(api): State<Api>,
    browser: Browser,
    Path(id): Path<String>,
    Form(input): Form<ListingForm>,
) -> PageResult {
    let id = super::record_id(&id)?;
    let user = signed_in(&api, &browser).await?;
    match api.save_listing(browser.session(), Some(&id), &input).await {
        Ok(ticket) => Ok(see_other(&format!("/tickets/{}", ticket.id), Vec::new())),
        Err(failure) => refused(&user, Some(&id), &input, failure),
    }
}

#[tracing::instrument(skip(api, browser))]
async fn withdraw(State(api): State<Api>, browser: Browser, Path(id): Path<String>) -> PageResult {
    let id = super::record_id(&id)?;
    signed_in(&api, &browser).await?;
    match api.withdraw(browser.session(), &id).await {
        Ok(()) => Ok(see_other("/tickets/mine", Vec::new())),
        Err(failure) => Err(PageError::from(failure)),
    }
}

#[derive(Deserialize)]
struct Page {
    after: Option<String>,
}

async fn mine(State(api): State<Api>, browser: Browser, Query(at): Query<Page>) -> PageResult {
    let user = signed_in(&api, &browser).await?;
    let shelf = api
        .my_tickets(browser.session(), at.after.as_deref())
        .await?;
    let content = html! {
        p { a href="/tickets/new" { "Sell another ticket" } }
        @if shelf.items.is_empty() {
            p { "You have no tickets listed." }
        } @else {
            table {
                thead { tr { th scope="col" { "Ticket" } th scope="col" { "Price" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for ticket in &shelf.items {
                        tr {
                            td {
                                a href=(format!("/tickets/{}", ticket.id)) { (ticket.title) }
                                (event_facts(ticket.starts_at, ticket.venue.as_deref()))
                            }
                            td.price { (money(ticket.price)) }
                            td.status { (status_label(&ticket.status)) }
                            td {
                                @if ticket.status == "available" {
                                    form method="post" action=(format!("/tickets/{}/withdraw", ticket.id)) {
                                        (csrf_field())
                                        button type="submit" aria-label=(format!("Withdraw {}", ticket.title)) { "Withdraw" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &shelf.next {
            nav.pager aria-label="Pages" { a rel="next" href=(format!("/tickets/mine?after={next}")) { "Next →" } }
        }
    };
    Ok(page("My listings", Some(&user), content).into_response())
}

fn status_label(status: &str) -> &'static str {
    match status {
        "available" => "For sale",
        "reserved" => "Reserved",
        "sold" => "Sold",
        "withdrawn" => "Withdrawn",
        _ => "Unknown",
    }
}
