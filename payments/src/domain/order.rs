//! What payments may do with an order, as its replica knows it.

use chrono::{DateTime, Utc};
use common::events::OrderStatus;

/// Why an order cannot be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotPayable {
    #[error("Cannot pay for a cancelled order")]
    Cancelled,
    #[error("The order is already paid")]
    Paid,
    #[error("The order has expired")]
    Expired,
}

/// Whether an order in `status`, held until `expires_at`, can be paid at `now`.
pub fn payable(
    status: OrderStatus,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), NotPayable> {
    match status {
        OrderStatus::Cancelled => Err(NotPayable::Cancelled),
        OrderStatus::Complete => Err(NotPayable::Paid),
        OrderStatus::Created if expires_at <= now => Err(NotPayable::Expired),
        OrderStatus::Created => Ok(()),
    }
}

/// Whether an order that became `status` owes back the payment it has (rule 4).
pub fn refund_due(status: OrderStatus, paid: bool) -> bool {
    paid && status == OrderStatus::Cancelled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_000_000, 0).unwrap()
    }

    #[test]
    fn given_a_live_order_when_it_is_paid_in_time_then_it_is_payable() {
        let later = now() + chrono::Duration::minutes(5);
        assert_eq!(payable(OrderStatus::Created, later, now()), Ok(()));
    }

    #[test]
    fn given_an_order_whose_time_is_up_when_it_is_paid_then_it_is_refused() {
        assert_eq!(
            payable(OrderStatus::Created, now(), now()),
            Err(NotPayable::Expired)
        );
    }

    #[test]
    fn given_an_ended_order_when_it_is_paid_then_it_is_refused() {
        let later = now() + chrono::Duration::minutes(5);
        assert_eq!(
            payable(OrderStatus::Cancelled, later, now()),
            Err(NotPayable::Cancelled)
        );
        assert_eq!(
            payable(OrderStatus::Complete, later, now()),
            Err(NotPayable::Paid)
        );
    }

    #[test]
    fn given_a_paid_order_when_it_is_cancelled_then_its_payment_is_owed_back() {
        assert!(refund_due(OrderStatus::Cancelled, true));
        assert!(
            !refund_due(OrderStatus::Cancelled, false),
            "nothing was paid"
        );
        assert!(!refund_due(OrderStatus::Complete, true), "paid and kept");
    }
}
