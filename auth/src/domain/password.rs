//! Passwords: the length rule, and argon2id hashing, which is slow on
//! purpose and so runs off the async runtime.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use password_hash::rand_core::OsRng;

/// A password a user chose: 8 to 128 characters.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let chars = raw.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err("Password must be between 8 and 128 characters");
        }
        Ok(Self(raw.to_string()))
    }

    /// Hashes on a blocking thread.
    pub async fn hash(self) -> anyhow::Result<PasswordHash> {
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            let hash = Argon2::default()
                .hash_password(self.0.as_bytes(), &salt)
                .map_err(|err| anyhow::anyhow!("cannot hash password: {err}"))?;
            Ok(PasswordHash(hash.to_string()))
        })
        .await?
    }
}

/// An argon2id hash in PHC string form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the password; runs on a blocking thread. Takes
    /// as long for a wrong password as for the right one.
    pub async fn verify(&self, candidate: String) -> anyhow::Result<bool> {
        let phc = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let parsed = argon2::PasswordHash::new(&phc)
                .map_err(|err| anyhow::anyhow!("stored hash is malformed: {err}"))?;
            Ok(Argon2::default()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok())
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_count_characters() {
        assert!(Password::parse(&"a".repeat(7)).is_err());
        assert!(Password::parse(&"a".repeat(8)).is_ok());
        assert!(Password::parse(&"a".repeat(128)).is_ok());
        assert!(Password::parse(&"a".repeat(129)).is_err());
        // Eight characters, sixteen bytes.
        assert!(Password::parse("éééééééé").is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = Password::parse("correct horse")
            .unwrap()
            .hash()
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hash.verify("correct horse".into()).await.unwrap());
        assert!(!hash.verify("battery staple".into()).await.unwrap());
    }

    #[test]
    fn debug_output_hides_the_password() {
        assert!(!format!("{:?}", Password::parse("supersecret").unwrap()).contains("supersecret"));
    }
}
