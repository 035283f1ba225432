//! When a refund that failed is tried again: each payment on its own
//! schedule, so that one Stripe keeps refusing never holds up the others.

use std::time::Duration;

const FIRST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(600);

/// The pause after the `failures`th failed try: doubling from a second, at
/// most ten minutes.
pub fn retry_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST.saturating_mul(1 << doublings).min(LONGEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_refund_that_keeps_failing_then_it_is_tried_less_and_less_often() {
        assert_eq!(retry_after(1), Duration::from_secs(1));
        assert_eq!(retry_after(2), Duration::from_secs(2));
        assert_eq!(retry_after(5), Duration::from_secs(16));
        assert_eq!(retry_after(30), LONGEST);
    }
}
