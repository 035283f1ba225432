//! The tickets service's validated types and pure rules.

pub mod edits;
pub mod holds;
pub mod listing;
pub mod query;
mod text;
mod title;

pub use common::Price;
pub use edits::{EditRefused, Withdrawal, may_edit, may_withdraw};
pub use holds::{Ending, Holder, OrderEvent, Stage, Status, Verdict};
pub use listing::{Draft, Listing};
pub use query::{Catalogue, Sort};
pub use title::Title;
