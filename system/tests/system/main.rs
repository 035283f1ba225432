//! The whole platform as real processes behind the proxy: the purchase
//! journey, processes killed mid-flow, consumers lagging for minutes,
//! contention, and bad input on every route.

mod accounts;
mod alerts;
mod bad_input;
mod cluster;
mod contention;
mod contract;
mod faults;
mod helpers;
mod journey;
mod lag;
mod metrics;
mod operate;
mod rebuild;
mod rules;
mod traces;
