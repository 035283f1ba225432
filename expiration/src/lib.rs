//! The expiration service: schedules every new order's expiry in Redis and
//! announces `expiration.complete` when it is due. It has no HTTP API of its
//! own, only health, and no database but Redis.

pub mod config;
pub mod listeners;
pub mod schedule;
pub mod scheduler;
pub mod startup;
