//! The expiration service against real Redis and the real bus.

mod expiry;
mod helpers;
mod redis_restart;
mod schedule;
