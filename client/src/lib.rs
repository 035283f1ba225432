//! The web client: HTML pages rendered on the server from the services'
//! APIs, the way the original Next.js client rendered them. The browser's
//! session cookie is forwarded to the APIs and their `Set-Cookie` passed
//! back. Forms work without JavaScript; the only scripts are the payment
//! form (Stripe.js) and the countdown on an order.

pub mod api;
pub mod assets;
pub mod config;
pub mod routes;
pub mod security;
pub mod startup;
pub mod views;
