//! The tickets service: lists tickets for sale and keeps each one's state as
//! orders hold, release and buy it. It is the source of truth for tickets and
//! tells the others of every change through the outbox.

pub mod config;
pub mod domain;
pub mod listeners;
pub mod repository;
pub mod routes;
pub mod startup;
