//! The orders service's pure rules.

mod lifecycle;

pub use lifecycle::{Command, Decision, Refusal, decide};
