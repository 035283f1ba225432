//! The orders service's API and listeners, exercised over HTTP and the real
//! bus against a real database; and one flow through tickets and orders.

mod cancel;
mod create;
mod flow;
mod helpers;
mod listeners;
mod show_and_list;
