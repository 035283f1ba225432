//! What the APIs answer, as the client reads it, and what it sends for a
//! listing.

use chrono::{DateTime, Utc};
use common::ErrorItem;
use common::events::OrderStatus;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Failure;

/// A ticket as the tickets API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: String,
    pub title: String,
    pub price: f64,
    pub user_id: String,
    pub status: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Shown only to the seller, and to the buyer once paid.
    #[serde(default)]
    pub code: Option<String>,
}

/// What a seller fills in, as typed: the API validates it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListingForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub venue: String,
    /// As a `datetime-local` input gives it, read as UTC.
    #[serde(default)]
    pub starts_at: String,
    #[serde(default)]
    pub code: String,
}

/// One page of a list, and the cursor of the next if there is one.
#[derive(Debug, Clone)]
pub struct Shelf<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// An order as the orders API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub status: OrderStatus,
    pub expires_at: DateTime<Utc>,
    pub ticket: OrderedTicket,
    #[serde(default)]
    pub refunded: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderedTicket {
    pub id: String,
    pub title: String,
    pub price: f64,
}

/// A user as the admin routes show them.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub email: String,
    pub role: common::session::Role,
    pub banned: bool,
}

/// What paying came to, as the payments API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// `succeeded`, `requires_action` (3-D Secure) or `processing`.
    pub status: String,
    /// For Stripe.js to complete 3-D Secure in the browser.
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// The API's body for a listing form: the price as the number typed, so
/// that the API reads it exactly; a price that is no number is refused
/// here, in our words.
pub(super) fn listing_body(form: &ListingForm) -> Result<Value, Failure> {
    let price = form.price.trim();
    let number = serde_json::from_str::<serde_json::Number>(price)
        .ok()
        .and_then(|_| serde_json::value::RawValue::from_string(price.to_string()).ok())
        .ok_or_else(|| Failure::Refused {
            status: StatusCode::BAD_REQUEST,
            errors: vec![ErrorItem::field(
                "price",
                "Price must be a number, such as 12.50",
            )],
        })?;
    let starts_at = form.starts_at.trim();
    // A datetime-local input gives `2027-05-01T20:00`: read it as UTC.
    let starts_at = match starts_at {
        "" => None,
        local if local.len() == 16 => Some(format!("{local}:00Z")),
        other => Some(other.to_string()),
    };
    Ok(json!({
        "title": form.title,
        "price": number,
        "description": form.description,
        "venue": form.venue,
        "startsAt": starts_at,
        "code": form.code,
    }))
}
