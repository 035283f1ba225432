//! The whole platform as real processes behind the proxy: the purchase
//! journey, processes killed mid-flow, contention, and bad input on every
//! route.

mod bad_input;
mod contention;
mod faults;
mod helpers;
mod journey;
