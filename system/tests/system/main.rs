//! The whole platform as real processes behind the proxy: the purchase
//! journey, contention, and bad input on every route.

mod bad_input;
mod contention;
mod helpers;
mod journey;
