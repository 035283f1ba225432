//! Orders' replica of the tickets as `ops rebuild orders` replays it from
//! the log: the tickets service's versions of each ticket, and, for a
//! ticket the live replica lacks, who holds it as orders' own events say.

use common::events::{
    Event, OrderCancelled, OrderCreated, TicketCreated, TicketStatus, TicketUpdated,
};
use common::rebuild::Replay;
use mongodb::bson::Bson;

use crate::repository::TicketData;
use crate::repository::replica::ticket_fields;

/// The collection the replica lives in.
pub const COLLECTION: &str = "tickets";

/// The subjects the replica is made of.
pub const SUBJECTS: [&str; 4] = [
    TicketCreated::SUBJECT,
    TicketUpdated::SUBJECT,
    OrderCreated::SUBJECT,
    OrderCancelled::SUBJECT,
];

/// Replays one event of the log (its subject without the prefix).
pub fn replay(replay: &mut Replay, subject: &str, payload: &[u8]) -> anyhow::Result<()> {
    let id = |raw: &str| {
        common::mongo::parse_id(raw).ok_or_else(|| anyhow::anyhow!("id {raw:?} is malformed"))
    };
    match subject {
        TicketCreated::SUBJECT => {
            let event: TicketCreated = serde_json::from_slice(payload)?;
            let ticket = TicketData {
                id: id(&event.id)?,
                version: event.version,
                title: event.title,
                price: event.price,
                user_id: event.user_id,
                status: TicketStatus::Available,
                starts_at: event.starts_at,
            };
            replay.version(ticket.id, ticket.version, ticket_fields(&ticket)?);
        }
        TicketUpdated::SUBJECT => {
            let event: TicketUpdated = serde_json::from_slice(payload)?;
            let ticket = TicketData {
                id: id(&event.id)?,
                version: event.version,
                title: event.title,
                price: event.price,
                user_id: event.user_id,
                status: event.status,
                starts_at: event.starts_at,
            };
            replay.version(ticket.id, ticket.version, ticket_fields(&ticket)?);
        }
        OrderCreated::SUBJECT => {
            let event: OrderCreated = serde_json::from_slice(payload)?;
            let own = replay.own(id(&event.ticket.id)?);
            own.insert("heldBy", event.id);
            own.insert("holds", event.ticket.hold + 1);
        }
        OrderCancelled::SUBJECT => {
            let event: OrderCancelled = serde_json::from_slice(payload)?;
            let own = replay.own(id(&event.ticket.id)?);
            if own.get_str("heldBy").ok() == Some(event.id.as_str()) {
                own.insert("heldBy", Bson::Null);
            }
        }
        other => anyhow::bail!("orders' replica is not made of {other}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str = "0123456789abcdef01234567";

    #[test]
    fn given_a_ticket_held_and_released_when_replayed_then_its_own_fields_say_so() {
        let mut log = Replay::default();
        let created =
            format!(r#"{{"id":"{TICKET}","version":0,"title":"A","price":500,"userId":"u1"}}"#);
        let order = |n: i64| {
            format!(
                r#"{{"id":"o{n}","version":0,"status":"created","userId":"u2","expiresAt":"2026-12-02T10:00:00Z","ticket":{{"id":"{TICKET}","price":500,"hold":{n}}}}}"#
            )
        };
        let cancelled =
            format!(r#"{{"id":"o0","version":1,"ticket":{{"id":"{TICKET}","hold":0}}}}"#);

        replay(&mut log, "ticket.created", created.as_bytes()).unwrap();
        replay(&mut log, "order.created", order(0).as_bytes()).unwrap();
        replay(&mut log, "order.cancelled", cancelled.as_bytes()).unwrap();
        let id = common::mongo::parse_id(TICKET).unwrap();
        assert_eq!(log.own[&id].get("heldBy"), Some(&Bson::Null));
        replay(&mut log, "order.created", order(1).as_bytes()).unwrap();

        assert_eq!(log.own[&id].get_str("heldBy").ok(), Some("o1"));
        assert_eq!(log.own[&id].get_i64("holds").ok(), Some(2));
        assert_eq!(log.records[&id].fields.get_i64("price").ok(), Some(500));
        assert_eq!(
            log.records[&id].fields.get_str("status").ok(),
            Some("available")
        );
    }
}
