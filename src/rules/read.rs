//! Small readers of template values, shared by the checks: literals (`true`, numbers), references and joins as
//! text, and the pieces of IAM policy documents the checks look at.

use crate::synth::Node;

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
        Node::Fn("Fn::GetStackOutput", arg) => format!(
            "${{Output:{}.{}}}",
            arg.get("StackName").map(text).unwrap_or_default(),
            arg.get("OutputName").map(text).unwrap_or_default()
        ),
        _ => "${?}".to_owned(),
    }
}

/// A value as an item of a finding ([`Finding::items`]), in cdk-nag's notation: [`text`] with every `${X}`
/// (a reference, an `Fn::Sub` variable, a pseudo parameter) written `<X>`, so `<Table.Arn>/index/*`,
/// `arn:<AWS::Partition>:iam::aws:policy/...`. Besides being what a cdk-nag user writes in `appliesTo`, it
/// keeps suppressions lint-clean: cfn-lint flags a `${AWS::Region}` in a template's metadata (E1029, a
/// variable outside `Fn::Sub`).
pub(crate) fn item_text(n: &Node) -> String {
    angle_variables(&text(n))
}

/// `t` with every `${X}` written `<X>`: how the rule pack names a value in a finding's items (cdk-nag's
/// notation), so a construct can write the suppression of an `Fn::Sub` template it made.
pub(crate) fn angle_variables(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
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
