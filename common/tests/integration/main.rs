//! The shared crate against the real servers: HTTP errors, the bus and its
//! listeners and their gauges, the outbox, the Mongo helpers.

mod bus;
mod consumers;
mod errors;
mod helpers;
mod metrics;
mod mongo;
mod outbox;
mod revocations;
