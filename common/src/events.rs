//! The event catalogue: every subject the platform publishes, each bound to
//! one payload type so that a subject and its data can never disagree.
//! Prices are integer cents; ids are the publisher's record ids.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A fact one service tells the others.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The subject under the deployment's prefix, e.g. `ticket.created`.
    const SUBJECT: &'static str;

    /// A deterministic id, sent as `Nats-Msg-Id`, so that publishing the same
    /// event twice stores it once.
    fn message_id(&self) -> String;
}

/// Where an order is in its life. Nothing leaves `Cancelled` or `Complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Created,
    Cancelled,
    Complete,
}

/// Where a ticket is in its life, as its owner, the tickets service, says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    Available,
    Reserved,
    Sold,
    /// Taken off sale by its seller.
    Withdrawn,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketCreated {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub price: i64,
    pub user_id: String,
    /// When the event starts; it is off sale from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketUpdated {
    pub id: String,
    pub version: i64,
    pub title: String,
    pub price: i64,
    pub user_id: String,
    /// The order that holds the ticket, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    pub status: TicketStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
}

/// The part of a ticket an order event carries. `hold` says which of the
/// ticket's orders this is, counted by the orders service from 0: it places
/// hold N+1 only once hold N was cancelled, so the tickets service applies
/// the holds of one ticket in that order, however they are delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRef {
    pub id: String,
    pub hold: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedTicketRef {
    pub id: String,
    pub price: i64,
    pub hold: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub id: String,
    pub version: i64,
    pub status: OrderStatus,
    pub user_id: String,
    pub expires_at: DateTime<Utc>,
    pub ticket: PricedTicketRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub id: String,
    pub version: i64,
    pub ticket: TicketRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCompleted {
    pub id: String,
    pub version: i64,
    pub ticket: TicketRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpirationComplete {
    pub order_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCreated {
    pub id: String,
    pub order_id: String,
    pub stripe_id: String,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRefunded {
    pub id: String,
    pub order_id: String,
    pub stripe_refund_id: String,
}

/// An admin banned a user: every service refuses them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserBanned {
    pub id: String,
    pub version: i64,
}

/// An admin lifted a user's ban.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUnbanned {
    pub id: String,
    pub version: i64,
}

/// A session ended (signed out), or, without `session_id`, every session of
/// the user issued before `at`. Kept until `expires_at`, when those sessions
/// would have expired anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEnded {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Binds a type to its subject and to the fields that make its id unique.
macro_rules! event {
    ($type:ty, $subject:literal, |$e:ident| $($part:expr),+) => {
        impl Event for $type {
            const SUBJECT: &'static str = $subject;

            fn message_id(&self) -> String {
                let $e = self;
                [$subject.to_string(), $($part.to_string()),+].join(":")
            }
        }
    };
}

event!(TicketCreated, "ticket.created", |e| e.id, e.version);
event!(TicketUpdated, "ticket.updated", |e| e.id, e.version);
event!(OrderCreated, "order.created", |e| e.id, e.version);
event!(OrderCancelled, "order.cancelled", |e| e.id, e.version);
event!(OrderCompleted, "order.completed", |e| e.id, e.version);
event!(ExpirationComplete, "expiration.complete", |e| e.order_id);
event!(PaymentCreated, "payment.created", |e| e.id);
event!(PaymentRefunded, "payment.refunded", |e| e.id);
event!(UserBanned, "user.banned", |e| e.id, e.version);
event!(UserUnbanned, "user.unbanned", |e| e.id, e.version);
event!(
    SessionEnded,
    "session.ended",
    |e| e.user_id,
    e.session_id.as_deref().unwrap_or("all"),
    e.at.timestamp_millis()
);

/// Who publishes each subject and who consumes it, the one place that says
/// so: the broker's permissions ([`crate::permissions`]) are derived from it,
/// and a service that starts a consumer the catalogue does not name is
/// stopped ([`crate::consumers::Consumers::start`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub subject: &'static str,
    pub publisher: &'static str,
    pub consumers: &'static [&'static str],
}

/// The services that publish or consume events (the client does neither).
pub const EVENT_SERVICES: [&str; 5] = ["auth", "tickets", "orders", "expiration", "payments"];

/// Every service with routes hears bans and ended sessions, auth included.
const WITH_SESSIONS: &[&str] = &["auth", "tickets", "orders", "payments"];

pub const ROUTES: [Route; 11] = [
    route::<TicketCreated>("tickets", &["orders"]),
    route::<TicketUpdated>("tickets", &["orders"]),
    route::<OrderCreated>("orders", &["tickets", "payments", "expiration"]),
    route::<OrderCancelled>("orders", &["tickets", "payments"]),
    route::<OrderCompleted>("orders", &["tickets", "payments"]),
    route::<ExpirationComplete>("expiration", &["orders"]),
    route::<PaymentCreated>("payments", &["orders"]),
    route::<PaymentRefunded>("payments", &["orders"]),
    route::<UserBanned>("auth", WITH_SESSIONS),
    route::<UserUnbanned>("auth", WITH_SESSIONS),
    route::<SessionEnded>("auth", WITH_SESSIONS),
];

const fn route<E: Event>(publisher: &'static str, consumers: &'static [&'static str]) -> Route {
    Route {
        subject: E::SUBJECT,
        publisher,
        consumers,
    }
}

/// Whether the catalogue says `service` consumes `subject`.
pub fn consumes(service: &str, subject: &str) -> bool {
    ROUTES
        .iter()
        .any(|r| r.subject == subject && r.consumers.contains(&service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_name_the_subject_the_record_and_its_version() {
        let cancelled = OrderCancelled {
            id: "o1".into(),
            version: 3,
            ticket: TicketRef {
                id: "t1".into(),
                hold: 0,
            },
        };
        assert_eq!(cancelled.message_id(), "order.cancelled:o1:3");
        let expired = ExpirationComplete {
            order_id: "o1".into(),
        };
        assert_eq!(expired.message_id(), "expiration.complete:o1");
    }

    #[test]
    fn payloads_use_the_designed_field_names() {
        let created = OrderCreated {
            id: "o1".into(),
            version: 0,
            status: OrderStatus::Created,
            user_id: "u1".into(),
            expires_at: DateTime::from_timestamp(0, 0).unwrap(),
            ticket: PricedTicketRef {
                id: "t1".into(),
                price: 1250,
                hold: 2,
            },
        };
        let json = serde_json::to_value(&created).unwrap();
        assert_eq!(json["userId"], "u1");
        assert_eq!(json["status"], "created");
        assert_eq!(json["expiresAt"], "1970-01-01T00:00:00Z");
        assert_eq!(json["ticket"]["price"], 1250);
        assert_eq!(json["ticket"]["hold"], 2);
    }

    #[test]
    fn an_updated_ticket_without_an_order_omits_the_field() {
        let updated = TicketUpdated {
            id: "t1".into(),
            version: 1,
            title: "t".into(),
            price: 1,
            user_id: "u".into(),
            order_id: None,
            status: TicketStatus::Available,
            starts_at: None,
        };
        assert!(
            serde_json::to_value(&updated)
                .unwrap()
                .get("orderId")
                .is_none()
        );
    }
}
