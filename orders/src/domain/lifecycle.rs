//! The order's state machine: `created` becomes `cancelled` (by its buyer or
//! by expiry) or `complete` (paid); nothing leaves `cancelled` or `complete`.
//! Deciding is pure; the repository applies what was decided.

use common::events::OrderStatus;

/// What someone asks of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The buyer cancels.
    Cancel,
    /// The reservation's time ran out.
    Expire,
    /// A payment succeeded.
    Pay,
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
}

pub fn decide(status: OrderStatus, command: Command) -> Result<Decision, Refusal> {
    use Command::{Cancel, Expire, Pay};
    use OrderStatus::{Cancelled, Complete, Created};
    match (status, command) {
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

    #[test]
    fn a_created_order_is_cancelled_by_its_buyer_or_by_expiry() {
        assert_eq!(decide(Created, Cancel), Ok(Decision::Become(Cancelled)));
        assert_eq!(decide(Created, Expire), Ok(Decision::Become(Cancelled)));
    }

    #[test]
    fn a_created_order_is_completed_by_a_payment() {
        assert_eq!(decide(Created, Pay), Ok(Decision::Become(Complete)));
    }

    #[test]
    fn nothing_leaves_cancelled() {
        assert_eq!(decide(Cancelled, Cancel), Ok(Decision::Unchanged));
        assert_eq!(decide(Cancelled, Expire), Ok(Decision::Unchanged));
        assert_eq!(
            decide(Cancelled, Pay),
            Err(Refusal::CancelledCannotBeCompleted)
        );
    }

    #[test]
    fn nothing_leaves_complete() {
        assert_eq!(
            decide(Complete, Cancel),
            Err(Refusal::CompletedCannotBeCancelled)
        );
        assert_eq!(decide(Complete, Expire), Ok(Decision::Unchanged));
        assert_eq!(decide(Complete, Pay), Ok(Decision::Unchanged));
    }

    #[test]
    fn every_command_from_every_state_ends_in_a_known_state() {
        for status in [Created, Cancelled, Complete] {
            for command in [Cancel, Expire, Pay] {
                match decide(status, command) {
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
