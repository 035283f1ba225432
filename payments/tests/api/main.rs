//! The payments service against a real database, the real bus and
//! localstripe standing in for Stripe.

mod helpers;
mod intents;
mod pay;
mod refunds;
mod replica;
mod stall;
mod webhooks;
