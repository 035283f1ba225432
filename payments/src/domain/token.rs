//! What the browser's Stripe.js gave for the card: a PaymentMethod id.

const MAX_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentToken(String);

impl PaymentToken {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let token = raw.trim();
        if token.is_empty() {
            return Err("A payment token is required");
        }
        if token.len() > MAX_LEN || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err("The payment token is malformed");
        }
        Ok(Self(token.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_method_id_is_a_token() {
        assert_eq!(
            PaymentToken::parse(" pm_card_visa ").unwrap().as_str(),
            "pm_card_visa"
        );
    }

    #[test]
    fn empty_overlong_or_strange_tokens_are_refused() {
        assert!(PaymentToken::parse("").is_err());
        assert!(PaymentToken::parse(&"a".repeat(256)).is_err());
        assert!(PaymentToken::parse("pm card").is_err());
        assert!(PaymentToken::parse("pm_<script>").is_err());
    }
}
