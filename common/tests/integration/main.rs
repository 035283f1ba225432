//! The shared crate against the real servers: HTTP errors, the bus and its
//! listeners, the outbox.

mod bus;
mod errors;
mod helpers;
mod outbox;
