//! The auth service's settings: what every service reads, the bus it
//! publishes bans and ended sessions on, who the admins are, and how many
//! sign-ups and sign-ins one address may make a minute.

use common::config::{BusSettings, ConfigError, ServiceSettings, optional};

#[derive(Debug, Clone)]
pub struct Settings {
    pub service: ServiceSettings,
    pub bus: BusSettings,
    /// Lower-cased: their sessions carry `role: admin`.
    pub admin_emails: Vec<String>,
    /// Sign-ups and sign-ins a minute from one client address; 0 for no limit.
    pub attempts_per_minute: u32,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let admins: String = optional("ADMIN_EMAILS", String::new())?;
        Ok(Self {
            service: ServiceSettings::from_env("auth")?,
            bus: BusSettings::from_env()?,
            admin_emails: admin_emails(&admins),
            attempts_per_minute: optional("AUTH_ATTEMPTS_PER_MINUTE", 60)?,
        })
    }
}

/// `ADMIN_EMAILS` as a list: comma separated, any case.
pub fn admin_emails(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|email| email.trim().to_lowercase())
        .filter(|email| !email.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_are_read_comma_separated_in_any_case() {
        assert_eq!(
            admin_emails(" Ada@Example.com, ,bob@example.com "),
            ["ada@example.com", "bob@example.com"]
        );
        assert!(admin_emails("").is_empty());
    }
}
