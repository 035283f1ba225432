//! Payments' replica of the orders as `ops rebuild payments` replays it
//! from the log: each order's versions, created, then cancelled or
//! completed. Which payment settled an order is payments' own, and stays.

use common::events::{Event, OrderCancelled, OrderCompleted, OrderCreated, OrderStatus};
use common::rebuild::Replay;
use mongodb::bson::Bson;

use crate::repository::OrderData;
use crate::repository::replica::{order_fields, status_fields};

/// The collection the replica lives in.
pub const COLLECTION: &str = "orders";

/// The subjects the replica is made of.
pub const SUBJECTS: [&str; 3] = [
    OrderCreated::SUBJECT,
    OrderCancelled::SUBJECT,
    OrderCompleted::SUBJECT,
];

/// Replays one event of the log (its subject without the prefix).
pub fn replay(replay: &mut Replay, subject: &str, payload: &[u8]) -> anyhow::Result<()> {
    let id = |raw: &str| {
        common::mongo::parse_id(raw).ok_or_else(|| anyhow::anyhow!("id {raw:?} is malformed"))
    };
    match subject {
        OrderCreated::SUBJECT => {
            let event: OrderCreated = serde_json::from_slice(payload)?;
            let order = OrderData {
                id: id(&event.id)?,
                version: event.version,
                user_id: event.user_id,
                price: event.ticket.price,
                status: event.status,
                expires_at: event.expires_at,
            };
            replay.version(order.id, order.version, order_fields(&order)?);
            replay.own(order.id).insert("paymentId", Bson::Null);
        }
        OrderCancelled::SUBJECT => {
            let event: OrderCancelled = serde_json::from_slice(payload)?;
            let fields = status_fields(OrderStatus::Cancelled)?;
            replay.version(id(&event.id)?, event.version, fields);
        }
        OrderCompleted::SUBJECT => {
            let event: OrderCompleted = serde_json::from_slice(payload)?;
            let fields = status_fields(OrderStatus::Complete)?;
            replay.version(id(&event.id)?, event.version, fields);
        }
        other => anyhow::bail!("payments' replica is not made of {other}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORDER: &str = "0123456789abcdef01234567";

    #[test]
    fn given_an_order_completed_before_its_creation_was_read_then_it_ends_complete() {
        let mut log = Replay::default();
        let created = format!(
            r#"{{"id":"{ORDER}","version":0,"status":"created","userId":"u2","expiresAt":"2026-12-02T10:00:00Z","ticket":{{"id":"t1","price":700,"hold":0}}}}"#
        );
        let completed =
            format!(r#"{{"id":"{ORDER}","version":1,"ticket":{{"id":"t1","hold":0}}}}"#);

        replay(&mut log, "order.completed", completed.as_bytes()).unwrap();
        replay(&mut log, "order.created", created.as_bytes()).unwrap();

        let record = &log.records[&common::mongo::parse_id(ORDER).unwrap()];
        assert_eq!(record.version, 1);
        assert_eq!(record.fields.get_str("status").ok(), Some("complete"));
        assert_eq!(record.fields.get_i64("price").ok(), Some(700));
    }
}
