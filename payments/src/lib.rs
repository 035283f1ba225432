//! The payments service: charges an order's price through Stripe, at most
//! once per order, and refunds a payment whose order was cancelled. It keeps
//! a replica of the orders, built from the orders service's events in
//! version order.

pub mod config;
pub mod domain;
pub mod listeners;
pub mod refunder;
pub mod repository;
pub mod routes;
pub mod startup;
pub mod stripe;
