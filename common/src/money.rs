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

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_decimal())
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
