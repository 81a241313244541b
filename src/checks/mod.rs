//! Pure rules: given cookies, headers or timings, decide and say why.
//!
//! No I/O here. Every rule returns a [`Verdict`] that carries its evidence, so
//! a failing scenario can show exactly what was seen.

pub mod certificate;
pub mod cookies;
pub mod entropy;
pub mod forgery;
pub mod hsts;
pub mod rails_cookie;
pub mod redirect;
pub mod timing;
pub mod traffic;

use std::fmt;

/// One broken requirement, with the requirement's id and what broke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The standard it breaks, e.g. `ASVS 3.4.2`.
    pub requirement: &'static str,
    /// What it is about, e.g. a cookie name.
    pub subject: String,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} [{}]",
            self.subject, self.detail, self.requirement
        )
    }
}

/// The outcome of a rule: violations (empty means it holds) plus what was looked at.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    pub evidence: Vec<String>,
    /// There was nothing to judge; the evidence says what was looked for, and where.
    pub nothing_judged: bool,
}

impl Verdict {
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn violate(
        &mut self,
        requirement: &'static str,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.violations.push(Violation {
            requirement,
            subject: subject.into(),
            detail: detail.into(),
        });
    }

    /// Marks the rule as having had nothing to judge (NOT APPLICABLE, never PASS).
    pub fn nothing_to_judge(&mut self, looked_for: impl Into<String>) {
        self.nothing_judged = true;
        self.evidence.push(looked_for.into());
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.evidence.push(line.into());
    }

    /// The violations as one message, one per line.
    pub fn failure_message(&self) -> String {
        self.violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}
