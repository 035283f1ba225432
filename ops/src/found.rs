//! What a rule found broken, naming the object: what every rule returns.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub object: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}: {}", self.rule, self.object, self.message)
    }
}

/// The violations found so far.
#[derive(Default)]
pub(crate) struct Found(Vec<Violation>);

impl Found {
    pub(crate) fn add(&mut self, rule: &'static str, object: &str, message: impl Into<String>) {
        self.0.push(Violation {
            rule,
            object: object.to_string(),
            message: message.into(),
        });
    }

    pub(crate) fn into_violations(self) -> Vec<Violation> {
        self.0
    }
}
