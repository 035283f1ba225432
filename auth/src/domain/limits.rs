//! Attempt limits, decided on what the database holds so that they hold
//! across replicas: failed sign-ins per email, and sign-ups and sign-ins
//! per client address, and the client address itself.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Failed sign-ins for one email before it is locked.
pub const FAILURES: u32 = 5;
/// The window they are counted in, and the lock lasts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long an email stays locked after `failures` failed sign-ins, the
/// first of them at `since`; `None` while it may still try.
pub fn locked_for(failures: u32, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<Duration> {
    let ends = since + chrono::Duration::from_std(WINDOW).ok()?;
    (failures >= FAILURES && now < ends).then(|| (ends - now).to_std().unwrap_or_default())
}

/// What a sign-in for an email may do, given its settled failures and the
/// sign-ins for it still being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Check the password.
    Go,
    /// Five failures: refused until the window has passed.
    Locked(Duration),
    /// So many checks already under way that, were they all to fail, this
    /// one would be past the limit: try again in a moment.
    Crowded,
}

/// Decides a sign-in for an email with `failures` settled since `since` and
/// `checking` others under way. Guesses sent at once are held to the same
/// five as guesses sent one by one.
pub fn attempt(failures: u32, checking: u32, since: DateTime<Utc>, now: DateTime<Utc>) -> Attempt {
    let window = chrono::Duration::from_std(WINDOW).unwrap_or_default();
    let failures = if now < since + window { failures } else { 0 };
    if let Some(wait) = locked_for(failures, since, now) {
        Attempt::Locked(wait)
    } else if failures.saturating_add(checking) >= FAILURES {
        Attempt::Crowded
    } else {
        Attempt::Go
    }
}

/// What people are told while locked out: whole minutes, rounded up.
pub fn lockout_message(wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Too many attempts, try again in {minutes} {unit}")
}

/// The client's address from `X-Forwarded-For`, as the proxy or ingress
/// reports it: the nearest address, from the right, that is not one of the
/// platform's own hops (loopback, private networks); the furthest when all
/// are (on one machine). `None` without the header.
pub fn client_address(forwarded_for: Option<&str>) -> Option<IpAddr> {
    let hops: Vec<IpAddr> = forwarded_for?
        .split(',')
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|hop| !internal(hop))
        .or(hops.first())
        .copied()
}

fn internal(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn given_fewer_than_five_failures_then_the_email_may_try() {
        assert_eq!(locked_for(4, at(0), at(10)), None);
    }

    #[test]
    fn given_five_failures_then_it_is_locked_until_the_window_has_passed() {
        assert_eq!(
            locked_for(5, at(0), at(60)),
            Some(Duration::from_secs(14 * 60))
        );
        assert_eq!(locked_for(5, at(0), at(15 * 60)), None);
    }

    #[test]
    fn given_four_failures_and_one_check_under_way_then_a_fifth_guess_waits() {
        assert_eq!(attempt(4, 0, at(0), at(1)), Attempt::Go);
        assert_eq!(attempt(4, 1, at(0), at(1)), Attempt::Crowded);
        assert_eq!(attempt(0, 5, at(0), at(1)), Attempt::Crowded);
    }

    #[test]
    fn given_five_failures_then_every_attempt_is_locked_out() {
        assert!(matches!(attempt(5, 0, at(0), at(1)), Attempt::Locked(_)));
        assert_eq!(attempt(5, 0, at(0), at(15 * 60)), Attempt::Go);
    }

    #[test]
    fn the_lockout_is_told_in_whole_minutes() {
        assert_eq!(
            lockout_message(Duration::from_secs(61)),
            "Too many attempts, try again in 2 minutes"
        );
        assert_eq!(
            lockout_message(Duration::from_secs(30)),
            "Too many attempts, try again in 1 minute"
        );
    }

    #[test]
    fn the_client_is_the_nearest_address_outside_the_platform() {
        let address = |header| client_address(Some(header)).map(|a| a.to_string());
        assert_eq!(address("203.0.113.7"), Some("203.0.113.7".into()));
        assert_eq!(
            address("198.51.100.1, 203.0.113.7, 10.0.0.5"),
            Some("203.0.113.7".into()),
            "a forged first hop"
        );
        assert_eq!(address("127.0.0.1, 127.0.0.1"), Some("127.0.0.1".into()));
        assert_eq!(client_address(None), None);
        assert_eq!(address("garbage"), None);
    }
}
