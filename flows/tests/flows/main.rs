//! Flows through several services and the real bus, observed through their
//! HTTP APIs; at the end, the replicas agree with their sources.

mod accounts;
mod expiry;
mod platform;
mod purchase;
mod reservation;
