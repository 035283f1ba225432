//! The orders service's API and listeners, exercised over HTTP and the real
//! bus against a real database.

mod cancel;
mod create;
mod expiry;
mod helpers;
mod listeners;
mod show_and_list;
