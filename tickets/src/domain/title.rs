//! A ticket's title: 1 to 200 characters once trimmed, at least one of
//! them visible, none a control character.

const MAX_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("Title is required".into());
        }
        super::text::check(trimmed, "Title", MAX_CHARS, false)?;
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_trimmed() {
        assert_eq!(Title::parse("  Concert  ").unwrap().as_str(), "Concert");
    }

    #[test]
    fn an_empty_or_blank_title_is_refused() {
        assert!(Title::parse("").is_err());
        assert!(Title::parse(" \t\n").is_err());
    }

    #[test]
    fn two_hundred_characters_are_the_limit_counted_in_characters_not_bytes() {
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn a_title_of_only_a_zero_width_space_or_with_a_nul_is_refused() {
        assert!(Title::parse("\u{200B}").is_err());
        assert!(Title::parse("Con\0cert").is_err());
    }
}
