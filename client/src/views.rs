//! What every page shares: the layout with a header that follows the
//! sign-in state, form fields that show the API's errors beside the input
//! they name, and money.

use chrono::{DateTime, Utc};
use common::ErrorItem;
use common::session::{Role, SessionUser};
use maud::{DOCTYPE, Markup, html};

use crate::assets;

/// The forms' hidden field, which [`crate::security`] checks.
pub(crate) const CSRF_FIELD: &str = "csrf";

tokio::task_local! {
    /// The token the forms of the page being rendered carry: set by
    /// [`crate::security`] for each request.
    pub(crate) static CSRF_TOKEN: String;
}

/// The hidden field every form that posts carries.
pub fn csrf_field() -> Markup {
    let token = CSRF_TOKEN.try_with(Clone::clone).unwrap_or_default();
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// A whole page: everything it needs comes in this one answer.
pub fn page(title: &str, user: Option<&SessionUser>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Ticketing" }
                link rel="stylesheet" href=(assets::url("style.css"));
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    nav aria-label="Main" {
                        a.brand href="/" { "Ticketing" }
                        ul {
                            @if let Some(user) = user {
                                li { a href="/tickets/new" { "Sell a ticket" } }
                                li { a href="/tickets/mine" { "My listings" } }
                                li { a href="/orders" { "My orders" } }
                                @if user.role == Role::Admin {
                                    li { a href="/admin/users" { "Users" } }
                                }
                                li {
                                    form method="post" action="/auth/signout" {
                                        (csrf_field())
                                        button type="submit" title=(format!("Signed in as {}", user.email)) { "Sign out" }
                                    }
                                }
                                li {
                                    form method="post" action="/auth/signout" {
                                        (csrf_field())
                                        input type="hidden" name="everywhere" value="true";
                                        button type="submit" { "Sign out everywhere" }
                                    }
                                }
                            } @else {
                                li { a href="/auth/signin" { "Sign in" } }
                                li { a href="/auth/signup" { "Sign up" } }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (content)
                }
                footer { a href="/docs/api" { "API reference" } }
            }
        }
    }
}

/// The errors an API gave for a form: those naming one of its fields, and
/// the rest, shown above it.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    items: Vec<ErrorItem>,
    fields: &'static [&'static str],
}

impl FormErrors {
    pub fn new(fields: &'static [&'static str], items: Vec<ErrorItem>) -> Self {
        Self { items, fields }
    }

    pub fn none() -> Self {
        Self::default()
    }

    /// The message for one field, if any.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|item| item.field.as_deref() == Some(name))
            .map(|item| item.message.as_str())
    }

    /// Messages that name no field of this form.
    pub fn general(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|item| {
                !item
                    .field
                    .as_deref()
                    .is_some_and(|f| self.fields.contains(&f))
            })
            .map(|item| item.message.as_str())
            .collect()
    }

    pub fn summary(&self) -> Markup {
        let general = self.general();
        html! {
            @if !general.is_empty() {
                div.alert role="alert" {
                    @for message in general { p { (message) } }
                }
            }
        }
    }
}

/// A labelled input with its error below it, tied together for screen readers.
pub fn field(name: &str, label: &str, kind: &str, value: &str, errors: &FormErrors) -> Markup {
    let error = errors.field(name);
    let error_id = format!("{name}-error");
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type=(kind) value=(value) required
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(message) = error {
                p.error id=(error_id) { (message) }
            }
        }
    }
}

/// A multi-line input with its error below it.
pub fn text_area(name: &str, label: &str, value: &str, errors: &FormErrors) -> Markup {
    let error = errors.field(name);
    let error_id = format!("{name}-error");
    html! {
        div.field {
            label for=(name) { (label) }
            textarea id=(name) name=(name) rows="4"
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())] { (value) }
            @if let Some(message) = error {
                p.error id=(error_id) { (message) }
            }
        }
    }
}

/// An optional input: as [`field`], but not required.
pub fn optional_field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &FormErrors,
) -> Markup {
    let error = errors.field(name);
    let error_id = format!("{name}-error");
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(message) = error {
                p.error id=(error_id) { (message) }
            }
        }
    }
}

/// When and where an event is, as people read it.
pub fn event_facts(starts_at: Option<DateTime<Utc>>, venue: Option<&str>) -> Markup {
    html! {
        @if starts_at.is_some() || venue.is_some() {
            p.facts {
                @if let Some(at) = starts_at {
                    time datetime=(at.to_rfc3339()) { (at.format("%a %-d %b %Y, %H:%M UTC")) }
                }
                @if starts_at.is_some() && venue.is_some() { " · " }
                @if let Some(venue) = venue { span.venue { (venue) } }
            }
        }
    }
}

/// A price as people read it: `$12.50`.
pub fn money(amount: f64) -> String {
    format!("${amount:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_show_two_decimals() {
        assert_eq!(money(12.5), "$12.50");
        assert_eq!(money(19.99), "$19.99");
        assert_eq!(money(1000000.0), "$1000000.00");
    }

    #[test]
    fn errors_go_beside_their_field_or_above_the_form() {
        let errors = FormErrors::new(
            &["email", "password"],
            vec![
                ErrorItem::field("email", "Email in use"),
                ErrorItem::new("Invalid credentials"),
                ErrorItem::field("ticketId", "Not for this form"),
            ],
        );
        assert_eq!(errors.field("email"), Some("Email in use"));
        assert_eq!(errors.field("password"), None);
        assert_eq!(
            errors.general(),
            ["Invalid credentials", "Not for this form"]
        );
    }

    #[test]
    fn a_field_with_an_error_says_so_to_assistive_technology() {
        let errors = FormErrors::new(
            &["title"],
            vec![ErrorItem::field("title", "Title is required")],
        );
        let html = field("title", "Title", "text", "", &errors).into_string();
        assert!(html.contains(r#"aria-invalid="true""#));
        assert!(html.contains(r#"aria-describedby="title-error""#));
        assert!(html.contains(r#"<label for="title">"#));
    }
}
