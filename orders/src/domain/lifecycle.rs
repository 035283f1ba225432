//! The order's state machine: `created` becomes `cancelled` (by its buyer or
//! by expiry, once its time is up) or `complete` (paid); nothing leaves
//! `cancelled` or `complete`. Deciding is pure; the repository applies what
//! was decided.

use chrono::{DateTime, Utc};
use common::events::OrderStatus;

/// What someone asks of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The buyer cancels.
    Cancel,
    /// The reservation's time ran out (announced by expiration, or found by
    /// the sweep).
    Expire,
    /// A payment succeeded.
    Pay,
}

/// What the state machine needs to know of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub status: OrderStatus,
    pub expires_at: DateTime<Utc>,
}

/// What a command does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Become(OrderStatus),
    /// Nothing to do: repeating a command, or expiring an order that ended.
    Unchanged,
}

/// A command the order's state forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("Cannot cancel a completed order")]
    CompletedCannotBeCancelled,
    #[error("Cannot complete a cancelled order")]
    CancelledCannotBeCompleted,
    /// An expiry announced before the order's time was up: too early by this much.
    #[error("The order does not expire for another {0}")]
    NotDueYet(chrono::Duration),
}

pub fn decide(order: Facts, command: Command, now: DateTime<Utc>) -> Result<Decision, Refusal> {
    use Command::{Cancel, Expire, Pay};
    use OrderStatus::{Cancelled, Complete, Created};
    match (order.status, command) {
        (Created, Expire) if now < order.expires_at => {
            Err(Refusal::NotDueYet(order.expires_at - now))
        }
        (Created, Cancel | Expire) => Ok(Decision::Become(Cancelled)),
        (Created, Pay) => Ok(Decision::Become(Complete)),
        (Cancelled, Cancel | Expire) | (Complete, Pay | Expire) => Ok(Decision::Unchanged),
        (Complete, Cancel) => Err(Refusal::CompletedCannotBeCancelled),
        (Cancelled, Pay) => Err(Refusal::CancelledCannotBeCompleted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Command::{Cancel, Expire, Pay};
    use OrderStatus::{Cancelled, Complete, Created};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_000_000, 0).unwrap()
    }

    /// An order in `status` whose time ran out a minute ago.
    fn overdue(status: OrderStatus) -> Facts {
        Facts {
            status,
            expires_at: now() - chrono::Duration::minutes(1),
        }
    }

    #[test]
    fn a_created_order_is_cancelled_by_its_buyer_or_by_expiry() {
        assert_eq!(
            decide(overdue(Created), Cancel, now()),
            Ok(Decision::Become(Cancelled))
        );
        assert_eq!(
            decide(overdue(Created), Expire, now()),
            Ok(Decision::Become(Cancelled))
        );
    }

    #[test]
    fn a_created_order_is_completed_by_a_payment() {
        assert_eq!(
            decide(overdue(Created), Pay, now()),
            Ok(Decision::Become(Complete))
        );
    }

    #[test]
    fn an_expiry_announced_before_the_order_s_time_is_up_changes_nothing() {
        let given = Facts {
            status: Created,
            expires_at: now() + chrono::Duration::seconds(3),
        };
        assert_eq!(
            decide(given, Expire, now()),
            Err(Refusal::NotDueYet(chrono::Duration::seconds(3)))
        );
        assert_eq!(
            decide(given, Cancel, now()),
            Ok(Decision::Become(Cancelled)),
            "the buyer may"
        );
    }

    #[test]
    fn an_order_expires_the_moment_its_time_is_up() {
        let given = Facts {
            status: Created,
            expires_at: now(),
        };
        assert_eq!(
            decide(given, Expire, now()),
            Ok(Decision::Become(Cancelled))
        );
    }

    #[test]
    fn nothing_leaves_cancelled() {
        assert_eq!(
            decide(overdue(Cancelled), Cancel, now()),
            Ok(Decision::Unchanged)
        );
        assert_eq!(
            decide(overdue(Cancelled), Expire, now()),
            Ok(Decision::Unchanged)
        );
        assert_eq!(
            decide(overdue(Cancelled), Pay, now()),
            Err(Refusal::CancelledCannotBeCompleted)
        );
    }

    #[test]
    fn nothing_leaves_complete() {
        assert_eq!(
            decide(overdue(Complete), Cancel, now()),
            Err(Refusal::CompletedCannotBeCancelled)
        );
        assert_eq!(
            decide(overdue(Complete), Expire, now()),
            Ok(Decision::Unchanged)
        );
        assert_eq!(
            decide(overdue(Complete), Pay, now()),
            Ok(Decision::Unchanged)
        );
    }

    #[test]
    fn every_command_from_every_state_ends_in_a_known_state() {
        for status in [Created, Cancelled, Complete] {
            for command in [Cancel, Expire, Pay] {
                match decide(overdue(status), command, now()) {
                    Ok(Decision::Become(next)) => {
                        assert_eq!(status, Created, "only created moves");
                        assert_ne!(next, Created, "never back to created");
                    }
                    Ok(Decision::Unchanged) | Err(_) => assert_ne!(status, Created),
                }
            }
        }
    }
}
