//! The orders service's pure rules.

mod lifecycle;
pub mod placing;

pub use lifecycle::{Command, Decision, Facts, Refusal, decide};
pub use placing::{Buyer, PlaceRefused, may_place};
