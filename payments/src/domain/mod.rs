//! The payments service's validated types.

mod token;

pub use token::PaymentToken;
