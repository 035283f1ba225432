//! Money is exact: a price is whole cents everywhere inside the platform and
//! in its events; only the JSON API shows it as a decimal number (`12.5`).

use serde::{Serialize, Serializer};

/// The highest price a ticket may have, in cents (1,000,000.00).
pub const MAX_CENTS: i64 = 100_000_000;

/// A positive amount of money in cents, at most [`MAX_CENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(i64);

impl Price {
    /// Reads the decimal number a client sent: more than 0, at most
    /// 1,000,000, with at most two decimals.
    pub fn parse(amount: f64) -> Result<Self, &'static str> {
        if !amount.is_finite() || amount <= 0.0 {
            return Err("Price must be greater than 0");
        }
        if amount > (MAX_CENTS / 100) as f64 {
            return Err("Price must be at most 1000000");
        }
        let cents = amount * 100.0;
        let whole = cents.round();
        // A decimal such as 19.99 is not exact in binary: allow the
        // representation error, refuse a real third decimal.
        if (cents - whole).abs() > 1e-6 {
            return Err("Price must have at most 2 decimals");
        }
        // A positive amount below half a cent would round to nothing.
        if whole < 1.0 {
            return Err("Price must be greater than 0");
        }
        Ok(Self(whole as i64))
    }

    /// Reads a decimal exactly as a client wrote it, in JSON's number
    /// syntax (`12.5`, `12.50`, `1.25e1`): more than 0, at most 1,000,000,
    /// with at most two decimals however it is written (`12.5000000001`
    /// is refused, where a machine number would round it to 12.50).
    pub fn parse_text(text: &str) -> Result<Self, &'static str> {
        let cents =
            exact_cents(text.trim()).ok_or("Price must be a number with at most 2 decimals")?;
        match cents {
            Cents::Negative | Cents::Zero => Err("Price must be greater than 0"),
            Cents::TooMany => Err("Price must have at most 2 decimals"),
            Cents::Exact(cents) if cents > MAX_CENTS => Err("Price must be at most 1000000"),
            Cents::Exact(cents) => Ok(Self(cents)),
        }
    }

    /// A price that is already in cents (from our own records or events).
    pub fn from_cents(cents: i64) -> Self {
        Self(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// The decimal the API shows. Exact: the nearest double to `cents / 100`
    /// prints as that decimal.
    pub fn as_decimal(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// What a decimal comes to in whole cents.
enum Cents {
    Negative,
    Zero,
    /// A fraction of a cent.
    TooMany,
    Exact(i64),
}

/// The decimal `text` (JSON number syntax) in cents; `None` if it is not one.
fn exact_cents(text: &str) -> Option<Cents> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], text[at + 1..].parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty()
        || !digits_ok(whole)
        || !digits_ok(fraction)
        || (mantissa.contains('.') && fraction.is_empty())
    {
        return None;
    }
    // The value is digits × 10^scale; in cents, × 10^(scale + 2).
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(Cents::Zero);
    }
    if negative {
        return Some(Cents::Negative);
    }
    let significant = digits.trim_end_matches('0');
    let trailing_zeros = (digits.len() - significant.len()) as i64;
    let shift = exponent - fraction.len() as i64 + 2 + trailing_zeros;
    if shift < 0 {
        return Some(Cents::TooMany);
    }
    // Anything with more than 12 digits of cents is far above the limit.
    if significant.len() as i64 + shift > 12 {
        return Some(Cents::Exact(i64::MAX));
    }
    let cents = significant.parse::<i64>().ok()? * 10_i64.pow(shift as u32);
    Some(Cents::Exact(cents))
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_decimal())
    }
}

/// In the API a price is a decimal number of the currency, not cents.
impl utoipa::PartialSchema for Price {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .exclusive_minimum(Some(0.0))
            .maximum(Some((MAX_CENTS / 100) as f64))
            .description(Some("An amount with at most two decimals"))
            .examples([serde_json::json!(12.5)])
            .into()
    }
}

impl utoipa::ToSchema for Price {}

#[cfg(test)]
mod exact_tests {
    use super::*;

    #[test]
    fn a_price_written_in_any_json_form_is_read_exactly() {
        for (text, cents) in [
            ("12.5", 1250),
            ("12.50", 1250),
            ("1.25e1", 1250),
            ("1250E-2", 1250),
            ("1000000", 100_000_000),
            ("0.01", 1),
            ("3", 300),
        ] {
            assert_eq!(
                Price::parse_text(text).map(Price::cents),
                Ok(cents),
                "{text}"
            );
        }
    }

    #[test]
    fn more_than_two_decimals_is_refused_however_the_number_is_written() {
        for text in [
            "12.5000000001",
            "0.001",
            "1.234",
            "1234e-5",
            "12.500000000000000000001",
        ] {
            assert_eq!(
                Price::parse_text(text),
                Err("Price must have at most 2 decimals"),
                "{text}"
            );
        }
    }

    #[test]
    fn zero_negative_too_large_or_not_a_number_is_refused() {
        assert_eq!(Price::parse_text("0"), Err("Price must be greater than 0"));
        assert_eq!(
            Price::parse_text("0.00"),
            Err("Price must be greater than 0")
        );
        assert_eq!(Price::parse_text("-5"), Err("Price must be greater than 0"));
        assert_eq!(
            Price::parse_text("1000000.01"),
            Err("Price must be at most 1000000")
        );
        assert_eq!(
            Price::parse_text("1e300"),
            Err("Price must be at most 1000000")
        );
        for text in ["", "abc", "1.", ".5", "1e", "--1", "\"12\""] {
            assert!(Price::parse_text(text).is_err(), "{text:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_two_decimal_amounts_become_exact_cents() {
        let cases = [
            (1.0, 100),
            (12.5, 1250),
            (19.99, 1999),
            (0.01, 1),
            (0.29, 29),
            (1_000_000.0, MAX_CENTS),
        ];
        for (amount, cents) in cases {
            assert_eq!(
                Price::parse(amount).map(Price::cents),
                Ok(cents),
                "{amount}"
            );
        }
    }

    #[test]
    fn amounts_out_of_range_or_too_precise_are_refused_with_a_reason() {
        let cases = [
            (0.0, "greater than 0"),
            (-5.0, "greater than 0"),
            (f64::NAN, "greater than 0"),
            (1_000_000.01, "at most 1000000"),
            (f64::INFINITY, "greater than 0"),
            (12.345, "2 decimals"),
            (0.001, "2 decimals"),
            (1e-9, "greater than 0"),
            (f64::MIN_POSITIVE, "greater than 0"),
        ];
        for (amount, reason) in cases {
            let err = Price::parse(amount).unwrap_err();
            assert!(err.contains(reason), "{amount}: {err}");
        }
    }

    #[test]
    fn the_api_shows_cents_as_a_decimal_number() {
        for (cents, json) in [(1250, "12.5"), (1999, "19.99"), (100, "1.0"), (1, "0.01")] {
            assert_eq!(
                serde_json::to_string(&Price::from_cents(cents)).unwrap(),
                json
            );
        }
    }
}
