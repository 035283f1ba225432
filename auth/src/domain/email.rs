//! An email address as the platform stores it: valid and lower-cased.

use std::fmt;

use email_address::EmailAddress;

/// A valid, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address SMTP can carry.
    const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Email is required");
        }
        if email.len() > Self::MAX_LEN
            || !EmailAddress::is_valid(&email)
            || !has_dotted_domain(&email)
        {
            return Err("Email must be valid");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `user@localhost` is valid by the RFC but cannot be a customer's address.
fn has_dotted_domain(email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, domain)| {
        domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_lower_cased_and_trimmed() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn invalid_addresses_are_refused() {
        for (raw, why) in [
            ("", "empty"),
            ("alice", "no at sign"),
            ("alice@", "no domain"),
            ("@example.com", "no local part"),
            ("alice@localhost", "no dot in the domain"),
            ("al ice@example.com", "a space"),
            ("alice@@example.com", "two at signs"),
        ] {
            assert!(
                Email::parse(raw).is_err(),
                "{raw:?} was accepted though it has {why}"
            );
        }
    }

    #[test]
    fn an_address_longer_than_smtp_allows_is_refused() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&raw).is_err());
    }
}
