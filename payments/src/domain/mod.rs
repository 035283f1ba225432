//! The payments service's validated types and pure rules.

pub mod intent;
pub mod order;
pub mod refunds;
pub mod signature;
mod token;

pub use intent::{IntentStatus, Verdict, verdict};
pub use order::{NotPayable, payable, refund_due};
pub use token::PaymentToken;
