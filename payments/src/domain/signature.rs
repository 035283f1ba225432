//! Stripe's webhook signature: `Stripe-Signature: t=<unix time>,v1=<hex>`,
//! the hex being HMAC-SHA256 of `<t>.<body>` under the endpoint's secret.
//! Checked in constant time; a signature more than five minutes from now
//! is refused, so a recorded delivery cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far the signed time may be from ours.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a delivery is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the signature is more than five minutes old")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Whether `header` signs `body` with `secret`, at `now` (unix seconds).
pub fn verify(header: Option<&str>, body: &[u8], secret: &str, now: i64) -> Result<(), Refused> {
    let header = header.ok_or(Refused::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => {
                signatures.push(hex::decode(value).map_err(|_| Refused::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refused::Malformed)?;
    if signatures.is_empty() {
        return Err(Refused::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(Refused::Stale);
    }
    let signed = |signature: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(signature).is_ok()
    };
    if signatures.iter().any(|signature| signed(signature)) {
        Ok(())
    } else {
        Err(Refused::Mismatch)
    }
}

/// The header Stripe would send for `body` at `timestamp` (for tests and tools).
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    #[test]
    fn given_stripe_s_signature_then_the_delivery_is_accepted() {
        let header = sign(BODY, SECRET, NOW - 10);
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW), Ok(()));
    }

    #[test]
    fn given_a_signature_among_others_then_any_match_is_enough() {
        let good = sign(BODY, SECRET, NOW);
        let header = format!("{},v1={},v0=abc", good, "00".repeat(32));
        assert_eq!(verify(Some(&header), BODY, SECRET, NOW), Ok(()));
    }

    #[test]
    fn given_another_secret_or_a_changed_body_then_it_does_not_match() {
        let header = sign(BODY, "whsec_other", NOW);
        assert_eq!(
            verify(Some(&header), BODY, SECRET, NOW),
            Err(Refused::Mismatch)
        );
        let header = sign(BODY, SECRET, NOW);
        assert_eq!(
            verify(Some(&header), b"{}", SECRET, NOW),
            Err(Refused::Mismatch)
        );
    }

    #[test]
    fn given_a_signature_six_minutes_old_then_it_is_stale() {
        let header = sign(BODY, SECRET, NOW - 360);
        assert_eq!(
            verify(Some(&header), BODY, SECRET, NOW),
            Err(Refused::Stale)
        );
    }

    #[test]
    fn given_no_header_or_a_garbled_one_then_it_is_refused() {
        assert_eq!(verify(None, BODY, SECRET, NOW), Err(Refused::Missing));
        for header in ["", "t=abc,v1=00", "t=1700000000", "t=1700000000,v1=zz"] {
            assert_eq!(
                verify(Some(header), BODY, SECRET, NOW),
                Err(Refused::Malformed),
                "{header:?}"
            );
        }
    }
}
