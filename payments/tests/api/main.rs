//! The payments service against a real database, the real bus and
//! localstripe standing in for Stripe.

mod helpers;
mod pay;
mod refunds;
mod replica;
