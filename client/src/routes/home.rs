//! `/`: the tickets for sale, searched by words, price and order, a page at
//! a time. The search is a plain GET form; the pages are links, which carry
//! the cursors of the pages before them so that "Previous" works without
//! JavaScript.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};

use super::{AppState, Browser, PageResult};
use crate::api::{Api, Failure, Shelf, Ticket};
use crate::views::{event_facts, money, page};

/// The listing's parameters the home page passes on.
const SEARCH: [&str; 4] = ["q", "sort", "minPrice", "maxPrice"];
const SORTS: [(&str, &str); 4] = [
    ("newest", "Newest"),
    ("price", "Price, lowest first"),
    ("-price", "Price, highest first"),
    ("startsAt", "Soonest event"),
];
/// How the first page is named among the cursors of pages before this one.
const FIRST: &str = "first";

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[tracing::instrument(skip_all)]
async fn home(
    State(api): State<Api>,
    browser: Browser,
    Query(params): Query<HashMap<String, String>>,
) -> PageResult {
    let get = Params(&params);
    let get = |name: &str| get.get(name);
    let mut query: Vec<(&str, &str)> = Params(&params).search();
    if let Some(after) = get("after") {
        query.push(("after", after));
    }
    let (user, shelf) = tokio::join!(
        api.current_user(browser.session()),
        api.tickets_for_sale(&query)
    );
    let user = user?;
    let (shelf, problems, status) = match shelf {
        Ok(shelf) => (shelf, Vec::new(), StatusCode::OK),
        Err(Failure::Refused { status, errors }) if status == StatusCode::BAD_REQUEST => {
            let messages = errors.into_iter().map(|e| e.message).collect();
            (
                Shelf {
                    items: Vec::new(),
                    next: None,
                },
                messages,
                status,
            )
        }
        Err(failure) => return Err(failure.into()),
    };
    let content = html! {
        (search_form(Params(&params)))
        @if !problems.is_empty() {
            div.alert role="alert" { @for message in &problems { p { (message) } } }
        } @else if shelf.items.is_empty() {
            p { "No tickets for sale match." }
        } @else {
            ul.tickets aria-label="Tickets for sale" {
                @for ticket in &shelf.items { (card(ticket)) }
            }
        }
        (pager(Params(&params), shelf.next.as_deref()))
    };
    Ok((status, page("Tickets for sale", user.as_ref(), content)).into_response())
}

/// The query of the page asked for: an empty parameter counts as none.
#[derive(Clone, Copy)]
struct Params<'a>(&'a HashMap<String, String>);

impl<'a> Params<'a> {
    fn get(self, name: &str) -> Option<&'a str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// The search's own parameters, as they were.
    fn search(self) -> Vec<(&'static str, &'a str)> {
        SEARCH
            .iter()
            .filter_map(|&name| self.get(name).map(|value| (name, value)))
            .collect()
    }
}

fn search_form(params: Params<'_>) -> Markup {
    let get = |name: &str| params.get(name);
    let sort = get("sort").unwrap_or("newest");
    html! {
        form.search method="get" action="/" role="search" {
            div.field {
                label for="q" { "Search" }
                input id="q" name="q" type="search" value=(get("q").unwrap_or("")) placeholder="Artist, event or venue";
            }
            div.field {
                label for="sort" { "Order" }
                select id="sort" name="sort" {
                    @for (value, label) in SORTS {
                        option value=(value) selected[value == sort] { (label) }
                    }
                }
            }
            div.field {
                label for="minPrice" { "From $" }
                input id="minPrice" name="minPrice" type="text" inputmode="decimal" value=(get("minPrice").unwrap_or(""));
            }
            div.field {
                label for="maxPrice" { "To $" }
                input id="maxPrice" name="maxPrice" type="text" inputmode="decimal" value=(get("maxPrice").unwrap_or(""));
            }
            button.primary type="submit" { "Search" }
        }
    }
}

fn card(ticket: &Ticket) -> Markup {
    html! {
        li {
            div {
                a href=(format!("/tickets/{}", ticket.id)) { (ticket.title) }
                (event_facts(ticket.starts_at, ticket.venue.as_deref()))
            }
            span.price { (money(ticket.price)) }
        }
    }
}

/// Links to the pages before and after this one, keeping the search.
fn pager(params: Params<'_>, next: Option<&str>) -> Markup {
    let get = |name: &str| params.get(name);
    let back: Vec<&str> = get("back")
        .map(|b| b.split(',').collect())
        .unwrap_or_default();
    let link = |after: Option<&str>, back: &[&str]| {
        let mut query: Vec<(&str, &str)> = params.search();
        if let Some(after) = after.filter(|a| *a != FIRST) {
            query.push(("after", after));
        }
        let back = back.join(",");
        if !back.is_empty() {
            query.push(("back", &back));
        }
        format!(
            "/?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        )
    };
    let previous = back
        .split_last()
        .map(|(last, earlier)| link(Some(last), earlier));
    let next = next.map(|cursor| {
        let mut before = back.clone();
        before.push(get("after").unwrap_or(FIRST));
        link(Some(cursor), &before)
    });
    html! {
        @if previous.is_some() || next.is_some() {
            nav.pager aria-label="Pages" {
                @if let Some(href) = previous { a rel="prev" href=(href) { "← Previous" } }
                @if let Some(href) = next { a rel="next" href=(href) { "Next →" } }
            }
        }
    }
}
