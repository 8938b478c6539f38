//! Suppressions: writing them on resources, and applying them to the findings.
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
//! From Rust, [`suppress`] adds such an entry to a resource handle (keeping entries already there), naming the
//! rule by its constant: `rules::suppress(&handle, &rules::IAM5, "why")`. In metadata the id may also be written
//! `AwsSolutions-IAM5`. A suppression without a reason, or with an id that is not a rule of this pack, is itself
//! an error ([`CFNKIT_SUPPRESS`]). Suppressed findings are still reported, with their reason.
//!
//! # Suppressing some items of a finding (`appliesTo`)
//!
//! IAM4 and IAM5 findings list what they found, named as cdk-nag names them ([`Finding::items`]): IAM5's
//! wildcards are `Action::s3:*`, `Resource::*`, `Resource::<Bucket.Arn>/uploads/*`; IAM4's managed policies are
//! `Policy::arn:<AWS::Partition>:iam::aws:policy/<name>`. References, pseudo parameters and `Fn::Sub` variables
//! are written `<Id>` / `<Id.Attr>` / `<AWS::Partition>` as cdk-nag writes them (a `${AWS::Region}` in metadata
//! would also be flagged by cfn-lint, E1029). One item may come from several statements: X-Ray's and
//! ListStreams' `Resource::*` are the same item, so a suppression of `Resource::*` covers every action granted
//! on `*` (as in cdk-nag); the finding's message names those actions, and the platform's tests check them. A
//! suppression may list the items it covers, as cdk-nag's `appliesTo` does:
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
//! ([`CFNKIT_SUPPRESS_STALE`]): the grant it was written for is gone, so the suppression would silently cover
//! whatever comes next. [`suppress_only`] writes such an entry.
//!
//! A suppression without `appliesTo` still suppresses the whole rule on the resource. For IAM4 and IAM5 the
//! scoped form is the recommended one: a whole-rule IAM5 suppression written for X-Ray's `*` would also hide a
//! later `s3:*` on the same role.
//!
//! [`Finding::items`]: super::Finding::items

use std::collections::HashMap;

use cfnkit_core::{ResourceHandle, Value};

use super::context::{finding, resources};
use super::read::as_str;
use super::registry::{
    by_id, is_about_suppressions, RuleInfo, CFNKIT_SUPPRESS, CFNKIT_SUPPRESS_STALE, RULES,
};
use super::report::Finding;
use crate::synth::{Assembly, Node};

/// The resource metadata key cfnkit's suppressions live under (`Metadata.cfnkit.suppress`).
const METADATA_KEY: &str = "cfnkit";
const SUPPRESS_KEY: &str = "suppress";

/// Suppresses `rule` on a resource with a reason, in the resource's `Metadata.cfnkit.suppress` (see the module
/// docs). Suppressions already on the resource are kept.
pub fn suppress(handle: &ResourceHandle, rule: &RuleInfo, reason: &str) {
    let entry = Value::map([
        ("id", Value::from(rule.id())),
        ("reason", Value::from(reason)),
    ]);
    append_to_metadata_list(handle, METADATA_KEY, SUPPRESS_KEY, entry);
}

/// Suppresses only the listed items of `rule`'s findings on a resource (IAM5's `Resource::*`, IAM4's
/// `Policy::arn:...`; see the module docs), with a reason: the entry's `appliesTo`. Each item is matched
/// exactly; a regex is written in the metadata as `{regex: "/.../"}` (see [`suppress_only_matching`]).
pub fn suppress_only(handle: &ResourceHandle, rule: &RuleInfo, applies_to: &[&str], reason: &str) {
    let items = applies_to.iter().map(|i| Value::from(*i));
    add_scoped(handle, rule, items, reason);
}

/// Like [`suppress_only`], with each item a regex in cdk-nag's form (`/^Resource::.*\/index\/\*$/`).
pub fn suppress_only_matching(
    handle: &ResourceHandle,
    rule: &RuleInfo,
    regexes: &[&str],
    reason: &str,
) {
    let items = regexes
        .iter()
        .map(|r| Value::map([("regex", Value::from(*r))]));
    add_scoped(handle, rule, items, reason);
}

fn add_scoped(
    handle: &ResourceHandle,
    rule: &RuleInfo,
    applies_to: impl IntoIterator<Item = Value>,
    reason: &str,
) {
    let entry = Value::map([
        ("id", Value::from(rule.id())),
        ("reason", Value::from(reason)),
        ("appliesTo", Value::list(applies_to)),
    ]);
    append_to_metadata_list(handle, METADATA_KEY, SUPPRESS_KEY, entry);
}

/// Skips checkov's check `id` on a resource with a reason, in `Metadata.checkov.skip: [{id, comment}]`
/// (checkov's own resource-level suppression for CloudFormation). Skips of other checks already on the resource
/// are kept; a skip of the same check is replaced, so that an app can state its own reason for a skip a
/// construct wrote with a general one (a `Function` skips CKV_AWS_117 because it runs outside a VPC; the app
/// can say why that suits it). checkov is not cfnkit's rule pack, but the same discipline applies: every skip
/// carries its reason, and stacks/README.md says how to list the platform's.
pub fn skip_checkov(handle: &ResourceHandle, id: &str, reason: &str) {
    let entry = Value::map([("id", Value::from(id)), ("comment", Value::from(reason))]);
    let same_check =
        |e: &Value| matches!(e, Value::Map(m) if m.get("id") == Some(&Value::from(id)));
    let section = handle.entry().metadata.get("checkov").cloned();
    if let Some(Value::Map(mut section)) = section {
        if let Some(Value::List(skips)) = section.get_mut("skip") {
            if let Some(existing) = skips.iter_mut().find(|e| same_check(e)) {
                *existing = entry;
                handle.add_metadata("checkov", Value::Map(section));
                return;
            }
        }
    }
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

/// Marks the findings their resources' suppressions cover, then adds the findings about the suppressions
/// themselves: malformed ones ([`CFNKIT_SUPPRESS`]) and stale `appliesTo` items ([`CFNKIT_SUPPRESS_STALE`]).
pub(super) fn apply(assembly: &Assembly, findings: &mut Vec<Finding>) {
    // Stale items are judged against every item found, before suppressions trim the findings' lists.
    let stale = stale_applies_to(assembly, findings);
    // Looked up once per finding: a linear search of each stack's resources made this quadratic.
    let nodes: HashMap<(&str, &str), &Node> = assembly
        .stacks
        .iter()
        .flat_map(|stack| resources(stack).map(move |(id, node)| ((stack.name.as_str(), id), node)))
        .collect();
    for f in findings.iter_mut() {
        let resource = nodes
            .get(&(f.stack.as_str(), f.logical_id.as_str()))
            .copied();
        apply_to(resource, f);
    }
    findings.extend(suppression_problems(assembly));
    findings.extend(stale);
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

/// Why an `appliesTo` entry cannot be read; the finding about it adds that it suppresses nothing.
#[derive(Debug, thiserror::Error)]
enum PatternError {
    #[error("an appliesTo entry is neither an item (a string) nor {{regex: \"/.../\"}}.")]
    NotAnItem,
    #[error("the appliesTo regex {0:?} is not written /pattern/flags as cdk-nag writes it.")]
    NotSlashed(String),
    #[error("the appliesTo regex {written:?} has the flag {flag:?}; use g, i, m, s or u.")]
    UnknownFlag { written: String, flag: char },
    #[error("the appliesTo regex {written:?} does not parse: {source}.")]
    Unparsable {
        written: String,
        source: regex_lite::Error,
    },
}

/// Parses one `appliesTo` entry.
fn parse_pattern(n: &Node) -> Result<WrittenPattern, PatternError> {
    if let Some(s) = as_str(n) {
        return Ok((Pattern::Exact(s.to_owned()), s.to_owned()));
    }
    let written = n
        .get("regex")
        .and_then(as_str)
        .ok_or(PatternError::NotAnItem)?;
    let (pattern, flags) = written
        .strip_prefix('/')
        .and_then(|r| r.rsplit_once('/'))
        .ok_or_else(|| PatternError::NotSlashed(written.to_owned()))?;
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'g' | 'u' => {}
            'i' | 'm' | 's' => inline.push(flag),
            flag => {
                return Err(PatternError::UnknownFlag {
                    written: written.to_owned(),
                    flag,
                })
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
        .map_err(|source| PatternError::Unparsable {
            written: written.to_owned(),
            source,
        })
}

/// A resource's well-formed suppressions of one rule: `(reason, appliesTo)`, `None` for the whole rule.
/// Malformed entries are left to [`suppression_problems`] (and suppress nothing).
fn suppressions_of<'a>(
    resource: &'a Node,
    rule: &RuleInfo,
) -> Vec<(&'a str, Option<Vec<WrittenPattern>>)> {
    let Some(Node::List(entries)) = suppress_entries(resource) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let id = as_str(e.get("id")?)?;
            let reason = as_str(e.get("reason")?)?.trim();
            if by_id(id) != Some(rule) || reason.is_empty() {
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
fn apply_to(resource: Option<&Node>, f: &mut Finding) {
    if is_about_suppressions(f.rule) {
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
        let listed = match &f.itemized {
            Some(itemized) => {
                f.fix = itemized.fix(&uncovered);
                itemized.message(&uncovered)
            }
            None => uncovered.join(", "),
        };
        f.message = format!(
            "{listed} (not covered by the appliesTo of its {} suppression(s); the others are).",
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
            .entry((f.stack.as_str(), f.logical_id.as_str(), f.rule.id()))
            .or_default()
            .extend(f.items.iter().map(String::as_str));
    }
    for stack in &assembly.stacks {
        for (id, resource) in resources(stack) {
            let Some(Node::List(entries)) = suppress_entries(resource) else {
                continue;
            };
            let mut seen: Vec<&RuleInfo> = Vec::new();
            for e in entries {
                let Some(rule) = e.get("id").and_then(as_str).and_then(by_id) else {
                    continue;
                };
                if is_about_suppressions(rule) || seen.contains(&rule) {
                    continue;
                }
                seen.push(rule);
                let items: &[&str] = items_of
                    .get(&(stack.name.as_str(), id, rule.id()))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                for (_, applies) in suppressions_of(resource, rule) {
                    for (pattern, written) in applies.iter().flatten() {
                        if !items.iter().any(|i| pattern.matches(i)) {
                            out.push(finding(
                                stack,
                                id,
                                &CFNKIT_SUPPRESS_STALE,
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
                    &CFNKIT_SUPPRESS,
                    message,
                    fix.to_owned(),
                ))
            };
            let Node::List(entries) = entries else {
                problem(
                    "Metadata.cfnkit.suppress is not a list.".to_owned(),
                    "make it a list of {id, reason} entries (`rules::suppress` writes them).",
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
                if by_id(rule).is_none_or(is_about_suppressions) {
                    let known: Vec<&str> = RULES
                        .iter()
                        .filter(|r| !is_about_suppressions(r))
                        .map(RuleInfo::id)
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
                            if let Err(e) = parse_pattern(item) {
                                problem(
                                    format!("the suppression of {rule}: {e} It suppresses nothing."),
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
