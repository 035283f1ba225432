//! Who holds a ticket, decided by the orders service and applied here in
//! the order it decided, whatever order the bus delivers in. Orders counts
//! each ticket's holds from 0 and places hold N+1 only once hold N was
//! cancelled, so a ticket goes through its holds one after the other: each
//! placed, then released or sold. Deciding is pure; the repository applies
//! the verdict.

pub use common::events::TicketStatus as Status;
use common::handling::Gate;
use serde::{Deserialize, Serialize};

/// The ticket's latest hold: which order, its number, how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    pub order_id: String,
    pub hold: i64,
    pub stage: Stage,
    /// Who placed the order: once it is paid, they see the ticket's code.
    #[serde(default)]
    pub buyer: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The order is live: the ticket is reserved.
    Held,
    /// Cancelled or expired: the ticket is for sale again.
    Released,
    /// Paid: the ticket is sold for good.
    Sold,
}

/// How an order ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Release,
    Sell,
}

/// An order event about the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent<'a> {
    Placed {
        order: &'a str,
        hold: i64,
        buyer: &'a str,
    },
    Ended {
        order: &'a str,
        hold: i64,
        ending: Ending,
    },
}

/// What an order event does to the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The ticket's holder becomes this; what waited for `opens` may follow.
    Apply { holder: Holder, opens: Gate },
    /// Applied before.
    Duplicate,
    /// What it follows has not been applied: it waits for the gate.
    Early(Gate),
    /// Orders could never have sent it: a dead letter.
    Contradiction(&'static str),
}

/// The ticket's status under `holder`, its seller having `withdrawn` it
/// or not. An order decided on before the withdrawal was heard of still
/// holds it; released, the ticket stays withdrawn.
pub fn status(holder: Option<&Holder>, withdrawn: bool) -> Status {
    match holder.map(|h| h.stage) {
        Some(Stage::Held) => Status::Reserved,
        Some(Stage::Sold) => Status::Sold,
        None | Some(Stage::Released) if withdrawn => Status::Withdrawn,
        None | Some(Stage::Released) => Status::Available,
    }
}

/// Whether `viewer` may see the ticket's code: its seller, and the buyer of
/// a paid order for it.
pub fn sees_code(owner: &str, holder: Option<&Holder>, viewer: Option<&str>) -> bool {
    let Some(viewer) = viewer else { return false };
    viewer == owner
        || holder.is_some_and(|h| h.stage == Stage::Sold && h.buyer.as_deref() == Some(viewer))
}

/// Opens once hold `hold` of `ticket` was placed here.
pub fn placed(ticket: &str, hold: i64) -> Gate {
    Gate::at("hold", format!("{ticket}:{hold}"), 0)
}

/// Opens once hold `hold` of `ticket` was released or sold here.
pub fn ended(ticket: &str, hold: i64) -> Gate {
    Gate::at("hold", format!("{ticket}:{hold}"), 1)
}

/// Decides what `event` does to `ticket`, whose latest hold is `current`.
pub fn decide(ticket: &str, current: Option<&Holder>, event: OrderEvent<'_>) -> Verdict {
    match event {
        OrderEvent::Placed { order, hold, buyer } => place(ticket, current, order, hold, buyer),
        OrderEvent::Ended {
            order,
            hold,
            ending,
        } => end(ticket, current, order, hold, ending),
    }
}

fn place(ticket: &str, current: Option<&Holder>, order: &str, hold: i64, buyer: &str) -> Verdict {
    let latest = current.map(|h| h.hold);
    match current {
        Some(now) if hold < now.hold => Verdict::Duplicate,
        Some(now) if hold == now.hold && now.order_id == order => Verdict::Duplicate,
        Some(now) if hold == now.hold => Verdict::Contradiction("two orders with one hold number"),
        Some(now) if hold == now.hold + 1 => match now.stage {
            Stage::Released => held(ticket, order, hold, buyer),
            Stage::Held => Verdict::Early(ended(ticket, now.hold)),
            Stage::Sold => Verdict::Contradiction("an order for a ticket sold to another"),
        },
        None if hold == 0 => held(ticket, order, hold, buyer),
        // A hold before it has not even been placed here yet.
        _ => {
            debug_assert!(latest.is_none_or(|latest| hold > latest + 1));
            Verdict::Early(ended(ticket, hold - 1))
        }
    }
}

fn held(ticket: &str, order: &str, hold: i64, buyer: &str) -> Verdict {
    Verdict::Apply {
        holder: Holder {
            order_id: order.to_string(),
            hold,
            stage: Stage::Held,
            buyer: Some(buyer.to_string()),
        },
        opens: placed(ticket, hold),
    }
}

fn end(ticket: &str, current: Option<&Holder>, order: &str, hold: i64, ending: Ending) -> Verdict {
    let stage = match ending {
        Ending::Release => Stage::Released,
        Ending::Sell => Stage::Sold,
    };
    match current {
        Some(now) if hold < now.hold => Verdict::Duplicate,
        Some(now) if hold == now.hold && now.order_id != order => {
            Verdict::Contradiction("an order that does not have the hold it names")
        }
        Some(now) if hold == now.hold => match now.stage {
            Stage::Held => Verdict::Apply {
                holder: Holder {
                    stage,
                    ..now.clone()
                },
                opens: ended(ticket, hold),
            },
            ended_as if ended_as == stage => Verdict::Duplicate,
            _ => Verdict::Contradiction("an order both cancelled and paid"),
        },
        // Its own hold has not been placed here yet.
        _ => Verdict::Early(placed(ticket, hold)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "t1";

    fn holder(order: &str, hold: i64, stage: Stage) -> Holder {
        Holder {
            order_id: order.into(),
            hold,
            stage,
            buyer: Some(format!("buyer of {order}")),
        }
    }

    fn placed_by(order: &'static str, hold: i64) -> OrderEvent<'static> {
        let buyer = match order {
            "a" => "buyer of a",
            "b" => "buyer of b",
            _ => "someone",
        };
        OrderEvent::Placed { order, hold, buyer }
    }

    fn ended_by(order: &'static str, hold: i64, ending: Ending) -> OrderEvent<'static> {
        OrderEvent::Ended {
            order,
            hold,
            ending,
        }
    }

    /// Applies `event` to `current`, failing the test unless it applies.
    fn applied(current: Option<&Holder>, event: OrderEvent<'_>) -> Holder {
        match decide(T, current, event) {
            Verdict::Apply { holder, .. } => holder,
            other => panic!("{event:?} did not apply: {other:?}"),
        }
    }

    #[test]
    fn given_a_fresh_ticket_when_its_first_order_is_placed_then_it_is_reserved_by_it() {
        let verdict = decide(T, None, placed_by("a", 0));
        assert_eq!(
            verdict,
            Verdict::Apply {
                holder: holder("a", 0, Stage::Held),
                opens: placed(T, 0)
            }
        );
        assert_eq!(
            status(Some(&holder("a", 0, Stage::Held)), false),
            Status::Reserved
        );
    }

    #[test]
    fn given_a_held_ticket_when_its_order_is_cancelled_then_it_is_for_sale_again() {
        let a = holder("a", 0, Stage::Held);
        let released = applied(Some(&a), ended_by("a", 0, Ending::Release));
        assert_eq!(released, holder("a", 0, Stage::Released));
        assert_eq!(status(Some(&released), false), Status::Available);
        assert!(matches!(
            decide(T, Some(&a), ended_by("a", 0, Ending::Release)),
            Verdict::Apply { opens, .. } if opens == ended(T, 0)
        ));
    }

    #[test]
    fn given_a_held_ticket_when_its_order_is_paid_then_it_is_sold() {
        let sold = applied(
            Some(&holder("a", 0, Stage::Held)),
            ended_by("a", 0, Ending::Sell),
        );
        assert_eq!(status(Some(&sold), false), Status::Sold);
    }

    #[test]
    fn given_a_ticket_held_by_a_when_b_s_hold_arrives_then_b_waits_for_a_s_end() {
        let a = holder("a", 0, Stage::Held);
        assert_eq!(
            decide(T, Some(&a), placed_by("b", 1)),
            Verdict::Early(ended(T, 0))
        );
    }

    #[test]
    fn given_a_fresh_ticket_when_b_s_hold_arrives_first_then_it_waits_for_a_s_end() {
        assert_eq!(
            decide(T, None, placed_by("b", 1)),
            Verdict::Early(ended(T, 0))
        );
    }

    #[test]
    fn given_a_fresh_ticket_when_a_cancellation_arrives_first_then_it_waits_for_its_hold() {
        assert_eq!(
            decide(T, None, ended_by("a", 0, Ending::Release)),
            Verdict::Early(placed(T, 0))
        );
    }

    #[test]
    fn given_b_holds_the_ticket_when_a_s_events_come_again_then_they_are_duplicates() {
        let b = holder("b", 1, Stage::Held);
        assert_eq!(decide(T, Some(&b), placed_by("a", 0)), Verdict::Duplicate);
        assert_eq!(
            decide(T, Some(&b), ended_by("a", 0, Ending::Release)),
            Verdict::Duplicate
        );
    }

    #[test]
    fn given_any_delivery_order_of_a_s_hold_and_release_and_b_s_hold_then_b_holds_it() {
        let events = [
            placed_by("a", 0),
            ended_by("a", 0, Ending::Release),
            placed_by("b", 1),
        ];
        let orders = [
            [0, 1, 2],
            [0, 2, 1],
            [1, 0, 2],
            [1, 2, 0],
            [2, 0, 1],
            [2, 1, 0],
        ];
        for order in orders {
            // Early events wait and are looked at again after each apply, as the inbox does.
            let (mut current, mut waiting): (Option<Holder>, Vec<OrderEvent>) = (None, Vec::new());
            for i in order {
                waiting.push(events[i]);
                while let Some(at) = waiting.iter().position(|e| {
                    matches!(
                        decide(T, current.as_ref(), *e),
                        Verdict::Apply { .. } | Verdict::Duplicate
                    )
                }) {
                    let event = waiting.remove(at);
                    if let Verdict::Apply { holder, .. } = decide(T, current.as_ref(), event) {
                        current = Some(holder);
                    }
                }
            }
            assert!(waiting.is_empty(), "{order:?} left {waiting:?} waiting");
            assert_eq!(
                current,
                Some(holder("b", 1, Stage::Held)),
                "delivered as {order:?}"
            );
        }
    }

    #[test]
    fn given_a_withdrawn_ticket_then_it_is_off_sale_unless_an_order_holds_it() {
        assert_eq!(status(None, true), Status::Withdrawn);
        assert_eq!(
            status(Some(&holder("a", 0, Stage::Released)), true),
            Status::Withdrawn
        );
        assert_eq!(
            status(Some(&holder("a", 0, Stage::Held)), true),
            Status::Reserved
        );
    }

    #[test]
    fn the_code_is_seen_by_the_seller_and_by_the_buyer_once_paid_only() {
        let (held, sold) = (holder("a", 0, Stage::Held), holder("a", 0, Stage::Sold));
        assert!(sees_code("seller", None, Some("seller")));
        assert!(
            !sees_code("seller", Some(&held), Some("buyer of a")),
            "not paid yet"
        );
        assert!(sees_code("seller", Some(&sold), Some("buyer of a")));
        assert!(!sees_code("seller", Some(&sold), Some("someone else")));
        assert!(!sees_code("seller", Some(&sold), None), "signed out");
    }

    #[test]
    fn given_a_sold_ticket_when_another_order_arrives_then_it_is_a_contradiction() {
        let sold = holder("a", 0, Stage::Sold);
        assert!(matches!(
            decide(T, Some(&sold), placed_by("b", 1)),
            Verdict::Contradiction(_)
        ));
    }

    #[test]
    fn given_a_hold_when_another_order_claims_its_number_then_it_is_a_contradiction() {
        let a = holder("a", 0, Stage::Held);
        assert!(matches!(
            decide(T, Some(&a), placed_by("x", 0)),
            Verdict::Contradiction(_)
        ));
        assert!(matches!(
            decide(T, Some(&a), ended_by("x", 0, Ending::Release)),
            Verdict::Contradiction(_)
        ));
    }

    #[test]
    fn given_a_released_hold_when_it_is_said_to_be_paid_then_it_is_a_contradiction() {
        let released = holder("a", 0, Stage::Released);
        assert!(matches!(
            decide(T, Some(&released), ended_by("a", 0, Ending::Sell)),
            Verdict::Contradiction(_)
        ));
        assert_eq!(
            decide(T, Some(&released), ended_by("a", 0, Ending::Release)),
            Verdict::Duplicate
        );
    }
}
