//! Identity policy documents as IAM reads them: statements, their actions and resources with `*` and `?`
//! wildcards, and their conditions (evaluated in [`super::condition`]).

use serde_json::Value;

/// A policy document and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// What the policy is, for messages: `Order/OrderApiServiceRole inline policy "grants"`,
    /// `Order/SharedPolicy`.
    pub name: String,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// Allow or Deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `"Effect": "Allow"`.
    Allow,
    /// `"Effect": "Deny"`.
    Deny,
}

/// Either the listed values, or everything but them (`NotAction`, `NotResource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Matcher {
    /// `Action` / `Resource`: any of these patterns.
    Any(Vec<String>),
    /// `NotAction` / `NotResource`: none of these patterns.
    NoneOf(Vec<String>),
}

/// One statement of a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// `Sid`, when the statement has one.
    pub sid: Option<String>,
    /// Its position in the policy (0-based), to name statements without a Sid.
    pub index: usize,
    /// Allow or Deny.
    pub effect: Effect,
    /// `Action` or `NotAction`.
    pub action: Matcher,
    /// `Resource` or `NotResource`.
    pub resource: Matcher,
    /// `Condition`, one clause per operator and key, as written.
    pub condition: Vec<Clause>,
}

/// One operator and key of a `Condition` block: `"StringEquals": {"kms:ViaService": ["sqs.us-east-1..."]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// The operator (`StringEquals`, `ForAnyValue:StringLike`, `BoolIfExists`).
    pub operator: String,
    /// The condition key, as written.
    pub key: String,
    /// The policy's values (any of them may match).
    pub values: Vec<String>,
}

/// A policy document that IAM would refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("policy {policy} is not a valid IAM policy: {problem}")]
pub struct PolicyError {
    /// The policy's name.
    pub policy: String,
    /// What is wrong, and where.
    pub problem: String,
}

impl Policy {
    /// Reads a resolved policy document (`{"Version": ..., "Statement": [...]}`).
    pub fn parse(name: impl Into<String>, document: &Value) -> Result<Policy, PolicyError> {
        let name = name.into();
        let err = |problem: String| PolicyError {
            policy: name.clone(),
            problem,
        };
        let statements = match document.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(other) => {
                return Err(err(format!(
                    "Statement must be an object or a list, got {other}"
                )))
            }
            None => return Err(err("the document has no Statement".into())),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, s)| Statement::parse(index, s).map_err(&err))
            .collect::<Result<_, _>>()?;
        Ok(Policy { name, statements })
    }
}

impl Statement {
    fn parse(index: usize, s: &Value) -> Result<Statement, String> {
        let at = |what: &str| format!("statement {index}: {what}");
        let effect = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => {
                return Err(at(&format!(
                    "Effect must be \"Allow\" or \"Deny\", got {}",
                    other.map_or("nothing".to_owned(), |o| format!("{o:?}"))
                )))
            }
        };
        let matcher = |positive: &str, negative: &str| -> Result<Matcher, String> {
            match (s.get(positive), s.get(negative)) {
                (Some(v), None) => strings(v).map(Matcher::Any),
                (None, Some(v)) => strings(v).map(Matcher::NoneOf),
                (Some(_), Some(_)) => Err(format!("has both {positive} and {negative}")),
                (None, None) => Err(format!("has neither {positive} nor {negative}")),
            }
            .map_err(|e| at(&e))
        };
        let action = matcher("Action", "NotAction")?;
        let resource = matcher("Resource", "NotResource")?;
        let mut condition = Vec::new();
        if let Some(c) = s.get("Condition") {
            let ops = c
                .as_object()
                .ok_or_else(|| at("Condition must be an object"))?;
            for (op, keys) in ops {
                let keys = keys
                    .as_object()
                    .ok_or_else(|| at(&format!("Condition {op} must map keys to values")))?;
                for (key, values) in keys {
                    condition.push(Clause {
                        operator: op.clone(),
                        key: key.clone(),
                        values: strings(values).map_err(|e| at(&e))?,
                    });
                }
            }
        }
        Ok(Statement {
            sid: s.get("Sid").and_then(Value::as_str).map(str::to_owned),
            index,
            effect,
            action,
            resource,
            condition,
        })
    }

    /// Whether the statement's `Action`/`NotAction` covers the action (case-insensitive, as IAM compares
    /// actions).
    pub fn matches_action(&self, action: &str) -> bool {
        let action = action.to_ascii_lowercase();
        let hit = |patterns: &[String]| {
            patterns
                .iter()
                .any(|p| wildcard_match(&p.to_ascii_lowercase(), &action))
        };
        match &self.action {
            Matcher::Any(p) => hit(p),
            Matcher::NoneOf(p) => !hit(p),
        }
    }

    /// Whether the statement's `Resource`/`NotResource` covers the ARN (case-sensitive).
    pub fn matches_resource(&self, resource: &str) -> bool {
        let hit = |patterns: &[String]| patterns.iter().any(|p| arn_match(p, resource));
        match &self.resource {
            Matcher::Any(p) => hit(p),
            Matcher::NoneOf(p) => !hit(p),
        }
    }

    /// `Sid "X"` or `statement 2`, for messages.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement {sid:?}"),
            None => format!("statement {}", self.index),
        }
    }
}

/// A string or a list of strings (numbers and booleans, which condition values may be, as text).
fn strings(v: &Value) -> Result<Vec<String>, String> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a string, got {other}")),
    };
    match v {
        Value::Array(a) => a.iter().map(one).collect(),
        v => one(v).map(|s| vec![s]),
    }
}

/// An ARN pattern against an ARN, as IAM matches `Resource` and `ArnLike`: partition, service, region and
/// account segment by segment, the resource part as a whole (a `*` there spans `/` and `:`, as in
/// `log-group:name:*`). A pattern that is not an ARN (`*`) matches the whole string.
pub fn arn_match(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() == 6 && a.len() == 6 {
        p.iter().zip(&a).all(|(p, a)| wildcard_match(p, a))
    } else {
        wildcard_match(pattern, arn)
    }
}

/// `*` matches any run of characters, `?` exactly one; everything else itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it currently stands for: backtrack there on a mismatch.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
