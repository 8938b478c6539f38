//! Assertions for an app's own tests, after AWS CDK's `assertions` module: a [`Template`] synthesized and checked
//! exactly as `cargo run -- synth` would (the rule pack's errors fail it, with every finding listed), then
//! fine-grained checks of its resources, outputs and parameters with [`Match`]ers and [`Capture`]s.
//!
//! ```
//! use std::time::Duration;
//!
//! use cfnkit::assertions::{Capture, Match, Template};
//! use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueProps};
//! use cfnkit::App;
//! use serde_json::json;
//!
//! let app = App::new();
//! let stack = app.stack("Orders");
//! Queue::new(&stack.scope(), "OrdersQueue", QueueProps {
//!     dead_letter: DeadLetter::Create { max_receive_count: 3 },
//!     visibility_timeout: Some(Duration::from_secs(60)),
//!     ..Default::default()
//! })
//! .unwrap();
//!
//! let template = Template::from_stack(&app, "Orders").unwrap();
//! template.resource_count_is("AWS::SQS::Queue", 2);
//! // A literal object is matched object-like: the keys it names must match, others may be there too.
//! let dlq = Capture::new();
//! template.has_resource_properties(
//!     "AWS::SQS::Queue",
//!     json!({
//!         "VisibilityTimeout": 60,
//!         "SqsManagedSseEnabled": true,
//!         "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [&dlq, "Arn"]}, "maxReceiveCount": 3},
//!         "FifoQueue": Match::absent(),
//!     }),
//! );
//! assert_eq!(dlq.as_string(), "OrdersQueueDlq");
//! // `has_resource` sees the whole resource: this queue goes with the stack, on purpose.
//! template.has_resource(
//!     "AWS::SQS::Queue",
//!     json!({"Properties": {"VisibilityTimeout": 60}, "DeletionPolicy": "Delete"}),
//! );
//! ```
//!
//! # Patterns
//!
//! A pattern is JSON (`serde_json::json!`), in which a [`Match`] or a [`Capture`] may stand for any value. A
//! literal at the top (and everything inside it) is matched as [`Match::object_like`] does: objects need the
//! pattern's keys and may have more, arrays match element by element and must have the same length, other
//! values must be equal (numbers by value: `60` equals `60.0`). [`Match::exact`], [`Match::not`] and
//! [`Match::serialized_json`] match the literals inside them exactly (objects with no other keys).
//!
//! A matcher is written into the pattern as a marker object (`{"$cfnkit.match": ...}`), which is how `json!`
//! can hold it; the marker means nothing outside a pattern.
//!
//! # Failures
//!
//! The `has_*` and `*_is` methods panic, as `assert_eq!` does, with a message that names the stack, the closest
//! candidate, each path where it differs and what was expected there, then the candidate itself:
//!
//! ```text
//! stack Orders: no AWS::SQS::Queue matches the pattern (2 candidates: OrdersQueue, OrdersQueueDlq).
//! The closest is OrdersQueue, with 2 failures:
//!   at /Properties/KmsMasterKeyId: expected a value but found none
//!   at /Properties/VisibilityTimeout: expected 30 but received 60
//! Next closest: OrdersQueueDlq (2 failures)
//! OrdersQueue is:
//! {
//!   "Properties": { ... },
//!   "Type": "AWS::SQS::Queue"
//! }
//! ```
//!
//! # Handlers
//!
//! An app is a cargo workspace: the infrastructure crate (its `main` calls [`crate::cli::main`]) and the
//! handlers' crate(s), under a root `Cargo.toml` that is only `[workspace] members = [...]`, so that plain
//! `cargo test` tests every member. That compiles the handlers on the host, but not their binaries when they
//! are `test = false` in a crate without integration tests, and it never compares them with what the
//! functions name. [`Templates::assert_handlers_compile`] does both, in a test of the infrastructure crate:
//!
//! ```no_run
//! # fn app() -> cfnkit::App { cfnkit::App::new() }
//! #[test]
//! fn handlers_compile() {
//!     let templates = cfnkit::assertions::Templates::from_app(&app()).unwrap();
//!     templates.assert_handlers_compile(env!("CARGO_MANIFEST_DIR"));
//! }
//! ```
//!
//! It runs `cargo check` on the host for exactly the binaries the functions name (no cross-compiling, zig or
//! LTO): the first run checks the dependencies once, later ones take seconds. A binary the workspace lacks is
//! refused by name first, with the packages' binaries listed.
//!
//! # Snapshots
//!
//! [`Template::to_json`] and [`Template::to_yaml`] are the template as synth writes it, with asset keys still
//! holding the hash placeholder (`package` fills them in), so `insta::assert_snapshot!(template.to_yaml())` is
//! stable across builds.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::assets::build::Workspace;
use crate::assets::package::check_handlers;
use crate::rules::{self, Finding, Report};
use crate::stack::App;
use crate::synth::{self, Assembly, Node, SynthError};

/// Why an app gives no template to test: what `cargo run -- synth` would refuse, with its message.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Synth itself refused the app (a bad reference, a limit, a duplicate path...).
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// The rule pack found unsuppressed errors.
    #[error("the rule pack found {} error(s), so `synth` would write nothing:\n{report}", report.errors().count())]
    Rules {
        /// The unsuppressed errors (warnings and suppressed findings left out).
        report: Report,
    },
    /// The test asked for a stack the app does not have.
    #[error("no stack named {name:?} in this app; its stacks are: {available}")]
    UnknownStack {
        /// The name asked for.
        name: String,
        /// The app's stack names, comma-separated.
        available: String,
    },
}

/// Synth and the rule pack, as the CLI's `synth` runs them.
// One function so that it becomes a call of the library's own "synth as the CLI does" entry point when that lands.
fn synth_as_the_cli_does(app: &App) -> Result<(Assembly, Report), TemplateError> {
    let assembly = synth::synth(app)?;
    let report = rules::check(&assembly);
    if report.has_errors() {
        let errors = report.errors().cloned().collect();
        return Err(TemplateError::Rules {
            report: Report { findings: errors },
        });
    }
    Ok((assembly, report))
}

/// Every stack of an app, synthesized and checked once: what a test that looks at several stacks starts from.
#[derive(Clone, Debug)]
pub struct Templates {
    templates: Vec<Template>,
    assembly: Assembly,
}

impl Templates {
    /// Synthesizes the app and runs the rule pack as `cargo run -- synth` does; fails where it would fail.
    pub fn from_app(app: &App) -> Result<Templates, TemplateError> {
        let (assembly, report) = synth_as_the_cli_does(app)?;
        let templates = assembly
            .stacks
            .iter()
            .cloned()
            .map(|s| Template {
                findings: report
                    .findings
                    .iter()
                    .filter(|f| f.stack == s.name)
                    .cloned()
                    .collect(),
                json: serde_json::from_str(&s.template.to_json())
                    .expect("a rendered template is JSON"),
                node: s.template,
                stack: s.name,
            })
            .collect();
        Ok(Templates {
            templates,
            assembly,
        })
    }

    /// Asserts that the binary of every Lambda function in these templates is in the cargo workspace at
    /// `workspace` (as `Code::cargo_bin` names it) and compiles on this machine: `cargo check` of exactly those
    /// binaries, without cross-compiling (see [`crate::assets::package::check_handlers`]). Panics with the
    /// compiler's messages, so a handler's compile error shows in the app's tests in seconds rather than minutes
    /// into `package`. Call it with `env!("CARGO_MANIFEST_DIR")` from a test of a crate in that workspace.
    #[track_caller]
    pub fn assert_handlers_compile(&self, workspace: impl AsRef<Path>) {
        let checked = Workspace::load(workspace.as_ref())
            .and_then(|ws| check_handlers(&self.assembly, &[], &ws));
        if let Err(e) = checked {
            panic!("{e}");
        }
    }

    /// The template of stack `name`; panics naming the app's stacks when there is none.
    #[track_caller]
    pub fn stack(&self, name: &str) -> &Template {
        self.templates
            .iter()
            .find(|t| t.stack == name)
            .unwrap_or_else(|| panic!("{}", self.unknown(name)))
    }

    /// The templates in deploy order.
    pub fn iter(&self) -> impl Iterator<Item = &Template> {
        self.templates.iter()
    }

    fn unknown(&self, name: &str) -> TemplateError {
        TemplateError::UnknownStack {
            name: name.to_owned(),
            available: self
                .templates
                .iter()
                .map(|t| t.stack.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl IntoIterator for Templates {
    type Item = Template;
    type IntoIter = std::vec::IntoIter<Template>;
    fn into_iter(self) -> Self::IntoIter {
        self.templates.into_iter()
    }
}

/// One stack's synthesized template, checked by the rule pack, to make assertions on.
#[derive(Clone, Debug)]
pub struct Template {
    stack: String,
    node: Node,
    json: Value,
    findings: Vec<Finding>,
}

/// Which part of an entry a pattern is matched against.
#[derive(Clone, Copy)]
enum Part {
    Whole,
    /// `Properties`, taken as `{}` when the resource has none (so `Match::absent()` works there).
    Properties,
}

/// An entry tested against a pattern.
struct Candidate<'a> {
    id: &'a str,
    value: &'a Value,
    outcome: Outcome,
}

impl Template {
    /// The template of stack `name` of the app, synthesized and checked by the rule pack as `cargo run -- synth`
    /// does it: an app that synth refuses gives an error with synth's message (every rule-pack error listed).
    /// To test several stacks of one app, [`Templates::from_app`] synthesizes it once.
    pub fn from_stack(app: &App, name: &str) -> Result<Template, TemplateError> {
        let templates = Templates::from_app(app)?;
        let unknown = templates.unknown(name);
        templates
            .into_iter()
            .find(|t| t.stack == name)
            .ok_or(unknown)
    }

    /// The stack's name.
    pub fn stack_name(&self) -> &str {
        &self.stack
    }

    /// The template as a JSON value, for checks the matchers do not cover.
    pub fn as_value(&self) -> &Value {
        &self.json
    }

    /// The template as `synth` writes it in JSON (asset keys with the hash placeholder): for snapshots.
    pub fn to_json(&self) -> String {
        self.node.to_json()
    }

    /// The template as `synth --format yaml` writes it: for snapshots, where YAML shows small diffs best.
    pub fn to_yaml(&self) -> String {
        self.node.to_yaml()
    }

    /// The rule pack's findings on this stack that did not fail synth: warnings, and suppressed findings with
    /// their reasons.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The resource with this logical ID; panics naming the stack's resources when there is none.
    #[track_caller]
    pub fn resource(&self, logical_id: &str) -> &Value {
        self.section("Resources")
            .get(logical_id)
            .unwrap_or_else(|| panic!("{}", self.no_entry("resource", "Resources", logical_id)))
    }

    /// Asserts that the stack has exactly `count` resources of this type.
    #[track_caller]
    pub fn resource_count_is(&self, type_name: &str, count: usize) {
        let ids: Vec<&str> = self
            .of_type(type_name)
            .into_iter()
            .map(|(id, _)| id.as_str())
            .collect();
        if ids.len() != count {
            let listed = if ids.is_empty() {
                self.type_hint(type_name)
            } else {
                format!(": {}", ids.join(", "))
            };
            panic!(
                "stack {}: expected {count} resource(s) of type {type_name}, found {}{listed}",
                self.stack,
                ids.len()
            );
        }
    }

    /// Asserts that some resource of this type has `Properties` matching `pattern` (a literal is matched
    /// object-like). Captures in the pattern record the values of every resource that matches.
    #[track_caller]
    pub fn has_resource_properties(&self, type_name: &str, pattern: impl Into<Value>) {
        let pattern = pattern.into();
        self.assert_some_match(
            type_name,
            self.typed_candidates(type_name, &pattern, Part::Properties),
        );
    }

    /// Asserts that some resource of this type matches `pattern` as a whole: `Properties`, `DeletionPolicy`,
    /// `UpdateReplacePolicy`, `DependsOn`, `Condition`, `Metadata`.
    #[track_caller]
    pub fn has_resource(&self, type_name: &str, pattern: impl Into<Value>) {
        let pattern = pattern.into();
        self.assert_some_match(
            type_name,
            self.typed_candidates(type_name, &pattern, Part::Whole),
        );
    }

    /// Asserts that the resource with this logical ID matches `pattern` as a whole. Logical IDs are readable
    /// and stable in cfnkit (derived from the construct path), so a test may name the one it means.
    #[track_caller]
    pub fn has_resource_with_id(&self, logical_id: &str, pattern: impl Into<Value>) {
        let resource = self.resource(logical_id);
        let pattern = pattern.into();
        let outcome = Outcome::run(&pattern, resource, &mut Vec::new());
        if !outcome.failures.is_empty() {
            panic!(
                "stack {}: resource {logical_id} does not match the pattern, {}\n{logical_id} is:\n{}",
                self.stack,
                outcome.describe(),
                pretty(resource)
            );
        }
        outcome.commit();
    }

    /// The resources of this type that match `pattern` as a whole (as [`Template::has_resource`]), by logical
    /// ID. `Match::any_value()` finds them all.
    pub fn find_resources(
        &self,
        type_name: &str,
        pattern: impl Into<Value>,
    ) -> Vec<(&str, &Value)> {
        let pattern = pattern.into();
        matching(self.typed_candidates(type_name, &pattern, Part::Whole))
    }

    /// Asserts that the output `logical_id` (`"*"`: any output) matches `pattern`
    /// (`{"Value": ..., "Export": {"Name": ...}}`).
    #[track_caller]
    pub fn has_output(&self, logical_id: &str, pattern: impl Into<Value>) {
        self.assert_named_entry("output", "Outputs", logical_id, pattern.into());
    }

    /// The outputs that match `pattern`, `logical_id` being one name or `"*"`.
    pub fn find_outputs(&self, logical_id: &str, pattern: impl Into<Value>) -> Vec<(&str, &Value)> {
        matching(self.named_candidates("Outputs", logical_id, &pattern.into()))
    }

    /// Asserts that the parameter `logical_id` (`"*"`: any parameter) matches `pattern`
    /// (`{"Type": "String", "Default": ...}`).
    #[track_caller]
    pub fn has_parameter(&self, logical_id: &str, pattern: impl Into<Value>) {
        self.assert_named_entry("parameter", "Parameters", logical_id, pattern.into());
    }

    /// The parameters that match `pattern`, `logical_id` being one name or `"*"`.
    pub fn find_parameters(
        &self,
        logical_id: &str,
        pattern: impl Into<Value>,
    ) -> Vec<(&str, &Value)> {
        matching(self.named_candidates("Parameters", logical_id, &pattern.into()))
    }

    /// Asserts that the whole template matches `pattern` (a literal is matched object-like).
    #[track_caller]
    pub fn template_matches(&self, pattern: impl Into<Value>) {
        let outcome = Outcome::run(&pattern.into(), &self.json, &mut Vec::new());
        if !outcome.failures.is_empty() {
            panic!(
                "stack {}: the template does not match the pattern, {}",
                self.stack,
                outcome.describe()
            );
        }
        outcome.commit();
    }

    fn section(&self, name: &str) -> &serde_json::Map<String, Value> {
        static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> =
            std::sync::OnceLock::new();
        self.json[name]
            .as_object()
            .unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new))
    }

    fn of_type(&self, type_name: &str) -> Vec<(&String, &Value)> {
        self.section("Resources")
            .iter()
            .filter(|(_, r)| r["Type"] == type_name)
            .collect()
    }

    fn typed_candidates(&self, type_name: &str, pattern: &Value, part: Part) -> Vec<Candidate<'_>> {
        self.of_type(type_name)
            .into_iter()
            .map(|(id, resource)| {
                let outcome = match part {
                    Part::Whole => Outcome::run(pattern, resource, &mut Vec::new()),
                    Part::Properties => {
                        let empty = Value::Object(serde_json::Map::new());
                        let properties = resource.get("Properties").unwrap_or(&empty);
                        Outcome::run(pattern, properties, &mut vec!["Properties".to_owned()])
                    }
                };
                Candidate {
                    id,
                    value: resource,
                    outcome,
                }
            })
            .collect()
    }

    fn named_candidates(
        &self,
        section: &str,
        logical_id: &str,
        pattern: &Value,
    ) -> Vec<Candidate<'_>> {
        self.section(section)
            .iter()
            .filter(|(id, _)| logical_id == "*" || *id == logical_id)
            .map(|(id, value)| Candidate {
                id,
                value,
                outcome: Outcome::run(pattern, value, &mut Vec::new()),
            })
            .collect()
    }

    #[track_caller]
    fn assert_some_match(&self, type_name: &str, candidates: Vec<Candidate<'_>>) {
        if candidates.is_empty() {
            panic!(
                "stack {}: no resource of type {type_name}{}",
                self.stack,
                self.type_hint(type_name)
            );
        }
        let what = format!("{type_name} matches the pattern");
        self.assert_any(&what, candidates);
    }

    #[track_caller]
    fn assert_named_entry(&self, kind: &str, section: &str, logical_id: &str, pattern: Value) {
        let candidates = self.named_candidates(section, logical_id, &pattern);
        if candidates.is_empty() {
            panic!("{}", self.no_entry(kind, section, logical_id));
        }
        let what = if logical_id == "*" {
            format!("{kind} matches the pattern")
        } else {
            format!("{kind} {logical_id} matches the pattern")
        };
        self.assert_any(&what, candidates);
    }

    /// Commits the captures of every matching candidate, or panics describing the closest one.
    #[track_caller]
    fn assert_any(&self, what: &str, candidates: Vec<Candidate<'_>>) {
        let total = candidates.len();
        let (matched, mut failed): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|c| c.outcome.failures.is_empty());
        if !matched.is_empty() {
            for c in matched {
                c.outcome.commit();
            }
            return;
        }
        // Fewest failures first; ties keep the template's order.
        failed.sort_by_key(|c| c.outcome.failures.len());
        let closest = &failed[0];
        let mut message = format!("stack {}: no {what}", self.stack);
        if total > 1 {
            let ids: Vec<&str> = failed.iter().map(|c| c.id).collect();
            let mut sorted = ids.clone();
            sorted.sort();
            message.push_str(&format!(" ({total} candidates: {})", sorted.join(", ")));
        }
        message.push_str(&format!(
            ".\nThe closest is {}, {}",
            closest.id,
            closest.outcome.describe()
        ));
        let others: Vec<String> = failed[1..]
            .iter()
            .take(5)
            .map(|c| format!("{} ({})", c.id, count(c.outcome.failures.len(), "failure")))
            .collect();
        if !others.is_empty() {
            message.push_str(&format!("\nNext closest: {}", others.join(", ")));
        }
        message.push_str(&format!("\n{} is:\n{}", closest.id, pretty(closest.value)));
        panic!("{message}");
    }

    fn no_entry(&self, kind: &str, section: &str, logical_id: &str) -> String {
        let ids: Vec<&str> = self.section(section).keys().map(String::as_str).collect();
        let near = ids
            .iter()
            .find(|id| id.eq_ignore_ascii_case(logical_id))
            .map(|id| format!(" (did you mean {id}? logical IDs are case-sensitive)"))
            .unwrap_or_default();
        let listed = if ids.is_empty() {
            "none".to_owned()
        } else {
            ids.join(", ")
        };
        format!(
            "stack {}: no {kind} {logical_id}{near}; its {}: {listed}",
            self.stack,
            section.to_lowercase()
        )
    }

    /// `; its resource types are: ...` with a near miss named.
    fn type_hint(&self, type_name: &str) -> String {
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for r in self.section("Resources").values() {
            if let Some(t) = r["Type"].as_str() {
                *types.entry(t).or_default() += 1;
            }
        }
        let near = types
            .keys()
            .find(|t| t.eq_ignore_ascii_case(type_name))
            .map(|t| format!(" (did you mean {t}?)"))
            .unwrap_or_default();
        let listed: Vec<String> = types.iter().map(|(t, n)| format!("{t} ({n})")).collect();
        format!("{near}; its resource types are: {}", listed.join(", "))
    }
}

fn matching(candidates: Vec<Candidate<'_>>) -> Vec<(&str, &Value)> {
    candidates
        .into_iter()
        .filter(|c| c.outcome.failures.is_empty())
        .map(|c| {
            c.outcome.commit();
            (c.id, c.value)
        })
        .collect()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value serializes")
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Tests `actual` against `pattern` (a literal is matched object-like), as the template assertions do, and
/// records captures when it matches. For values taken apart by hand, such as one statement of a policy.
pub fn check(pattern: impl Into<Value>, actual: &Value) -> Result<(), Mismatch> {
    let outcome = Outcome::run(&pattern.into(), actual, &mut Vec::new());
    if outcome.failures.is_empty() {
        outcome.commit();
        Ok(())
    } else {
        Err(Mismatch {
            failures: outcome.failures,
        })
    }
}

/// Where and how a value differs from a pattern.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.failures))]
pub struct Mismatch {
    /// Every place that differs, in the order the pattern was walked.
    pub failures: Vec<Failure>,
}

// Debug as Display: `check(...).unwrap()` in a test then prints the paths, not a struct dump.
impl fmt::Debug for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One place where a value differs from its pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// JSON-pointer-like path from the tested value: `/Properties/Policies/0/PolicyDocument`.
    pub path: String,
    /// What differs there: what the pattern wanted and what the value has.
    pub message: String,
}

fn describe(failures: &[Failure]) -> String {
    let mut s = format!("with {}:", count(failures.len(), "failure"));
    for f in failures {
        let at = if f.path.is_empty() { "/" } else { &f.path };
        s.push_str(&format!("\n  at {at}: {}", f.message));
    }
    s
}

/// Matchers for patterns, as CDK's `Match`. Each one can stand anywhere in a `json!` pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Match(Kind);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Kind {
    ObjectLike(Value),
    ObjectEquals(Value),
    Exact(Value),
    ArrayWith(Vec<Value>),
    Absent,
    AnyValue,
    StringLikeRegexp(String),
    StringContaining(String),
    SerializedJson(Value),
    Not(Value),
    Capture { id: u64, pattern: Option<Value> },
}

/// The key of the marker object a matcher becomes inside a pattern.
const MARKER: &str = "$cfnkit.match";

impl Match {
    /// An object with at least the pattern's keys, each matching (nested literal objects are object-like too,
    /// arrays element by element). Panics when `pattern` is not an object.
    #[track_caller]
    pub fn object_like(pattern: impl Into<Value>) -> Match {
        Match(Kind::ObjectLike(object_pattern(
            "object_like",
            pattern.into(),
        )))
    }

    /// An object with exactly the pattern's keys (nested objects too), each matching.
    #[track_caller]
    pub fn object_equals(pattern: impl Into<Value>) -> Match {
        Match(Kind::ObjectEquals(object_pattern(
            "object_equals",
            pattern.into(),
        )))
    }

    /// Exactly this value: objects with no other keys, arrays of the same length, at every depth (matchers
    /// inside still apply).
    pub fn exact(pattern: impl Into<Value>) -> Match {
        Match(Kind::Exact(pattern.into()))
    }

    /// An array in which the pattern's elements appear in this order, with any others around and between them
    /// (each element matched object-like).
    pub fn array_with<V: Into<Value>>(elements: impl IntoIterator<Item = V>) -> Match {
        Match(Kind::ArrayWith(
            elements.into_iter().map(Into::into).collect(),
        ))
    }

    /// The key is not there. Meaningful as the value of a key in an object pattern.
    pub fn absent() -> Match {
        Match(Kind::Absent)
    }

    /// Any value but `null`, and the key must be there.
    pub fn any_value() -> Match {
        Match(Kind::AnyValue)
    }

    /// A string in which the regular expression matches somewhere (anchor it with `^...$` for the whole
    /// string). Panics when the expression does not compile.
    #[track_caller]
    pub fn string_like_regexp(regex: &str) -> Match {
        if let Err(e) = regex_lite::Regex::new(regex) {
            panic!("Match::string_like_regexp({regex:?}): not a regular expression: {e}");
        }
        Match(Kind::StringLikeRegexp(regex.to_owned()))
    }

    /// A string that contains `part`.
    pub fn string_containing(part: &str) -> Match {
        Match(Kind::StringContaining(part.to_owned()))
    }

    /// A string of JSON whose parsed value matches `pattern` (a literal exactly: wrap it in `object_like` for a
    /// subset). For policies and event patterns that CloudFormation takes as strings.
    pub fn serialized_json(pattern: impl Into<Value>) -> Match {
        Match(Kind::SerializedJson(pattern.into()))
    }

    /// Anything that does not match `pattern` (a literal exactly), including a missing key.
    pub fn not(pattern: impl Into<Value>) -> Match {
        Match(Kind::Not(pattern.into()))
    }

    /// Tests `actual` against this matcher; see [`check`].
    pub fn test(&self, actual: &Value) -> Result<(), Mismatch> {
        check(self.clone(), actual)
    }
}

#[track_caller]
fn object_pattern(matcher: &str, pattern: Value) -> Value {
    if !pattern.is_object() {
        panic!("Match::{matcher} takes an object pattern, got {pattern}: use Match::exact for other values");
    }
    pattern
}

impl Serialize for Match {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut marker = serde_json::Map::new();
        marker.insert(
            MARKER.to_owned(),
            serde_json::to_value(&self.0).map_err(serde::ser::Error::custom)?,
        );
        marker.serialize(serializer)
    }
}

impl From<Match> for Value {
    fn from(m: Match) -> Value {
        serde_json::to_value(m).expect("a matcher serializes")
    }
}

/// Records the values found at its place in a pattern, as CDK's `Capture`: put it (by reference) where the
/// value is, then read what the matching entries had there. Only entries that match the whole pattern record.
#[derive(Debug)]
pub struct Capture {
    id: u64,
    pattern: Option<Value>,
    values: Arc<Mutex<Vec<Value>>>,
}

type CaptureCell = Weak<Mutex<Vec<Value>>>;

/// Captures by id: a pattern holds a capture as a marker with its id, and matching records into the cell.
static CAPTURES: Mutex<BTreeMap<u64, CaptureCell>> = Mutex::new(BTreeMap::new());
static NEXT_CAPTURE: AtomicU64 = AtomicU64::new(1);

impl Capture {
    /// Captures any value but `null`.
    pub fn new() -> Capture {
        Capture::with_pattern(None)
    }

    /// Captures values that also match `pattern` (a literal object-like); others fail the match.
    pub fn matching(pattern: impl Into<Value>) -> Capture {
        Capture::with_pattern(Some(pattern.into()))
    }

    fn with_pattern(pattern: Option<Value>) -> Capture {
        let id = NEXT_CAPTURE.fetch_add(1, Ordering::Relaxed);
        let values = Arc::new(Mutex::new(Vec::new()));
        let mut registry = CAPTURES.lock().unwrap_or_else(|e| e.into_inner());
        registry.retain(|_, cell| cell.strong_count() > 0);
        registry.insert(id, Arc::downgrade(&values));
        Capture {
            id,
            pattern,
            values,
        }
    }

    /// Every value captured so far, in the order they were found.
    pub fn values(&self) -> Vec<Value> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The first value captured; panics when there is none.
    #[track_caller]
    pub fn value(&self) -> Value {
        self.values().into_iter().next().unwrap_or_else(|| {
            panic!("the capture recorded nothing: no entry matched the pattern that holds it, or none was tested")
        })
    }

    /// The first value captured, which must be a string.
    #[track_caller]
    pub fn as_string(&self) -> String {
        match self.value() {
            Value::String(s) => s,
            other => panic!("the captured value is not a string: {other}"),
        }
    }

    fn record(id: u64, value: Value) {
        let cell = CAPTURES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .and_then(Weak::upgrade);
        if let Some(cell) = cell {
            cell.lock().unwrap_or_else(|e| e.into_inner()).push(value);
        }
    }
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new()
    }
}

impl Serialize for Capture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Match(Kind::Capture {
            id: self.id,
            pattern: self.pattern.clone(),
        })
        .serialize(serializer)
    }
}

impl From<&Capture> for Value {
    fn from(c: &Capture) -> Value {
        serde_json::to_value(c).expect("a capture serializes")
    }
}

/// How literal objects in a pattern match.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Objects {
    /// Other keys allowed.
    Partial,
    /// Exactly the pattern's keys.
    Exact,
}

/// The result of testing one value: where it failed, and what its captures saw.
#[derive(Default)]
struct Outcome {
    failures: Vec<Failure>,
    captures: Vec<(u64, Value)>,
}

impl Outcome {
    fn run(pattern: &Value, actual: &Value, path: &mut Vec<String>) -> Outcome {
        let mut out = Outcome::default();
        out.test(pattern, Objects::Partial, Some(actual), path);
        out
    }

    fn describe(&self) -> String {
        describe(&self.failures)
    }

    /// Records the captures; called only for a value that matched the whole pattern.
    fn commit(self) {
        for (id, value) in self.captures {
            Capture::record(id, value);
        }
    }

    fn fail(&mut self, path: &[String], message: String) {
        let path = path.iter().map(|p| format!("/{p}")).collect();
        self.failures.push(Failure { path, message });
    }

    /// Tests `actual` (`None`: the key is missing) against `pattern`.
    fn test(
        &mut self,
        pattern: &Value,
        objects: Objects,
        actual: Option<&Value>,
        path: &mut Vec<String>,
    ) {
        if let Some(kind) = marker(pattern) {
            return self.test_matcher(&kind, actual, path);
        }
        let Some(actual) = actual else {
            return self.fail(path, format!("missing key; expected {}", render(pattern)));
        };
        match (pattern, actual) {
            (Value::Object(p), Value::Object(a)) => {
                for (key, sub) in p {
                    path.push(key.clone());
                    self.test(sub, objects, a.get(key), path);
                    path.pop();
                }
                if objects == Objects::Exact {
                    for key in a.keys().filter(|k| !p.contains_key(*k)) {
                        path.push(key.clone());
                        self.fail(
                            path,
                            format!("unexpected key, with value {}", render(&a[key])),
                        );
                        path.pop();
                    }
                }
            }
            (Value::Array(p), Value::Array(a)) => {
                if p.len() != a.len() {
                    return self.fail(
                        path,
                        format!(
                            "expected an array of {} element(s) but received {}: {}",
                            p.len(),
                            a.len(),
                            render(actual)
                        ),
                    );
                }
                for (i, (sub, item)) in p.iter().zip(a).enumerate() {
                    path.push(i.to_string());
                    self.test(sub, objects, Some(item), path);
                    path.pop();
                }
            }
            (Value::Number(p), Value::Number(a)) if p.as_f64() == a.as_f64() => {}
            (p, a) if p == a => {}
            (p, a) if type_of(p) != type_of(a) => self.fail(
                path,
                format!(
                    "expected {} {} but received {} {}",
                    type_of(p),
                    render(p),
                    type_of(a),
                    render(a)
                ),
            ),
            (p, a) => self.fail(
                path,
                format!("expected {} but received {}", render(p), render(a)),
            ),
        }
    }

    fn test_matcher(&mut self, kind: &Kind, actual: Option<&Value>, path: &mut Vec<String>) {
        match (kind, actual) {
            (Kind::Absent, None) => {}
            (Kind::Absent, Some(a)) => self.fail(
                path,
                format!("received {}, but the key should be absent", render(a)),
            ),
            (Kind::AnyValue, None | Some(Value::Null)) => {
                self.fail(path, "expected a value but found none".to_owned())
            }
            (Kind::AnyValue, Some(_)) => {}
            (Kind::Not(p), _) => {
                let mut inner = Outcome::default();
                inner.test(p, Objects::Exact, actual, path);
                if inner.failures.is_empty() {
                    let received = match actual {
                        Some(a) => format!("received {}", render(a)),
                        None => "the key is missing".to_owned(),
                    };
                    self.fail(
                        path,
                        format!("{received}, which should not match {}", render(p)),
                    );
                }
            }
            (_, None) => self.fail(path, format!("missing key; expected {}", render_kind(kind))),
            (_, Some(a)) => self.test_present(kind, a, path),
        }
    }

    /// The matchers that need a value.
    fn test_present(&mut self, kind: &Kind, actual: &Value, path: &mut Vec<String>) {
        let a = actual;
        match kind {
            Kind::Absent | Kind::AnyValue | Kind::Not(_) => {
                unreachable!("test_matcher handles these")
            }
            Kind::ObjectLike(p) | Kind::ObjectEquals(p) => {
                let objects = if matches!(kind, Kind::ObjectLike(_)) {
                    Objects::Partial
                } else {
                    Objects::Exact
                };
                if a.is_object() {
                    self.test(p, objects, Some(a), path);
                } else {
                    self.fail(
                        path,
                        format!(
                            "expected an object but received {} {}",
                            type_of(a),
                            render(a)
                        ),
                    );
                }
            }
            Kind::Exact(p) => self.test(p, Objects::Exact, Some(a), path),
            Kind::ArrayWith(elements) => self.test_array_with(elements, a, path),
            Kind::StringLikeRegexp(re) => {
                let regex = regex_lite::Regex::new(re).expect("checked when the matcher was made");
                if !a.as_str().is_some_and(|s| regex.is_match(s)) {
                    self.fail(
                        path,
                        format!(
                            "expected a string matching /{re}/ but received {}",
                            render(a)
                        ),
                    );
                }
            }
            Kind::StringContaining(part) => {
                if !a.as_str().is_some_and(|s| s.contains(part.as_str())) {
                    self.fail(
                        path,
                        format!(
                            "expected a string containing {part:?} but received {}",
                            render(a)
                        ),
                    );
                }
            }
            Kind::SerializedJson(p) => match a {
                Value::String(s) => match serde_json::from_str::<Value>(s) {
                    Ok(parsed) => {
                        path.push("(json)".to_owned());
                        self.test(p, Objects::Exact, Some(&parsed), path);
                        path.pop();
                    }
                    Err(e) => self.fail(
                        path,
                        format!("expected a string of JSON, but it does not parse ({e}): {s:?}"),
                    ),
                },
                _ => self.fail(
                    path,
                    format!(
                        "expected a string of JSON but received {} {}",
                        type_of(a),
                        render(a)
                    ),
                ),
            },
            Kind::Capture { id, pattern } => {
                if a.is_null() {
                    return self.fail(path, "nothing to capture: the value is null".to_owned());
                }
                let failures = self.failures.len();
                if let Some(p) = pattern {
                    self.test(p, Objects::Partial, Some(a), path);
                }
                if self.failures.len() == failures {
                    self.captures.push((*id, a.clone()));
                }
            }
        }
    }

    /// The pattern's elements in order, each at or after the previous one's match.
    fn test_array_with(&mut self, elements: &[Value], actual: &Value, path: &mut Vec<String>) {
        let Value::Array(items) = actual else {
            return self.fail(
                path,
                format!(
                    "expected an array but received {} {}",
                    type_of(actual),
                    render(actual)
                ),
            );
        };
        let mut from = 0;
        for (n, element) in elements.iter().enumerate() {
            let mut closest: Option<(usize, Outcome)> = None;
            let mut found = None;
            for (i, item) in items.iter().enumerate().skip(from) {
                let mut attempt = Outcome::default();
                path.push(i.to_string());
                attempt.test(element, Objects::Partial, Some(item), path);
                path.pop();
                if attempt.failures.is_empty() {
                    found = Some((i, attempt));
                    break;
                }
                if closest
                    .as_ref()
                    .is_none_or(|(_, c)| attempt.failures.len() < c.failures.len())
                {
                    closest = Some((i, attempt));
                }
            }
            match found {
                Some((i, attempt)) => {
                    self.captures.extend(attempt.captures);
                    from = i + 1;
                }
                None => {
                    let mut message = format!(
                        "no element from index {from} on matches element {n} of array_with: {}",
                        render(element)
                    );
                    if let Some((i, c)) = closest {
                        let first = &c.failures[0];
                        message.push_str(&format!(
                            "; the closest is element {i}, which differs at {}: {}",
                            first.path, first.message
                        ));
                    }
                    return self.fail(path, message);
                }
            }
        }
    }
}

/// The matcher a pattern value stands for, if it is a marker.
fn marker(pattern: &Value) -> Option<Kind> {
    let object = pattern.as_object()?;
    if object.len() != 1 {
        return None;
    }
    let inner = object.get(MARKER)?;
    Some(
        serde_json::from_value(inner.clone())
            .unwrap_or_else(|e| panic!("a {MARKER:?} object that is not a matcher ({e}): {inner}")),
    )
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compact JSON in which matchers show as the Rust that made them (`Match::absent()`), for messages.
fn render(v: &Value) -> String {
    if let Some(kind) = marker(v) {
        return render_kind(&kind);
    }
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), render(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn render_kind(kind: &Kind) -> String {
    match kind {
        Kind::ObjectLike(p) => format!("Match::object_like({})", render(p)),
        Kind::ObjectEquals(p) => format!("Match::object_equals({})", render(p)),
        Kind::Exact(p) => format!("Match::exact({})", render(p)),
        Kind::ArrayWith(e) => format!("Match::array_with({})", render(&Value::Array(e.clone()))),
        Kind::Absent => "Match::absent()".to_owned(),
        Kind::AnyValue => "Match::any_value()".to_owned(),
        Kind::StringLikeRegexp(re) => format!("Match::string_like_regexp({re:?})"),
        Kind::StringContaining(s) => format!("Match::string_containing({s:?})"),
        Kind::SerializedJson(p) => format!("Match::serialized_json({})", render(p)),
        Kind::Not(p) => format!("Match::not({})", render(p)),
        Kind::Capture { pattern: None, .. } => "Capture::new()".to_owned(),
        Kind::Capture {
            pattern: Some(p), ..
        } => format!("Capture::matching({})", render(p)),
    }
}
