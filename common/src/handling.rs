//! What a listener's handler says of one event: applied (and which waiting
//! events that lets through), a duplicate, early (and what it waits for),
//! or a failure. Pure types, shared by the listeners, the inbox and the
//! replicas.

use std::fmt;
use std::time::Duration;

/// What an early event waits for, and what applying an event lets through:
/// a name such as `ticket:<id>@3`, "version 3 of that ticket applied".
/// An event waits for exactly one gate; applying an event opens some.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gate(String);

impl Gate {
    /// `kind`'s record `id` at `version` (or a hold, a slot...): open once
    /// that version has been applied.
    pub fn at(kind: &str, id: impl fmt::Display, version: i64) -> Self {
        Self(format!("{kind}:{id}@{version}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A gate read back from where it was stored.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What handling an event came to, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its work is done; events waiting for these gates may now apply.
    Applied { opens: Vec<Gate> },
    /// It was applied before: nothing to do.
    Duplicate,
    /// What it follows has not been applied yet: it waits, durably, in the
    /// inbox until `0` opens. Never a failure, never a dead letter.
    Early(Gate),
}

impl Outcome {
    /// Done, letting nothing through.
    pub fn applied() -> Self {
        Self::Applied { opens: Vec::new() }
    }

    /// Done, letting through what waits for `gate`.
    pub fn opening(gate: Gate) -> Self {
        Self::Applied { opens: vec![gate] }
    }

    /// The label the outcome is counted under.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Applied { .. } => "applied",
            Self::Duplicate => "duplicate",
            Self::Early(_) => "early",
        }
    }
}

/// Why a handler did not finish its work.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Worth another try later: a server unreachable, a transaction that
    /// kept conflicting.
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Worth another try, but not before this long.
    #[error("{1:#}")]
    RetryIn(Duration, anyhow::Error),
    /// Can never succeed (it does not decode, or it contradicts the state):
    /// the message is parked on the dead-letter subject at once.
    #[error("{0:#}")]
    Reject(anyhow::Error),
}

impl Failure {
    pub fn reject(reason: impl fmt::Display) -> Self {
        Self::Reject(anyhow::anyhow!("{reason}"))
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Self::Retry(err)
    }
}

impl From<mongodb::error::Error> for Failure {
    fn from(err: mongodb::error::Error) -> Self {
        Self::Retry(err.into())
    }
}

/// What a handler returns.
pub type Handled = Result<Outcome, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_names_a_version_of_a_record() {
        assert_eq!(Gate::at("ticket", "t1", 3).as_str(), "ticket:t1@3");
    }

    #[test]
    fn outcomes_are_counted_under_their_own_labels() {
        let labels = [
            Outcome::applied(),
            Outcome::Duplicate,
            Outcome::Early(Gate::at("order", "o1", 0)),
        ]
        .map(|outcome| outcome.label());
        assert_eq!(labels, ["applied", "duplicate", "early"]);
    }
}
