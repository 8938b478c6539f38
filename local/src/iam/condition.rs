//! `Condition` blocks, for the operators and keys the local run can evaluate.
//!
//! Operators: `String{Equals,NotEquals,EqualsIgnoreCase,NotEqualsIgnoreCase,Like,NotLike}`,
//! `Arn{Equals,NotEquals,Like,NotLike}`, `Bool`, `Null`,
//! `Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals}`, each with `IfExists`
//! and the `ForAnyValue:` / `ForAllValues:` set qualifiers. Keys: those in [`MODELED_KEYS`]; a key the local run
//! does not model (`aws:SourceIp`, `dynamodb:LeadingKeys`...) or another operator (`DateGreaterThan`,
//! `IpAddress`...) cannot be evaluated: the statement is then left out and the evaluation says so.

use std::collections::BTreeMap;

use super::policy::{arn_match, wildcard_match, Clause};

/// The condition keys the local run sets when they apply and leaves absent when they do not, lower-cased.
/// A key absent from a request is then absent as on AWS, and IAM's rules for absent keys hold.
pub const MODELED_KEYS: &[&str] = &[
    "aws:securetransport",
    "aws:requestedregion",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principaltype",
    "aws:viaawsservice",
    "aws:calledvia",
    "kms:viaservice",
    "kms:calleraccount",
    "s3:prefix",
    "s3:delimiter",
    "s3:max-keys",
];

/// The request's condition keys (lower-cased) and their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Key -> values (one for single-valued keys).
    pub keys: BTreeMap<String, Vec<String>>,
}

impl Context {
    /// Sets a key.
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_ascii_lowercase(), values);
    }
}

/// A condition block's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every condition holds.
    Holds,
    /// A condition does not hold.
    Fails,
    /// A condition could not be evaluated locally: why.
    Unevaluated(String),
}

#[derive(Clone, Copy)]
enum Kind {
    String,
    StringIgnoreCase,
    StringLike,
    Arn,
    ArnLike,
    Bool,
    Numeric(fn(f64, f64) -> bool),
}

/// Evaluates a statement's `Condition`: every operator's every key must hold.
pub fn evaluate(condition: &[Clause], context: &Context) -> Outcome {
    let mut unevaluated = None;
    for clause in condition {
        match evaluate_one(&clause.operator, &clause.key, &clause.values, context) {
            Outcome::Holds => {}
            // A failing condition decides, even when another could not be evaluated.
            Outcome::Fails => return Outcome::Fails,
            Outcome::Unevaluated(why) => {
                unevaluated.get_or_insert(why);
            }
        }
    }
    unevaluated.map_or(Outcome::Holds, Outcome::Unevaluated)
}

fn evaluate_one(operator: &str, key: &str, values: &[String], context: &Context) -> Outcome {
    let (set, op) = match operator.split_once(':') {
        Some((q @ ("ForAnyValue" | "ForAllValues"), op)) => (Some(q), op),
        Some(_) => {
            return Outcome::Unevaluated(format!(
                "condition operator {operator} is not one IAM has"
            ))
        }
        None => (None, operator),
    };
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (op, false),
    };
    let lower_key = key.to_ascii_lowercase();
    if op == "Null" {
        // `Null: {key: true}` holds when the key is absent.
        if !MODELED_KEYS.contains(&lower_key.as_str()) {
            return unmodeled(key);
        }
        let absent = !context.keys.contains_key(&lower_key);
        let want_absent = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return if absent == want_absent {
            Outcome::Holds
        } else {
            Outcome::Fails
        };
    }
    let (kind, negated) = match op {
        "StringEquals" => (Kind::String, false),
        "StringNotEquals" => (Kind::String, true),
        "StringEqualsIgnoreCase" => (Kind::StringIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Kind::StringIgnoreCase, true),
        "StringLike" => (Kind::StringLike, false),
        "StringNotLike" => (Kind::StringLike, true),
        "ArnEquals" => (Kind::Arn, false),
        "ArnNotEquals" => (Kind::Arn, true),
        "ArnLike" => (Kind::ArnLike, false),
        "ArnNotLike" => (Kind::ArnLike, true),
        "Bool" => (Kind::Bool, false),
        "NumericEquals" => (Kind::Numeric(|a, b| a == b), false),
        "NumericNotEquals" => (Kind::Numeric(|a, b| a == b), true),
        "NumericLessThan" => (Kind::Numeric(|a, b| a < b), false),
        "NumericLessThanEquals" => (Kind::Numeric(|a, b| a <= b), false),
        "NumericGreaterThan" => (Kind::Numeric(|a, b| a > b), false),
        "NumericGreaterThanEquals" => (Kind::Numeric(|a, b| a >= b), false),
        _ => {
            return Outcome::Unevaluated(format!(
                "condition operator {operator} is not evaluated locally (cfnkit-local evaluates String*, Arn*, \
                 Bool, Null and Numeric*)"
            ))
        }
    };
    if !MODELED_KEYS.contains(&lower_key.as_str()) {
        return unmodeled(key);
    }
    let Some(actual) = context.keys.get(&lower_key) else {
        // IAM on an absent key: IfExists and negated operators hold, ForAllValues holds vacuously.
        let holds = if_exists || negated || set == Some("ForAllValues");
        return if holds {
            Outcome::Holds
        } else {
            Outcome::Fails
        };
    };
    let matches = |a: &str| values.iter().any(|v| value_matches(kind, v, a));
    let holds = match set {
        Some("ForAllValues") => actual.iter().all(|a| matches(a) != negated),
        Some(_) => actual.iter().any(|a| matches(a) != negated),
        // A single-valued key: negated operators hold when the value matches none of the policy's.
        None => actual.iter().any(|a| matches(a)) != negated,
    };
    if holds {
        Outcome::Holds
    } else {
        Outcome::Fails
    }
}

fn unmodeled(key: &str) -> Outcome {
    Outcome::Unevaluated(format!(
        "condition key {key} has no local value (cfnkit-local sets {})",
        MODELED_KEYS.join(", ")
    ))
}

fn value_matches(kind: Kind, policy: &str, actual: &str) -> bool {
    match kind {
        Kind::String => policy == actual,
        Kind::StringIgnoreCase => policy.eq_ignore_ascii_case(actual),
        Kind::StringLike => wildcard_match(policy, actual),
        Kind::Arn | Kind::ArnLike => arn_match(policy, actual),
        Kind::Bool => policy.eq_ignore_ascii_case(actual),
        Kind::Numeric(cmp) => match (actual.parse::<f64>(), policy.parse::<f64>()) {
            (Ok(a), Ok(p)) => cmp(a, p),
            _ => false,
        },
    }
}
