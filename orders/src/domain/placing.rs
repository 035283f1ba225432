//! Whether a buyer may order a ticket, as orders' replica knows it. Orders
//! alone decides who holds a ticket; this says whether it may be held at all.

use chrono::{DateTime, Utc};
use common::events::TicketStatus;

/// What placing an order needs to know of the ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket<'a> {
    pub seller: &'a str,
    /// Its status as the tickets service last said.
    pub status: TicketStatus,
    pub starts_at: Option<DateTime<Utc>>,
    /// An order of ours holds it.
    pub held: bool,
    /// Its seller is banned.
    pub seller_banned: bool,
}

/// What placing an order needs to know of the buyer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buyer<'a> {
    pub id: &'a str,
    /// Their last hold of this ticket was cancelled or expired less than a
    /// hold window ago.
    pub released_lately: bool,
}

/// Why an order could not be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlaceRefused {
    #[error("Not found")]
    UnknownTicket,
    #[error("You cannot order your own ticket")]
    OwnTicket,
    #[error("Ticket is already reserved")]
    Reserved,
    #[error("Ticket is not for sale")]
    NotForSale,
    #[error("The event has already started")]
    Started,
    #[error("You have too many unpaid orders")]
    TooManyOpen,
    #[error("You held this ticket a moment ago; it is for others to buy for now")]
    HeldLately,
}

pub fn may_place(
    ticket: &Ticket<'_>,
    buyer: Buyer<'_>,
    now: DateTime<Utc>,
) -> Result<(), PlaceRefused> {
    if ticket.seller == buyer.id {
        return Err(PlaceRefused::OwnTicket);
    }
    if ticket.status == TicketStatus::Withdrawn || ticket.seller_banned {
        return Err(PlaceRefused::NotForSale);
    }
    if ticket.starts_at.is_some_and(|at| at <= now) {
        return Err(PlaceRefused::Started);
    }
    if ticket.held {
        return Err(PlaceRefused::Reserved);
    }
    if buyer.released_lately {
        return Err(PlaceRefused::HeldLately);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn ticket() -> Ticket<'static> {
        Ticket {
            seller: "seller",
            status: TicketStatus::Available,
            starts_at: Some(now() + chrono::Duration::days(3)),
            held: false,
            seller_banned: false,
        }
    }

    fn buyer() -> Buyer<'static> {
        Buyer {
            id: "buyer",
            released_lately: false,
        }
    }

    #[test]
    fn given_a_free_ticket_of_someone_else_s_then_it_may_be_ordered() {
        assert_eq!(may_place(&ticket(), buyer(), now()), Ok(()));
        let undated = Ticket {
            starts_at: None,
            ..ticket()
        };
        assert_eq!(may_place(&undated, buyer(), now()), Ok(()));
    }

    #[test]
    fn given_one_s_own_ticket_then_it_is_refused() {
        assert_eq!(
            may_place(
                &ticket(),
                Buyer {
                    id: "seller",
                    ..buyer()
                },
                now()
            ),
            Err(PlaceRefused::OwnTicket)
        );
    }

    #[test]
    fn given_a_withdrawn_ticket_then_it_is_not_for_sale() {
        let withdrawn = Ticket {
            status: TicketStatus::Withdrawn,
            ..ticket()
        };
        assert_eq!(
            may_place(&withdrawn, buyer(), now()),
            Err(PlaceRefused::NotForSale)
        );
    }

    #[test]
    fn given_an_event_that_has_started_then_it_is_refused() {
        let started = Ticket {
            starts_at: Some(now()),
            ..ticket()
        };
        assert_eq!(
            may_place(&started, buyer(), now()),
            Err(PlaceRefused::Started)
        );
    }

    #[test]
    fn given_a_held_ticket_then_it_is_reserved() {
        let held = Ticket {
            held: true,
            ..ticket()
        };
        assert_eq!(
            may_place(&held, buyer(), now()),
            Err(PlaceRefused::Reserved)
        );
    }

    #[test]
    fn given_a_banned_seller_then_the_ticket_is_not_for_sale() {
        let banned = Ticket {
            seller_banned: true,
            ..ticket()
        };
        assert_eq!(
            may_place(&banned, buyer(), now()),
            Err(PlaceRefused::NotForSale)
        );
    }

    #[test]
    fn given_a_buyer_who_let_their_hold_go_lately_then_they_wait_before_holding_it_again() {
        let lately = Buyer {
            released_lately: true,
            ..buyer()
        };
        assert_eq!(
            may_place(&ticket(), lately, now()),
            Err(PlaceRefused::HeldLately)
        );
    }
}
