//! The tickets service's API and listeners, exercised over HTTP and the real
//! bus against a real database.

mod catalogue;
mod create;
mod helpers;
mod listeners;
mod show_and_list;
mod update;
mod withdraw;
