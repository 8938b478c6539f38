//! The built-in rule pack: security and operations checks run on every stack's final template after synth and
//! before anything is written, so they cover typed constructs, L1 types and raw resources alike.
//!
//! The AWS checks carry the ids of cdk-nag's AwsSolutions pack (`SQS3`, `IAM5`, ...) so that findings are
//! familiar; checks of our own are prefixed `CFNKIT-`. [`RULES`] lists every rule with its level. An `error`
//! fails synth (nothing is written, the previous output stays); a `warning` is printed only.
//!
//! # Suppressing a finding
//!
//! A finding we disagree with is suppressed on the resource, with a written reason, in the template's
//! `Metadata` next to checkov's and cfn-lint's settings, so that one place holds every suppression:
//!
//! ```yaml
//! Metadata:
//!   cfnkit:
//!     suppress:
//!       - id: IAM5
//!         reason: the function lists objects under its own prefix only
//! ```
//!
//! From Rust, [`suppress`] adds such an entry to a resource handle (keeping entries already there). The id may
//! also be written `AwsSolutions-IAM5`. A suppression without a reason, or with an id that is not a rule of this
//! pack, is itself an error. Suppressed findings are still printed, with their reason.
//!
//! # Suppressing some items of a finding (`appliesTo`)
//!
//! IAM4 and IAM5 findings list what they found, named as cdk-nag names them ([`Finding::items`]): IAM5's
//! wildcards are `Action::s3:*`, `Resource::*`, `Resource::<Bucket.Arn>/uploads/*`; IAM4's managed policies are
//! `Policy::arn:<AWS::Partition>:iam::aws:policy/<name>`. References, pseudo parameters and `Fn::Sub` variables
//! are written `<Id>` / `<Id.Attr>` / `<AWS::Partition>` as cdk-nag writes them (a `${AWS::Region}` in metadata
//! would also be flagged by cfn-lint, E1029). One item may come from several statements: X-Ray's and
//! ListStreams' `Resource::*` are the same item, so a suppression of `Resource::*` covers every action granted
//! on `*` (as in cdk-nag); check those actions elsewhere (the platform's tests do). A suppression may list the
//! items it covers, as cdk-nag's `appliesTo` does:
//!
//! ```yaml
//!       - id: IAM5
//!         reason: X-Ray accepts only Resource `*`; <table>/index/* are the indexes of the table it reads
//!         appliesTo:
//!           - Resource::*
//!           - regex: /^Resource::<Table\.Arn>\/index\/\*$/
//! ```
//!
//! Each entry is an exact item, or `{regex: "/pattern/flags"}` (cdk-nag's form: it covers an item it matches
//! anywhere in, as JavaScript's `test` does, so anchor it with `^...$`; flags `g` and `u` are accepted and
//! change nothing, `i` ignores case, `m` and `s` are the usual ones). cdk-nag's CloudFormation form
//! `applies_to` is read too. A finding whose items are all covered by the resource's suppressions of its rule
//! is suppressed, with the reasons of the entries that covered it; otherwise it stays, naming only the items no
//! suppression covers. An `appliesTo` item that matches nothing the resource has is a warning
//! ([`STALE_SUPPRESSION_RULE`]): the grant it was written for is gone, so the suppression would silently cover
//! whatever comes next. [`suppress_only`] writes such an entry.
//!
//! A suppression without `appliesTo` still suppresses the whole rule on the resource. For IAM4 and IAM5 the
//! scoped form is the recommended one: a whole-rule IAM5 suppression written for X-Ray's `*` would also hide a
//! later `s3:*` on the same role.

mod apigateway;
mod cloudwatch;
mod dynamodb;
mod events;
mod iam;
mod kms;
mod lambda;
mod s3;
mod sns;
mod sqs;

use std::collections::HashMap;
use std::fmt;

use cfnkit_core::{ResourceHandle, Value};

use crate::synth::{Assembly, Node, StackArtifact};

/// How serious a rule's findings are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Fails synth.
    Error,
    /// Printed; synth goes on.
    Warning,
}

/// A rule of the pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: &'static str,
    pub severity: Severity,
    /// What a compliant template has.
    pub title: &'static str,
}

const fn rule(id: &'static str, severity: Severity, title: &'static str) -> RuleInfo {
    RuleInfo {
        id,
        severity,
        title,
    }
}

use Severity::{Error, Warning};

/// Every rule of the pack. Levels follow cdk-nag's AwsSolutions pack (DDB3 is a warning there too).
pub const RULES: &[RuleInfo] = &[
    rule("APIG1", Error, "API Gateway stages have access logging"),
    rule("APIG2", Error, "REST APIs have request validation"),
    rule("APIG4", Error, "API methods and routes have authorization"),
    rule(
        "APIG6",
        Error,
        "REST API stages log every method to CloudWatch",
    ),
    rule(
        "DDB3",
        Warning,
        "DynamoDB tables have point-in-time recovery",
    ),
    rule(
        "EVB1",
        Error,
        "event bus policies do not allow any principal",
    ),
    rule(
        "IAM4",
        Error,
        "IAM roles, users and groups use no AWS managed policies",
    ),
    rule(
        "IAM5",
        Error,
        "IAM policies have no wildcard actions or resources",
    ),
    rule("KMS5", Error, "symmetric KMS keys rotate"),
    rule(
        "L1",
        Error,
        "Lambda functions use the latest runtime of their language",
    ),
    rule("S1", Error, "S3 buckets have server access logs"),
    rule("S2", Error, "S3 buckets block public access"),
    rule("S10", Error, "S3 bucket policies deny requests without TLS"),
    rule("SNS2", Error, "SNS topics are encrypted with a KMS key"),
    rule(
        "SNS3",
        Error,
        "SNS topic policies deny publishing without TLS",
    ),
    rule("SQS2", Error, "SQS queues are encrypted"),
    rule(
        "SQS3",
        Error,
        "SQS queues that are not dead-letter queues have one",
    ),
    rule(
        "SQS4",
        Error,
        "SQS queue policies deny requests without TLS",
    ),
    rule(
        "CFNKIT-SQS-VIS",
        Error,
        "a queue's visibility timeout is at least 6x the timeout of the function consuming it",
    ),
    rule("CFNKIT-LOG1", Error, "log groups have a retention period"),
    rule("CFNKIT-CW1", Error, "alarms have an action"),
    rule(
        SUPPRESSION_RULE,
        Error,
        "suppressions name a rule of this pack and give a reason",
    ),
    rule(
        STALE_SUPPRESSION_RULE,
        Warning,
        "every item a suppression's appliesTo lists is one the resource has",
    ),
];

/// The id of warnings about `appliesTo` items that match nothing on their resource (stale suppressions).
pub const STALE_SUPPRESSION_RULE: &str = "CFNKIT-SUPPRESS-STALE";

/// The id of findings about malformed suppressions (they cannot themselves be suppressed).
pub const SUPPRESSION_RULE: &str = "CFNKIT-SUPPRESS";

/// One finding of a rule on one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub stack: String,
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
}

impl Finding {
    /// Fails synth: an error that is not suppressed.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error && self.suppressed.is_none()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match (&self.suppressed, self.severity) {
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
            .filter(|f| f.severity == Severity::Warning && f.suppressed.is_none())
    }
    /// Findings suppressed with a reason.
    pub fn suppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_some())
    }
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
    /// The findings of one rule (suppressed ones included).
    pub fn of_rule<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Finding> {
        self.findings.iter().filter(move |f| f.rule == rule)
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
        writeln!(
            f,
            "rules: {} error(s), {} warning(s), {} suppressed",
            self.errors().count(),
            self.warnings().count(),
            self.suppressed().count()
        )
    }
}

/// Runs every rule on every stack of the assembly.
pub fn check(assembly: &Assembly) -> Report {
    let mut ctx = Ctx::new(assembly);
    kms::check(&mut ctx);
    sqs::check(&mut ctx);
    sns::check(&mut ctx);
    events::check(&mut ctx);
    dynamodb::check(&mut ctx);
    lambda::check(&mut ctx);
    iam::check(&mut ctx);
    s3::check(&mut ctx);
    apigateway::check(&mut ctx);
    cloudwatch::check(&mut ctx);
    let mut findings = ctx.findings;
    let stale = stale_applies_to(assembly, &findings);
    // Looked up once per finding: a linear search of each stack's resources made this quadratic.
    let nodes: HashMap<(&str, &str), &Node> = assembly
        .stacks
        .iter()
        .flat_map(|stack| resources(stack).map(move |(id, node)| ((stack.name.as_str(), id), node)))
        .collect();
    for f in &mut findings {
        let resource = nodes
            .get(&(f.stack.as_str(), f.logical_id.as_str()))
            .copied();
        apply_suppressions(resource, f);
    }
    findings.extend(suppression_problems(assembly));
    findings.extend(stale);
    let order = |name: &str| assembly.stacks.iter().position(|s| s.name == name);
    findings.sort_by(|a, b| {
        (order(&a.stack), &a.logical_id, a.rule).cmp(&(order(&b.stack), &b.logical_id, b.rule))
    });
    findings.dedup();
    Report { findings }
}

impl Report {
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
        out.push_str(&format!(
            "rules: {} error(s), {} warning(s), {} suppressed",
            self.errors().count(),
            self.warnings().count(),
            suppressed
        ));
        if suppressed > 0 && !show_suppressed {
            out.push_str(" (--show-suppressed lists them with their reasons)");
        }
        out.push('\n');
        out
    }
}

/// What `cfnkit synth` does with the pack: the summary to print when nothing fails (see [`Report::summary`]),
/// else an error message that lists every finding, suppressed ones included (the caller then writes nothing).
pub fn enforce(assembly: &Assembly, show_suppressed: bool) -> Result<String, String> {
    let report = check(assembly);
    if report.has_errors() {
        Err(format!(
            "the rule pack found errors; nothing was written:\n{report}"
        ))
    } else {
        Ok(report.summary(show_suppressed))
    }
}

/// Suppresses `rule` on a resource with a reason, in the resource's `Metadata.cfnkit.suppress` (see the module
/// docs). Suppressions already on the resource are kept.
pub fn suppress(handle: &ResourceHandle, rule: &str, reason: &str) {
    let entry = Value::map([("id", Value::from(rule)), ("reason", Value::from(reason))]);
    append_to_metadata_list(handle, METADATA_KEY, SUPPRESS_KEY, entry);
}

/// Suppresses only the listed items of `rule`'s findings on a resource (IAM5's `Resource::*`, IAM4's
/// `Policy::arn:...`; see the module docs), with a reason: the entry's `appliesTo`. Each item is matched
/// exactly; a regex is written in the metadata as `{regex: "/.../"}` (see [`suppress_only_matching`]).
pub fn suppress_only(handle: &ResourceHandle, rule: &str, applies_to: &[&str], reason: &str) {
    let items = applies_to.iter().map(|i| Value::from(*i));
    add_scoped(handle, rule, items, reason);
}

/// Like [`suppress_only`], with each item a regex in cdk-nag's form (`/^Resource::.*\/index\/\*$/`).
pub fn suppress_only_matching(handle: &ResourceHandle, rule: &str, regexes: &[&str], reason: &str) {
    let items = regexes
        .iter()
        .map(|r| Value::map([("regex", Value::from(*r))]));
    add_scoped(handle, rule, items, reason);
}

fn add_scoped(
    handle: &ResourceHandle,
    rule: &str,
    applies_to: impl IntoIterator<Item = Value>,
    reason: &str,
) {
    let entry = Value::map([
        ("id", Value::from(rule)),
        ("reason", Value::from(reason)),
        ("appliesTo", Value::list(applies_to)),
    ]);
    append_to_metadata_list(handle, METADATA_KEY, SUPPRESS_KEY, entry);
}

/// Skips checkov's check `id` on a resource with a reason, in `Metadata.checkov.skip: [{id, comment}]`
/// (checkov's own resource-level suppression for CloudFormation). Skips already on the resource are kept.
/// checkov is not cfnkit's rule pack, but the same discipline applies: every skip carries its reason, and the
/// README lists the platform's.
pub fn skip_checkov(handle: &ResourceHandle, id: &str, reason: &str) {
    let entry = Value::map([("id", Value::from(id)), ("comment", Value::from(reason))]);
    append_to_metadata_list(handle, "checkov", "skip", entry);
}

/// Appends `entry` to the list `Metadata.<key>.<list>` of a resource, keeping what is there. An entry already in
/// the list is not added again: a construct's grant adds its suppression each time it is called, and granting two
/// tables to one role must not list the same entry twice.
fn append_to_metadata_list(handle: &ResourceHandle, key: &str, list: &str, entry: Value) {
    let mut section = handle
        .entry()
        .metadata
        .get(key)
        .cloned()
        .unwrap_or_else(|| Value::map::<String, Value>([]));
    if let Value::Map(m) = &mut section {
        match m.get_mut(list) {
            Some(Value::List(items)) if items.contains(&entry) => return,
            Some(Value::List(items)) => items.push(entry),
            _ => {
                m.insert(list.to_owned(), Value::list([entry]));
            }
        }
    }
    handle.add_metadata(key, section);
}

const METADATA_KEY: &str = "cfnkit";
const SUPPRESS_KEY: &str = "suppress";

fn rule_info(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// The rules about suppressions themselves, which cannot be suppressed.
fn is_suppression_rule(id: &str) -> bool {
    id == SUPPRESSION_RULE || id == STALE_SUPPRESSION_RULE
}

/// `AwsSolutions-IAM5` and `IAM5` name the same rule.
fn normalize_id(id: &str) -> &str {
    id.strip_prefix("AwsSolutions-").unwrap_or(id)
}

/// The `Metadata.cfnkit.suppress` entries of a resource.
fn suppress_entries(resource: &Node) -> Option<&Node> {
    resource
        .get("Metadata")?
        .get(METADATA_KEY)?
        .get(SUPPRESS_KEY)
}

/// One `appliesTo` item: an exact item, or a regex (cdk-nag's `{regex: "/pattern/flags"}`).
enum Pattern {
    Exact(String),
    Regex(regex_lite::Regex),
}

impl Pattern {
    fn matches(&self, item: &str) -> bool {
        match self {
            Pattern::Exact(s) => s == item,
            Pattern::Regex(r) => r.is_match(item),
        }
    }
}

/// An `appliesTo` entry parsed, with the text it was written as (for messages).
type WrittenPattern = (Pattern, String);

/// Parses one `appliesTo` entry; the error says what is wrong with it.
fn parse_pattern(n: &Node) -> Result<(Pattern, String), String> {
    if let Some(s) = as_str(n) {
        return Ok((Pattern::Exact(s.to_owned()), s.to_owned()));
    }
    let Some(written) = n.get("regex").and_then(as_str) else {
        return Err(
            "an appliesTo entry is neither an item (a string) nor {regex: \"/.../\"}.".to_owned(),
        );
    };
    let body = written.strip_prefix('/').and_then(|r| r.rsplit_once('/'));
    let Some((pattern, flags)) = body else {
        return Err(format!(
            "the appliesTo regex {written:?} is not written /pattern/flags as cdk-nag writes it."
        ));
    };
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'g' | 'u' => {}
            'i' | 'm' | 's' => inline.push(flag),
            other => {
                return Err(format!(
                    "the appliesTo regex {written:?} has the flag {other:?}; use g, i, m, s or u."
                ))
            }
        }
    }
    let full = if inline.is_empty() {
        pattern.to_owned()
    } else {
        format!("(?{inline}){pattern}")
    };
    regex_lite::Regex::new(&full)
        .map(|r| (Pattern::Regex(r), written.to_owned()))
        .map_err(|e| format!("the appliesTo regex {written:?} does not parse: {e}."))
}

/// A resource's well-formed suppressions of one rule: `(reason, appliesTo)`, `None` for the whole rule.
/// Malformed entries are left to [`suppression_problems`] (and suppress nothing).
fn suppressions_of<'a>(
    resource: &'a Node,
    rule: &str,
) -> Vec<(&'a str, Option<Vec<WrittenPattern>>)> {
    let Some(Node::List(entries)) = suppress_entries(resource) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let id = as_str(e.get("id")?)?;
            let reason = as_str(e.get("reason")?)?.trim();
            if normalize_id(id) != rule || reason.is_empty() {
                return None;
            }
            match applies_to_of(e) {
                None => Some((reason, None)),
                Some(Node::List(list)) => {
                    let patterns: Result<Vec<_>, _> = list.iter().map(parse_pattern).collect();
                    Some((reason, Some(patterns.ok()?)))
                }
                Some(_) => None,
            }
        })
        .collect()
}

/// `appliesTo` (cdk-nag's API name), or `applies_to` (cdk-nag's CloudFormation metadata name).
fn applies_to_of(entry: &Node) -> Option<&Node> {
    entry.get("appliesTo").or_else(|| entry.get("applies_to"))
}

/// Marks `f` suppressed when a whole-rule suppression or the `appliesTo` of its rule's suppressions cover it;
/// when they cover some of its items only, leaves it an error naming the rest.
fn apply_suppressions(resource: Option<&Node>, f: &mut Finding) {
    if is_suppression_rule(f.rule) {
        return;
    }
    let Some(resource) = resource else {
        return;
    };
    let entries = suppressions_of(resource, f.rule);
    if let Some((reason, _)) = entries.iter().find(|(_, applies)| applies.is_none()) {
        f.suppressed = Some((*reason).to_owned());
        return;
    }
    if entries.is_empty() || f.items.is_empty() {
        return;
    }
    let mut reasons: Vec<&str> = Vec::new();
    let mut uncovered = Vec::new();
    for item in &f.items {
        let covering: Vec<&str> = entries
            .iter()
            .filter(|(_, applies)| {
                applies
                    .iter()
                    .flatten()
                    .any(|(pattern, _)| pattern.matches(item))
            })
            .map(|(reason, _)| *reason)
            .collect();
        if covering.is_empty() {
            uncovered.push(item.clone());
        }
        for r in covering {
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }
    if uncovered.is_empty() {
        f.suppressed = Some(reasons.join("; "));
    } else if uncovered.len() < f.items.len() {
        let all = format!(": {}.", f.items.join(", "));
        let lead = f.message.strip_suffix(&all).unwrap_or(&f.message);
        f.message = format!(
            "{lead}: {} (not covered by the appliesTo of its {} suppression(s); the others are).",
            uncovered.join(", "),
            f.rule
        );
        f.items = uncovered;
    }
}

/// `appliesTo` items that match none of the items the resource's findings of that rule have.
fn stale_applies_to(assembly: &Assembly, findings: &[Finding]) -> Vec<Finding> {
    let mut out = Vec::new();
    // The items of each (stack, resource, rule), gathered once rather than by scanning every finding per resource.
    let mut items_of: HashMap<(&str, &str, &str), Vec<&str>> = HashMap::new();
    for f in findings {
        items_of
            .entry((f.stack.as_str(), f.logical_id.as_str(), f.rule))
            .or_default()
            .extend(f.items.iter().map(String::as_str));
    }
    for stack in &assembly.stacks {
        for (id, resource) in resources(stack) {
            let Some(Node::List(entries)) = suppress_entries(resource) else {
                continue;
            };
            let mut seen: Vec<&str> = Vec::new();
            for e in entries {
                let Some(rule) = e.get("id").and_then(as_str).map(normalize_id) else {
                    continue;
                };
                if rule_info(rule).is_none() || is_suppression_rule(rule) || seen.contains(&rule) {
                    continue;
                }
                seen.push(rule);
                let items: &[&str] = items_of
                    .get(&(stack.name.as_str(), id, rule))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for (_, applies) in suppressions_of(resource, rule) {
                    for (pattern, written) in applies.iter().flatten() {
                        if !items.iter().any(|i| pattern.matches(i)) {
                            out.push(finding(
                                stack,
                                id,
                                rule_info(STALE_SUPPRESSION_RULE).unwrap(),
                                format!(
                                    "the suppression of {rule} applies to {written}, which the resource does not \
                                     have."
                                ),
                                format!(
                                    "remove {written} from the suppression's appliesTo (and the suppression when \
                                     nothing is left), or fix the reason if the item was renamed."
                                ),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Malformed suppressions: each is an error of its own.
fn suppression_problems(assembly: &Assembly) -> Vec<Finding> {
    let mut out = Vec::new();
    for stack in &assembly.stacks {
        for (id, resource) in resources(stack) {
            let Some(entries) = suppress_entries(resource) else {
                continue;
            };
            let mut problem = |message: String, fix: &str| {
                out.push(finding(
                    stack,
                    id,
                    rule_info(SUPPRESSION_RULE).unwrap(),
                    message,
                    fix.to_owned(),
                ))
            };
            let Node::List(entries) = entries else {
                problem(
                    "Metadata.cfnkit.suppress is not a list.".to_owned(),
                    "make it a list of {id, reason} entries.",
                );
                continue;
            };
            for e in entries {
                let Some(rule) = e.get("id").and_then(as_str) else {
                    problem(
                        "a suppression has no rule id.".to_owned(),
                        "give each entry an `id` naming the rule (e.g. IAM5).",
                    );
                    continue;
                };
                if rule_info(normalize_id(rule)).is_none()
                    || is_suppression_rule(normalize_id(rule))
                {
                    let known: Vec<&str> = RULES
                        .iter()
                        .map(|r| r.id)
                        .filter(|id| !is_suppression_rule(id))
                        .collect();
                    problem(
                        format!(
                            "the suppression names {rule:?}, which is not a rule of this pack."
                        ),
                        &format!("use one of {}.", known.join(", ")),
                    );
                }
                match applies_to_of(e) {
                    None => {}
                    Some(Node::List(list)) if list.is_empty() => problem(
                        format!("the appliesTo of the suppression of {rule} is empty, so it suppresses nothing."),
                        "list the items it covers, or remove appliesTo to suppress the whole rule.",
                    ),
                    Some(Node::List(list)) => {
                        for item in list {
                            if let Err(message) = parse_pattern(item) {
                                problem(
                                    format!("the suppression of {rule}: {message} It suppresses nothing."),
                                    "write each appliesTo entry as an item (`Resource::*`) or {regex: \"/^...$/\"}.",
                                );
                            }
                        }
                    }
                    Some(_) => problem(
                        format!("the appliesTo of the suppression of {rule} is not a list, so it suppresses nothing."),
                        "make appliesTo a list of items (`Resource::*`) or {regex: \"/^...$/\"} entries.",
                    ),
                }
                let reason = e
                    .get("reason")
                    .and_then(as_str)
                    .map(str::trim)
                    .unwrap_or("");
                if reason.is_empty() {
                    problem(
                        format!(
                            "the suppression of {rule} has no reason, so it suppresses nothing."
                        ),
                        "write why the finding does not apply in `reason`.",
                    );
                }
            }
        }
    }
    out
}

/// What every rule sees: the whole assembly (references cross stacks) and the findings so far.
///
/// Rules ask "every resource of type T" and "the resource this reference names" once per resource they check, so
/// both are indexed up front: scanning the assembly for each answer made the rule pack quadratic (5,000 queues
/// each looking for its queue policy took over half of a 200 ms synth).
pub(crate) struct Ctx<'a> {
    assembly: &'a Assembly,
    findings: Vec<Finding>,
    /// Resources by type, each list in assembly order (stacks in order, resources in template order).
    by_type: HashMap<&'a str, Vec<Res<'a>>>,
    /// Resources by (stack name, logical ID).
    by_id: HashMap<(&'a str, &'a str), Res<'a>>,
}

/// A resource of a stack's final template.
#[derive(Clone, Copy)]
pub(crate) struct Res<'a> {
    pub stack: &'a StackArtifact,
    pub id: &'a str,
    pub node: &'a Node,
}

impl<'a> Res<'a> {
    pub fn prop(&self, key: &str) -> Option<&'a Node> {
        self.node.get("Properties")?.get(key)
    }
    /// A property by path (`["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"]`).
    pub fn prop_at(&self, keys: &[&str]) -> Option<&'a Node> {
        let mut n = self.node.get("Properties")?;
        for k in keys {
            n = n.get(k)?;
        }
        Some(n)
    }
    pub fn type_name(&self) -> &'a str {
        self.node.get("Type").and_then(as_str).unwrap_or("")
    }
    /// The same resource and stack, as a key comparable with [`Ctx::target`].
    pub fn key(&self) -> (&'a str, &'a str) {
        (&self.stack.name, self.id)
    }
}

/// What a reference points to: stack, logical ID and attribute (`None` for `Ref`).
pub(crate) struct Referent<'a> {
    pub res: Res<'a>,
    pub attribute: Option<&'a str>,
}

fn resources(stack: &StackArtifact) -> impl Iterator<Item = (&str, &Node)> {
    let entries: &[(String, Node)] = match stack.template.get("Resources") {
        Some(Node::Map(m)) => m,
        _ => &[],
    };
    entries.iter().map(|(k, v)| (k.as_str(), v))
}

fn all_resources(assembly: &Assembly) -> impl Iterator<Item = Res<'_>> {
    assembly
        .stacks
        .iter()
        .flat_map(|stack| resources(stack).map(move |(id, node)| Res { stack, id, node }))
}

fn finding(
    stack: &StackArtifact,
    id: &str,
    rule: &RuleInfo,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        rule: rule.id,
        severity: rule.severity,
        stack: stack.name.clone(),
        logical_id: id.to_owned(),
        path: stack.paths.get(id).cloned(),
        message,
        fix,
        items: Vec::new(),
        suppressed: None,
    }
}

impl<'a> Ctx<'a> {
    fn new(assembly: &'a Assembly) -> Self {
        let mut by_type: HashMap<&'a str, Vec<Res<'a>>> = HashMap::new();
        let mut by_id = HashMap::new();
        for r in all_resources(assembly) {
            by_type.entry(r.type_name()).or_default().push(r);
            // A duplicate logical ID cannot occur in a synthesized template (a map); the first one wins.
            by_id.entry(r.key()).or_insert(r);
        }
        Ctx {
            assembly,
            findings: Vec::new(),
            by_type,
            by_id,
        }
    }
    /// Every resource of every stack.
    pub fn all(&self) -> impl Iterator<Item = Res<'a>> {
        all_resources(self.assembly)
    }
    /// Every resource of one type, in assembly order.
    pub fn of_type(&self, type_name: &str) -> impl Iterator<Item = Res<'a>> + '_ {
        self.by_type
            .get(type_name)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
    }
    /// Records a finding of `rule` on `res`.
    pub fn report(
        &mut self,
        rule: &str,
        res: &Res<'_>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let info = rule_info(rule).unwrap_or_else(|| panic!("rule {rule} is not in RULES"));
        self.findings
            .push(finding(res.stack, res.id, info, message.into(), fix.into()));
    }

    /// Records a finding of `rule` on `res` that lists what it found (see [`Finding::items`]): its message is
    /// `<lead>: <items, comma-separated>.`
    pub fn report_items(
        &mut self,
        rule: &str,
        res: &Res<'_>,
        lead: &str,
        items: Vec<String>,
        fix: impl Into<String>,
    ) {
        self.report(rule, res, format!("{lead}: {}.", items.join(", ")), fix);
        if let Some(f) = self.findings.last_mut() {
            f.items = items;
        }
    }

    /// The resource a value refers to: `Ref X`, `Fn::GetAtt [X, Attr]`, or `Fn::ImportValue` of an export whose
    /// producer's output is one of those.
    pub fn referent(&self, stack: &'a StackArtifact, value: &'a Node) -> Option<Referent<'a>> {
        match value {
            Node::Fn("Ref", arg) => {
                let id = as_str(arg)?;
                Some(Referent {
                    res: self.resource(stack, id)?,
                    attribute: None,
                })
            }
            Node::Fn("Fn::GetAtt", arg) => {
                let (id, attribute) = match &**arg {
                    Node::List(parts) if parts.len() == 2 => {
                        (as_str(&parts[0])?, as_str(&parts[1])?)
                    }
                    // The short form `X.Attr`.
                    Node::String(s) => s.split_once('.')?,
                    _ => return None,
                };
                Some(Referent {
                    res: self.resource(stack, id)?,
                    attribute: Some(attribute),
                })
            }
            Node::Fn("Fn::ImportValue", arg) => {
                let name = as_str(arg)?;
                self.assembly.stacks.iter().find_map(|producer| {
                    let Some(Node::Map(outputs)) = producer.template.get("Outputs") else {
                        return None;
                    };
                    let (_, output) = outputs.iter().find(|(_, o)| {
                        o.get("Export").and_then(|e| e.get("Name")).and_then(as_str) == Some(name)
                    })?;
                    self.referent(producer, output.get("Value")?)
                })
            }
            _ => None,
        }
    }

    fn resource(&self, stack: &'a StackArtifact, id: &str) -> Option<Res<'a>> {
        self.by_id.get(&(stack.name.as_str(), id)).copied()
    }
}

// Small readers of template values, shared by the rules.

pub(crate) fn as_str(n: &Node) -> Option<&str> {
    match n {
        Node::String(s) => Some(s),
        _ => None,
    }
}

/// A literal `true` (CloudFormation also takes the string `"true"`).
pub(crate) fn is_true(n: Option<&Node>) -> bool {
    match n {
        Some(Node::Bool(b)) => *b,
        Some(Node::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A literal `false` (or `"false"`).
pub(crate) fn is_false(n: Option<&Node>) -> bool {
    match n {
        Some(Node::Bool(b)) => !*b,
        Some(Node::String(s)) => s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

/// A literal number (or a string of digits).
pub(crate) fn as_f64(n: &Node) -> Option<f64> {
    match n {
        Node::Number(x) => x.as_f64(),
        Node::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The items of a value that may be one item or a list (`Action`, `Resource`).
pub(crate) fn items(n: &Node) -> Vec<&Node> {
    match n {
        Node::List(l) => l.iter().collect(),
        other => vec![other],
    }
}

/// A value as text, with references shown as `${X}` / `${X.Attr}`, joins joined and `Fn::Sub` templates as
/// written: enough to see a wildcard, an AWS managed policy ARN or a `/*` suffix.
pub(crate) fn text(n: &Node) -> String {
    match n {
        Node::String(s) => s.clone(),
        Node::Number(x) => x.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Fn("Ref", arg) => format!("${{{}}}", text(arg)),
        Node::Fn("Fn::GetAtt", arg) => match &**arg {
            Node::List(parts) => format!(
                "${{{}}}",
                parts.iter().map(text).collect::<Vec<_>>().join(".")
            ),
            other => format!("${{{}}}", text(other)),
        },
        Node::Fn("Fn::Join", arg) => match &**arg {
            Node::List(parts) if parts.len() == 2 => {
                let sep = text(&parts[0]);
                items(&parts[1])
                    .into_iter()
                    .map(text)
                    .collect::<Vec<_>>()
                    .join(&sep)
            }
            _ => "${?}".to_owned(),
        },
        Node::Fn("Fn::Sub", arg) => match &**arg {
            Node::String(s) => s.clone(),
            Node::List(parts) => parts.first().map(text).unwrap_or_default(),
            _ => "${?}".to_owned(),
        },
        Node::Fn("Fn::ImportValue", arg) => format!("${{Import:{}}}", text(arg)),
        _ => "${?}".to_owned(),
    }
}

/// A value as an item of a finding ([`Finding::items`]), in cdk-nag's notation: [`text`] with every `${X}`
/// (a reference, an `Fn::Sub` variable, a pseudo parameter) written `<X>`, so `<Table.Arn>/index/*`,
/// `arn:<AWS::Partition>:iam::aws:policy/...`. Besides being what a cdk-nag user writes in `appliesTo`, it
/// keeps suppressions lint-clean: cfn-lint flags a `${AWS::Region}` in a template's metadata (E1029, a
/// variable outside `Fn::Sub`).
pub(crate) fn item_text(n: &Node) -> String {
    let t = text(n);
    let mut out = String::with_capacity(t.len());
    let mut rest = t.as_str();
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push('<');
        out.push_str(&rest[start + 2..start + len]);
        out.push('>');
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// The statements of a policy document.
pub(crate) fn statements(doc: Option<&Node>) -> Vec<&Node> {
    doc.and_then(|d| d.get("Statement"))
        .map(items)
        .unwrap_or_default()
}

/// `Principal: "*"` or `Principal: {AWS: "*"}` (or a list holding `"*"`).
pub(crate) fn principal_is_anyone(p: Option<&Node>) -> bool {
    let star = |n: &Node| items(n).iter().any(|i| as_str(i) == Some("*"));
    match p {
        Some(Node::String(s)) => s == "*",
        Some(m @ Node::Map(_)) => m.get("AWS").is_some_and(star),
        _ => false,
    }
}

/// The statement's actions include one of `wanted` (e.g. `*`, `sqs:*`).
pub(crate) fn has_action(statement: &Node, wanted: &[&str]) -> bool {
    statement
        .get("Action")
        .map(items)
        .unwrap_or_default()
        .iter()
        .any(|a| as_str(a).is_some_and(|a| wanted.iter().any(|w| w.eq_ignore_ascii_case(a))))
}

/// A `Deny` for anyone, on the given actions, when `aws:SecureTransport` is false: the TLS-only statement.
pub(crate) fn is_tls_deny(statement: &Node, actions: &[&str]) -> bool {
    let secure_transport = statement
        .get("Condition")
        .and_then(|c| c.get("Bool"))
        .and_then(|b| b.get("aws:SecureTransport"));
    let denies_plain = match secure_transport {
        Some(Node::List(l)) => l.len() == 1 && is_false(l.first()),
        other => is_false(other),
    };
    statement.get("Effect").and_then(as_str) == Some("Deny")
        && principal_is_anyone(statement.get("Principal"))
        && has_action(statement, actions)
        && denies_plain
}

/// The `{"Bool": {"aws:SecureTransport": "false"}}` deny statement, as the fixes show it.
pub(crate) const TLS_STATEMENT: &str = r#"{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "<service>:*", "Resource": <the resource>, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}"#;
