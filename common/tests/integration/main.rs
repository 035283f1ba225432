//! The shared crate against the real servers: HTTP errors, the bus and its
//! listeners, the outbox, the Mongo helpers.

mod bus;
mod errors;
mod helpers;
mod mongo;
mod outbox;
