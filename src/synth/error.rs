//! Synth errors. Every problem names its stack, the element (logical ID or path) and the fix.

use std::fmt;

/// One thing synth found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The stack the problem is in.
    pub stack: String,
    /// The logical ID or construct path concerned, when there is one.
    pub element: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    /// A problem of `stack`, at `element` when there is one.
    pub fn new(stack: &str, element: Option<&str>, message: String) -> Self {
        Problem {
            stack: stack.to_owned(),
            element: element.map(str::to_owned),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.element {
            Some(e) => write!(f, "stack {} ({e}): {}", self.stack, self.message),
            None => write!(f, "stack {}: {}", self.stack, self.message),
        }
    }
}

/// Why synth or writing its output failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The app's stacks are invalid; every problem found, not only the first.
    #[error("synth found {} problem(s):\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
    /// Cross-stack references make stacks depend on each other in a cycle, so no deploy order exists; the cycle,
    /// with the references that make it.
    #[error("stacks depend on each other in a cycle:\n{0}")]
    Cycle(String),
    /// A stack was asked for by a name the app does not have.
    #[error("no stack named {name:?} in this app{hint}; its stacks are: {available}")]
    UnknownStack {
        /// The name asked for.
        name: String,
        /// ` (did you mean X? ...)` when a stack's name differs only in case, else empty.
        hint: String,
        /// The app's stack names, comma-separated.
        available: String,
    },
    /// The rule pack found an error that is not suppressed ([`super::synth_checked`]); the report lists every
    /// finding, suppressed ones included.
    #[error("the rule pack found {count} error(s):\n{0}", count = .0.errors().count())]
    Rules(crate::rules::Report),
    /// Writing the output directory failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file or directory being written.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl SynthError {
    /// The individual problems (one for a cycle or an I/O error, one per unsuppressed error of the rule pack).
    pub fn problems(&self) -> Vec<String> {
        match self {
            SynthError::Invalid(p) => p.iter().map(ToString::to_string).collect(),
            SynthError::Rules(report) => report.errors().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        }
    }
}
