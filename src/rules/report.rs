//! What the rule pack found: one [`Finding`] per rule and resource, gathered in a [`Report`], and how both print.

use std::fmt;

use super::registry::{RuleInfo, Severity};

/// One finding of a rule on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: &'static RuleInfo,
    /// The stack of the resource.
    pub stack: String,
    /// The resource's logical ID.
    pub logical_id: String,
    /// The construct path, when synth recorded one.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// What the rule found, one entry each, for rules that list them (IAM4: `Policy::<managed policy ARN>`,
    /// IAM5: `Action::<action>` / `Resource::<resource>`); what a suppression's `appliesTo` names. Empty for
    /// the other rules. When suppressions cover some of them, only the rest are left here.
    pub items: Vec<String>,
    /// The reason given in the resource's suppression, when suppressed.
    pub suppressed: Option<String>,
    /// For a finding with items, how its message and fix are written from them, so that when suppressions cover
    /// some items both can be written again naming only the rest.
    pub(super) itemized: Option<Itemized>,
}

/// How a finding with items words them (see [`Finding::itemized`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Itemized {
    /// The message before the items.
    pub lead: String,
    /// `(item, note)`: the note follows the item in parentheses (IAM5: the actions a `Resource::*` is for).
    pub notes: Vec<(String, String)>,
    /// `(item, advice)`: how to fix that item in particular (IAM5: X-Ray's `Resource::*`), said before the fix
    /// while the item is listed.
    pub advice: Vec<(String, String)>,
    /// The fix for the items without advice of their own.
    pub fix: String,
}

impl Itemized {
    /// `<lead>: <item> (<note>), <item>` for the given items.
    pub fn message(&self, items: &[String]) -> String {
        let described: Vec<String> = items
            .iter()
            .map(|item| match self.notes.iter().find(|(i, _)| i == item) {
                Some((_, note)) => format!("{item} ({note})"),
                None => item.clone(),
            })
            .collect();
        format!("{}: {}", self.lead, described.join(", "))
    }

    /// The advice for the given items that have some, then the fix for the others.
    pub fn fix(&self, items: &[String]) -> String {
        let mut advice: Vec<&str> = Vec::new();
        for (_, a) in self.advice.iter().filter(|(i, _)| items.contains(i)) {
            if !advice.contains(&a.as_str()) {
                advice.push(a);
            }
        }
        let advised = |item: &String| self.advice.iter().any(|(i, _)| i == item);
        if advice.is_empty() {
            self.fix.clone()
        } else if items.iter().all(advised) {
            advice.join(" ")
        } else {
            format!("{} For the other items: {}", advice.join(" "), self.fix)
        }
    }
}

impl Finding {
    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
    /// Fails synth: an error that is not suppressed.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error && self.suppressed.is_none()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match (&self.suppressed, self.severity()) {
            (Some(_), _) => "suppressed",
            (None, Severity::Error) => "error",
            (None, Severity::Warning) => "warning",
        };
        write!(f, "{level}[{}] stack {}, ", self.rule, self.stack)?;
        match &self.path {
            Some(p) => write!(f, "{p} ({})", self.logical_id)?,
            None => write!(f, "{}", self.logical_id)?,
        }
        write!(f, ": {}", self.message)?;
        match &self.suppressed {
            Some(reason) => write!(f, " reason: {reason}"),
            None => write!(f, " Fix: {}", self.fix),
        }
    }
}

/// Everything the rule pack found in an assembly, in stack order, then by resource and rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Every finding, suppressed or not.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Unsuppressed errors: synth fails when there is one.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_error())
    }
    /// Unsuppressed warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity() == Severity::Warning && f.suppressed.is_none())
    }
    /// Findings suppressed with a reason.
    pub fn suppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_some())
    }
    /// Whether synth would refuse the app.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
    /// The findings of one rule (suppressed ones included).
    pub fn of_rule<'a>(&'a self, rule: &'a RuleInfo) -> impl Iterator<Item = &'a Finding> {
        self.findings.iter().filter(move |f| f.rule == rule)
    }

    /// What synth prints when nothing fails: every unsuppressed finding, then the count. Suppressed findings are
    /// counted, and listed with their reasons only when asked (`synth --show-suppressed`): an app's reviewed
    /// suppressions would otherwise bury a new warning under the same lines on every run.
    pub fn summary(&self, show_suppressed: bool) -> String {
        let shown: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| show_suppressed || f.suppressed.is_none())
            .collect();
        let suppressed = self.suppressed().count();
        if shown.is_empty() && suppressed == 0 {
            return String::new();
        }
        let mut out = String::new();
        for finding in shown {
            out.push_str(&format!("{finding}\n"));
        }
        out.push_str(&self.counts());
        if suppressed > 0 && !show_suppressed {
            out.push_str(" (--show-suppressed lists them with their reasons)");
        }
        out.push('\n');
        out
    }

    fn counts(&self) -> String {
        format!(
            "rules: {} error(s), {} warning(s), {} suppressed",
            self.errors().count(),
            self.warnings().count(),
            self.suppressed().count()
        )
    }
}

impl fmt::Display for Report {
    /// One line per finding, then a count; nothing at all when there are no findings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings.is_empty() {
            return Ok(());
        }
        for finding in &self.findings {
            writeln!(f, "{finding}")?;
        }
        writeln!(f, "{}", self.counts())
    }
}
