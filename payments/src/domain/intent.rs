//! What Stripe says of an order's PaymentIntent, and what that means for
//! the buyer and for us. One intent per order: it is created once, and
//! every attempt confirms that same intent, so it can succeed only once.

/// A PaymentIntent's status, as Stripe names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    /// 3-D Secure: the buyer must authenticate in the browser.
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Canceled,
    Other(String),
}

impl IntentStatus {
    pub fn parse(status: &str) -> Self {
        match status {
            "requires_payment_method" => Self::RequiresPaymentMethod,
            "requires_confirmation" => Self::RequiresConfirmation,
            "requires_action" => Self::RequiresAction,
            "processing" => Self::Processing,
            "requires_capture" => Self::RequiresCapture,
            "succeeded" => Self::Succeeded,
            "canceled" => Self::Canceled,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresConfirmation => "requires_confirmation",
            Self::RequiresAction => "requires_action",
            Self::Processing => "processing",
            Self::RequiresCapture => "requires_capture",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
            Self::Other(other) => other,
        }
    }

    /// Nothing more happens to it: paid, or called off.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Canceled)
    }
}

/// What an attempt to pay comes to, once Stripe has said where the intent is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The money is taken: record the payment.
    Paid,
    /// The buyer must authenticate (3-D Secure) in the browser.
    Authenticate,
    /// The card was refused; the buyer may try another.
    Declined(String),
    /// Stripe is still at it: the outcome arrives by webhook or reconciliation.
    Pending,
    /// The intent was called off (the order ended): nothing more can be paid.
    CalledOff,
}

/// The verdict on an intent in `status`, whose last error (if any) is `error`.
pub fn verdict(status: &IntentStatus, error: Option<&str>) -> Verdict {
    match status {
        IntentStatus::Succeeded => Verdict::Paid,
        IntentStatus::RequiresAction => Verdict::Authenticate,
        IntentStatus::RequiresPaymentMethod => Verdict::Declined(
            error
                .unwrap_or("The payment could not be completed; try another card")
                .to_string(),
        ),
        IntentStatus::Canceled => Verdict::CalledOff,
        IntentStatus::RequiresConfirmation
        | IntentStatus::Processing
        | IntentStatus::RequiresCapture
        | IntentStatus::Other(_) => Verdict::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_succeeded_intent_then_the_order_is_paid() {
        assert_eq!(
            verdict(&IntentStatus::parse("succeeded"), None),
            Verdict::Paid
        );
    }

    #[test]
    fn given_an_intent_that_needs_3d_secure_then_the_buyer_authenticates() {
        assert_eq!(
            verdict(&IntentStatus::RequiresAction, None),
            Verdict::Authenticate
        );
    }

    #[test]
    fn given_a_refused_card_then_the_buyer_is_told_stripe_s_reason_and_may_try_again() {
        assert_eq!(
            verdict(
                &IntentStatus::RequiresPaymentMethod,
                Some("Your card was declined.")
            ),
            Verdict::Declined("Your card was declined.".into())
        );
    }

    #[test]
    fn given_an_intent_stripe_is_still_working_on_then_the_outcome_comes_later() {
        for status in ["processing", "requires_confirmation", "something_new"] {
            assert_eq!(
                verdict(&IntentStatus::parse(status), None),
                Verdict::Pending,
                "{status}"
            );
        }
    }

    #[test]
    fn only_succeeded_and_canceled_intents_are_final() {
        let finals: Vec<_> = [
            "requires_payment_method",
            "requires_confirmation",
            "requires_action",
            "processing",
            "requires_capture",
            "succeeded",
            "canceled",
        ]
        .into_iter()
        .filter(|status| IntentStatus::parse(status).is_final())
        .collect();
        assert_eq!(finals, ["succeeded", "canceled"]);
    }

    #[test]
    fn a_status_reads_back_as_it_was_written() {
        for status in ["requires_action", "succeeded", "brand_new"] {
            assert_eq!(IntentStatus::parse(status).as_str(), status);
        }
    }
}
