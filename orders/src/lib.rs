//! The orders service: reserves tickets for buyers, atomically, and follows
//! each order through its life (cancelled by its buyer, expired, or paid).
//! It keeps its own replica of the tickets, built from the tickets service's
//! events in version order.

pub mod config;
pub mod domain;
pub mod listeners;
pub mod rebuild;
pub mod repository;
pub mod routes;
pub mod startup;
pub mod sweep;
