//! The payments service: charges an order's price through Stripe, one
//! PaymentIntent per order (3-D Secure included), hears of its outcome by
//! request, webhook or reconciliation, and refunds a payment whose order
//! was cancelled. It keeps a replica of the orders, built from the orders
//! service's events in version order.

pub mod config;
pub mod domain;
pub mod listeners;
pub mod rebuild;
pub mod reconciler;
pub mod refunder;
pub mod repository;
pub mod routes;
pub mod settle;
pub mod startup;
pub mod stripe;
