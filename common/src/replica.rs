//! Applying another service's records in version order. A replicated record
//! carries a version that grows by one with every change; version N is
//! applied only on top of N-1, so the outcome never depends on the order in
//! which the bus delivers changes, nor on duplicates.

/// What to do with an incoming version, given the version already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// It is the next version: apply it.
    Apply,
    /// It was applied already: acknowledge and ignore it.
    Duplicate,
    /// A version before it is missing: try again later.
    Early,
}

/// Decides for `incoming` when `stored` is the version we hold (`None` when
/// we hold nothing yet; records start at version 0).
pub fn step(stored: Option<i64>, incoming: i64) -> Step {
    let next = stored.map_or(0, |version| version + 1);
    match incoming.cmp(&next) {
        std::cmp::Ordering::Equal => Step::Apply,
        std::cmp::Ordering::Less => Step::Duplicate,
        std::cmp::Ordering::Greater => Step::Early,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_version_applies_to_nothing() {
        assert_eq!(step(None, 0), Step::Apply);
    }

    #[test]
    fn a_later_version_before_the_first_is_early() {
        assert_eq!(step(None, 1), Step::Early);
    }

    #[test]
    fn the_next_version_applies() {
        assert_eq!(step(Some(3), 4), Step::Apply);
    }

    #[test]
    fn a_version_already_held_or_older_is_a_duplicate() {
        assert_eq!(step(Some(3), 3), Step::Duplicate);
        assert_eq!(step(Some(3), 0), Step::Duplicate);
    }

    #[test]
    fn a_version_that_skips_one_is_early() {
        assert_eq!(step(Some(3), 5), Step::Early);
    }
}
