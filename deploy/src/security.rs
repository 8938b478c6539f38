//! Security changes between the deployed template and the synthesized one, for `--require-approval` (CDK's
//! IAM statement and security group tables): who may do what to what, before and after.
//!
//! Every permission-bearing piece of a template becomes a [`Grant`] row: an IAM statement (inline role, user
//! and group policies, `AWS::IAM::Policy`/`ManagedPolicy`/`RolePolicy`, a role's trust policy), a managed policy
//! attached to a role, user or group, a resource policy statement, a Lambda permission or public function URL,
//! and a security group rule (inline or as its own resource). Which types are read, and where their permissions
//! live, is cfnkit's [`PERMISSION_SOURCES`](cfnkit::resource_types::PERMISSION_SOURCES) table, which the rule
//! pack's IAM checks read too. A policy that cannot be read (not JSON, or computed by an intrinsic function)
//! is one row that needs approval when it changes. Added rows open to anyone are flagged under the table
//! ([`warning`]). Rows are compared as rendered values,
//! so a modified statement shows as the old row removed and the new one added, as in CDK. Lists are sorted and a
//! single value reads as a one-element list, so reordering or re-spelling a statement is no change.
//!
//! Broadening (what `--require-approval broadening` asks about, as CDK's `permissionsBroadened`): an added row
//! that allows something, or a removed `Deny`.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::template::is_intrinsic;
use cfnkit::resource_types::{
    permission_source, PermissionLayout, INLINE_POLICIES, MANAGED_POLICY_ARNS, POLICY_DOCUMENT,
};
use console::{measure_text_width, style};
use serde_json::{json, Map, Value};

/// One permission as a table row. Field order is the comparison order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The logical ID of the resource the permission is written in.
    pub resource: String,
    pub resource_type: String,
    /// `Allow` or `Deny`; `Allow` for Lambda permissions, security group rules and managed policies.
    pub effect: String,
    /// IAM actions (`NOT ` before NotAction), `ingress tcp 443`, or `managed policy`.
    pub action: String,
    /// Who: the statement's principal, the roles an identity policy is attached to, the rule's peer.
    pub principal: String,
    /// On what: the statement's resources, the function, the security group, the managed policy ARN.
    pub target: String,
    pub condition: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SecurityDiff {
    pub changes: Vec<(Change, Grant)>,
}

impl SecurityDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// More is allowed than before: an added Allow, or a removed Deny; an added or removed policy that cannot
    /// be read counts too.
    pub fn is_broadening(&self) -> bool {
        self.changes.iter().any(|(c, g)| match c {
            Change::Added => g.effect != "Deny",
            // A removed policy that could not be read may have held a Deny.
            Change::Removed => g.effect == "Deny" || g.effect == UNREADABLE,
        })
    }
}

/// The security rows removed and added between the deployed template (`None`: not deployed) and the new one.
pub fn diff(old: Option<&Value>, new: &Value) -> SecurityDiff {
    let before: BTreeSet<Grant> = old.map(grants).unwrap_or_default().into_iter().collect();
    let after: BTreeSet<Grant> = grants(new).into_iter().collect();
    let mut changes: Vec<(Change, Grant)> = before
        .difference(&after)
        .map(|g| (Change::Removed, g.clone()))
        .chain(
            after
                .difference(&before)
                .map(|g| (Change::Added, g.clone())),
        )
        .collect();
    changes.sort_by(|a, b| a.1.cmp(&b.1).then((a.0 as u8).cmp(&(b.0 as u8))));
    SecurityDiff { changes }
}

/// The effect of a row for a policy that cannot be read (not JSON, or computed by an intrinsic function): it
/// may allow anything, so adding, changing or removing it needs approval.
pub const UNREADABLE: &str = "Unknown";

/// Every security row of a template.
pub fn grants(template: &Value) -> Vec<Grant> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // By logical ID whatever the map's order (serde_json's preserve_order keeps the template's).
    let mut resources: Vec<(&String, &Value)> = resources.iter().collect();
    resources.sort_by(|a, b| a.0.cmp(b.0));
    for (id, r) in resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
        let Some(source) = permission_source(ty) else {
            continue;
        };
        let empty = Map::new();
        let props = r
            .get("Properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut rows = Rows {
            id,
            ty,
            out: &mut out,
        };
        let prop = |k: &str| props.get(k);
        let me = reference(id);
        match source.layout {
            PermissionLayout::Identity { trust } => {
                // The trust policy: who may assume this role.
                if let Some((key, doc)) = trust.and_then(|k| Some((k, prop(k)?))) {
                    rows.document(key, doc, None, &me);
                }
                rows.identity(
                    prop(INLINE_POLICIES),
                    prop(MANAGED_POLICY_ARNS),
                    &format!("AWS:{me}"),
                );
            }
            PermissionLayout::Attached { doc, to } => {
                let attached = to
                    .iter()
                    .filter_map(|k| prop(k))
                    .flat_map(list)
                    .map(|v| format!("AWS:{}", render(v)))
                    .collect::<Vec<_>>();
                if let Some(d) = prop(doc) {
                    rows.document(doc, d, Some(&join(attached)), "");
                }
            }
            PermissionLayout::ResourcePolicy { doc, on } => {
                let on = match on
                    .iter()
                    .filter_map(|k| prop(k))
                    .flat_map(list)
                    .map(render)
                    .collect::<Vec<_>>()
                {
                    named if named.is_empty() => me,
                    named => join(named),
                };
                if let Some(d) = prop(doc) {
                    rows.document(doc, d, None, &on);
                }
            }
            PermissionLayout::EventBus => {
                let bus = prop("EventBusName").map_or_else(|| "default".to_owned(), render);
                if let Some(statement) = prop("Statement") {
                    // One statement, not a document: read as a document of that statement.
                    let doc = match statement {
                        Value::String(text) => match serde_json::from_str::<Value>(text) {
                            Ok(parsed) => json!({ "Statement": parsed }),
                            Err(_) => statement.clone(),
                        },
                        Value::Object(m) if !is_intrinsic(m) => json!({ "Statement": statement }),
                        other => other.clone(),
                    };
                    rows.document("Statement", &doc, None, &bus);
                } else {
                    rows.push(Grant {
                        effect: "Allow".into(),
                        action: prop("Action").map(render).unwrap_or_default(),
                        principal: prop("Principal").map(render).unwrap_or_default(),
                        target: bus,
                        condition: prop("Condition").map(render).unwrap_or_default(),
                        ..rows.base()
                    });
                }
            }
            PermissionLayout::Properties { target, conditions } => {
                let condition = conditions
                    .iter()
                    .filter_map(|k| prop(k).map(|v| format!("{k}: {}", render(v))))
                    .collect::<Vec<_>>();
                rows.push(Grant {
                    effect: "Allow".into(),
                    action: prop("Action").map(render).unwrap_or_default(),
                    principal: prop("Principal").map(render).unwrap_or_default(),
                    target: prop(target).map(render).unwrap_or_default(),
                    condition: join(condition),
                    ..rows.base()
                });
            }
            PermissionLayout::FunctionUrl => {
                // Anything but AWS_IAM (the only other value) is read as public, so a computed AuthType counts.
                let auth = prop("AuthType").map(render).unwrap_or_default();
                if auth != "AWS_IAM" {
                    let function = prop("TargetFunctionArn").map(render).unwrap_or_default();
                    rows.push(Grant {
                        effect: "Allow".into(),
                        action: format!("lambda:InvokeFunctionUrl (AuthType {auth})"),
                        principal: "*".into(),
                        target: match prop("Qualifier") {
                            Some(q) => format!("{function}:{}", render(q)),
                            None => function,
                        },
                        ..rows.base()
                    });
                }
            }
            PermissionLayout::SecurityGroup => {
                for (key, dir) in [
                    ("SecurityGroupIngress", "ingress"),
                    ("SecurityGroupEgress", "egress"),
                ] {
                    for rule in prop(key).map(list).unwrap_or_default() {
                        if let Some(rule) = rule.as_object() {
                            rows.rule(dir, rule, &me);
                        }
                    }
                }
            }
            PermissionLayout::SecurityGroupRule { direction, group } => {
                let group = group
                    .iter()
                    .find_map(|k| prop(k))
                    .map(render)
                    .unwrap_or_default();
                rows.rule(direction, props, &group);
            }
        }
    }
    out
}

struct Rows<'a> {
    id: &'a str,
    ty: &'a str,
    out: &'a mut Vec<Grant>,
}

impl Rows<'_> {
    fn base(&self) -> Grant {
        Grant {
            resource: self.id.to_owned(),
            resource_type: self.ty.to_owned(),
            effect: String::new(),
            action: String::new(),
            principal: String::new(),
            target: String::new(),
            condition: String::new(),
        }
    }

    fn push(&mut self, g: Grant) {
        self.out.push(g);
    }

    /// Inline policies and attached managed policies of a role, user or group (`me`).
    fn identity(&mut self, policies: Option<&Value>, managed: Option<&Value>, me: &str) {
        for p in policies.map(list).unwrap_or_default() {
            if let Some(doc) = p.get(POLICY_DOCUMENT) {
                self.document(INLINE_POLICIES, doc, Some(me), "");
            }
        }
        for arn in managed.map(list).unwrap_or_default() {
            self.push(Grant {
                effect: "Allow".into(),
                action: "managed policy".into(),
                principal: me.to_owned(),
                target: render(arn),
                ..self.base()
            });
        }
    }

    /// A policy document (`key`: the property it is in) as an object, or as JSON in a string (which
    /// CloudFormation takes for every policy property, and `AWS::Logs::ResourcePolicy` requires). A document
    /// that cannot be read (not JSON, or computed by an intrinsic function such as `Fn::Join`) is one
    /// [`UNREADABLE`] row identified by its content's hash, so that changing it is a change needing approval
    /// rather than nothing.
    fn document(&mut self, key: &str, doc: &Value, principal: Option<&str>, target: &str) {
        match doc {
            Value::Object(m) if !is_intrinsic(m) => self.statements(key, doc, principal, target),
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(parsed @ Value::Object(_)) => self.statements(key, &parsed, principal, target),
                Ok(_) => self.unreadable(key, doc, "JSON but not an object"),
                Err(e) => self.unreadable(key, doc, &format!("not JSON: {e}")),
            },
            _ => self.unreadable(key, doc, "computed by an intrinsic function"),
        }
    }

    fn unreadable(&mut self, key: &str, doc: &Value, why: &str) {
        let text = serde_json::to_string(doc).unwrap_or_default();
        let hash = crate::assembly::sha256_hex(text.as_bytes());
        self.push(Grant {
            effect: UNREADABLE.into(),
            action: format!("{key} cannot be read ({why})"),
            target: format!("{key} sha256:{}", &hash[..12]),
            ..self.base()
        });
    }

    /// The statements of a policy document. `principal`: the identities an identity policy is attached to
    /// (its statements name none); `target`: what a resource policy is on, when its statements name no
    /// resource (trust and key policies).
    fn statements(&mut self, key: &str, doc: &Value, principal: Option<&str>, target: &str) {
        for statement in doc.get("Statement").map(list).unwrap_or_default() {
            let s = match statement {
                Value::Object(m) if !is_intrinsic(m) => m,
                // `Fn::If` choosing a statement, or a statement that is not an object: it may allow anything.
                other => {
                    self.unreadable(key, other, "a statement computed by an intrinsic function");
                    continue;
                }
            };
            let pick = |plain: &str, not: &str| match (s.get(plain), s.get(not)) {
                (Some(v), _) => Some(sorted_list(v)),
                (None, Some(v)) => Some(format!("NOT {}", sorted_list(v))),
                (None, None) => None,
            };
            self.push(Grant {
                effect: s
                    .get("Effect")
                    .and_then(Value::as_str)
                    .unwrap_or("Allow")
                    .to_owned(),
                action: pick("Action", "NotAction").unwrap_or_default(),
                principal: principal
                    .map(str::to_owned)
                    .or_else(|| pick("Principal", "NotPrincipal"))
                    .unwrap_or_default(),
                target: pick("Resource", "NotResource").unwrap_or_else(|| target.to_owned()),
                condition: s.get("Condition").map(render).unwrap_or_default(),
                ..self.base()
            });
        }
    }

    /// A security group rule: `ingress tcp 443` from its peer.
    fn rule(&mut self, dir: &str, rule: &Map<String, Value>, group: &str) {
        let get = |k: &str| rule.get(k).map(render);
        let protocol = match get("IpProtocol").as_deref() {
            Some("-1") | None => "all".to_owned(),
            Some(p) => p.to_owned(),
        };
        let ports = match (get("FromPort"), get("ToPort")) {
            (Some(a), Some(b)) if a == b => format!(" {a}"),
            (Some(a), Some(b)) if a == "-1" && b == "-1" => String::new(),
            (Some(a), Some(b)) => format!(" {a}-{b}"),
            _ => String::new(),
        };
        let peer = [
            "CidrIp",
            "CidrIpv6",
            "SourceSecurityGroupId",
            "SourceSecurityGroupName",
            "SourcePrefixListId",
            "DestinationSecurityGroupId",
            "DestinationPrefixListId",
        ]
        .iter()
        .filter_map(|k| get(k))
        .collect::<Vec<_>>();
        self.push(Grant {
            effect: "Allow".into(),
            action: format!("{dir} {protocol}{ports}"),
            principal: join(peer),
            target: group.to_owned(),
            ..self.base()
        });
    }
}

/// A value that may be one item or a list, as a list.
fn list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn join(items: Vec<String>) -> String {
    items.join(", ")
}

/// A list-or-one value (actions, resources, a principal's map) rendered with its items sorted, so that
/// reordering is no change.
fn sorted_list(v: &Value) -> String {
    if let Value::Object(m) = v {
        if !is_intrinsic(m) {
            // A principal: {"Service": [...], "AWS": "..."} -> "AWS:x, Service:y".
            let mut items: Vec<String> = m
                .iter()
                .flat_map(|(k, v)| {
                    list(v)
                        .into_iter()
                        .map(move |v| format!("{k}:{}", render(v)))
                })
                .collect();
            items.sort();
            return join(items);
        }
    }
    let mut items: Vec<String> = list(v).into_iter().map(render).collect();
    items.sort();
    join(items)
}

fn reference(id: &str) -> String {
    format!("${{{id}}}")
}

/// A value as people read it: `${Queue}` for a Ref, `${Queue.Arn}` for a GetAtt, the pattern of a Sub,
/// compact JSON for anything else.
pub fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => join(items.iter().map(render).collect()),
        Value::Object(m) if is_intrinsic(m) => {
            let (k, arg) = m.iter().next().expect("one key");
            match (k.as_str(), arg) {
                ("Ref", Value::String(s)) => reference(s),
                ("Fn::GetAtt", Value::Array(a)) => format!(
                    "${{{}}}",
                    a.iter().map(render).collect::<Vec<_>>().join(".")
                ),
                ("Fn::GetAtt", Value::String(s)) => reference(s),
                ("Fn::Sub", Value::String(s)) => s.clone(),
                ("Fn::Sub", Value::Array(a)) if !a.is_empty() => render(&a[0]),
                _ => serde_json::to_string(v).unwrap_or_default(),
            }
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Managed policies that grant (nearly) everything, flagged when attached.
const POWERFUL_MANAGED_POLICIES: &[&str] =
    &["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/// Why an added row deserves more than a line in the table, if it does: a security group open to the whole
/// internet, a permission for anyone (`*`) without a condition, a public function URL, an administrator
/// managed policy, or a policy that cannot be read.
pub fn warning(g: &Grant) -> Option<String> {
    let peers: Vec<&str> = g.principal.split(", ").collect();
    if g.action.starts_with("ingress ") {
        if let Some(open) = peers.iter().find(|p| matches!(**p, "0.0.0.0/0" | "::/0")) {
            return Some(format!("open to the whole internet ({open})"));
        }
        return None;
    }
    if g.effect == UNREADABLE {
        return Some("a policy cfnkit cannot read; review it in the template".into());
    }
    if g.effect != "Allow" {
        return None;
    }
    if g.action.starts_with("lambda:InvokeFunctionUrl (AuthType")
        || g.condition.contains("FunctionUrlAuthType: NONE")
    {
        return Some("a public function URL: anyone on the internet can invoke it".into());
    }
    if g.action == "managed policy" {
        let name = g.target.rsplit('/').next().unwrap_or_default();
        return POWERFUL_MANAGED_POLICIES
            .contains(&name)
            .then(|| format!("{name}: (nearly) every action on every resource"));
    }
    let anyone = peers.iter().any(|p| matches!(*p, "*" | "AWS:*"));
    (anyone && g.condition.is_empty()).then(|| "anyone (Principal *), with no condition".into())
}

/// The changes as a table, CDK style: `+`/`-`, resource, effect, action, principal, target, condition.
pub fn render_table(stack: &str, diff: &SecurityDiff) -> String {
    let header = [
        "",
        "Resource",
        "Effect",
        "Action",
        "Principal",
        "Target",
        "Condition",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 7]> = diff
        .changes
        .iter()
        .map(|(c, g)| {
            [
                match c {
                    Change::Added => "+",
                    Change::Removed => "-",
                }
                .to_owned(),
                format!("{} ({})", g.resource, g.resource_type),
                g.effect.clone(),
                g.action.clone(),
                g.principal.clone(),
                g.target.clone(),
                g.condition.clone(),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| measure_text_width(&h));
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(measure_text_width(cell));
        }
    }
    let line = |cells: &[String; 7]| {
        let mut s = String::from("│");
        for (cell, w) in cells.iter().zip(widths) {
            let pad = w - measure_text_width(cell);
            s.push_str(&format!(" {cell}{} │", " ".repeat(pad)));
        }
        s
    };
    let rule = |l: &str, m: &str, r: &str| {
        let parts: Vec<String> = widths.iter().map(|w| "─".repeat(w + 2)).collect();
        format!("{l}{}{r}", parts.join(m))
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style(format!("Security changes in {stack}")).bold()
    );
    let _ = writeln!(out, "{}", rule("┌", "┬", "┐"));
    let _ = writeln!(out, "{}", line(&header));
    let _ = writeln!(out, "{}", rule("├", "┼", "┤"));
    for (r, (c, _)) in rows.iter().zip(&diff.changes) {
        let text = line(r);
        let _ = match c {
            Change::Added => writeln!(out, "{}", style(text).green()),
            Change::Removed => writeln!(out, "{}", style(text).red()),
        };
    }
    let _ = writeln!(out, "{}", rule("└", "┴", "┘"));
    for (_, g) in diff.changes.iter().filter(|(c, _)| *c == Change::Added) {
        if let Some(why) = warning(g) {
            let line = format!(
                "(!) {} ({}): {} {}: {why}",
                g.resource, g.resource_type, g.action, g.principal
            );
            let _ = writeln!(out, "{}", style(line).red().bold());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role(actions: Value) -> Value {
        json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "work", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": actions, "Resource": {"Fn::GetAtt": ["Work", "Arn"]}}]}}],
        }})
    }

    fn with(resources: Value) -> Value {
        json!({"Resources": resources})
    }

    #[test]
    fn an_added_role_is_broadening_with_its_trust_and_its_statements() {
        let old = with(json!({"Work": {"Type": "AWS::SQS::Queue"}}));
        let new = with(
            json!({"Work": {"Type": "AWS::SQS::Queue"}, "Fn": role(json!("sqs:SendMessage"))}),
        );
        let d = diff(Some(&old), &new);
        assert!(d.is_broadening());
        let rows: Vec<_> = d
            .changes
            .iter()
            .map(|(c, g)| {
                (
                    *c,
                    g.effect.as_str(),
                    g.action.as_str(),
                    g.principal.as_str(),
                    g.target.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    Change::Added,
                    "Allow",
                    "sqs:SendMessage",
                    "AWS:${Fn}",
                    "${Work.Arn}"
                ),
                (
                    Change::Added,
                    "Allow",
                    "sts:AssumeRole",
                    "Service:lambda.amazonaws.com",
                    "${Fn}"
                ),
            ]
        );
        // Not deployed yet: everything is added.
        assert_eq!(diff(None, &new).changes.len(), 2);
    }

    #[test]
    fn the_same_permissions_reordered_or_respelled_are_no_change() {
        let a = with(json!({"Fn": role(json!(["sqs:SendMessage", "sqs:GetQueueUrl"]))}));
        let b = with(json!({"Fn": role(json!(["sqs:GetQueueUrl", "sqs:SendMessage"]))}));
        assert!(diff(Some(&a), &b).is_empty());
        let one = with(json!({"Fn": role(json!("sqs:SendMessage"))}));
        let listed = with(json!({"Fn": role(json!(["sqs:SendMessage"]))}));
        assert!(diff(Some(&one), &listed).is_empty());
        // Non-security changes are not security changes.
        let mut other = a.clone();
        other["Resources"]["Fn"]["Properties"]["Description"] = json!("changed");
        assert!(diff(Some(&a), &other).is_empty());
    }

    #[test]
    fn a_modified_statement_is_a_removal_and_an_addition_and_narrowing_is_not_broadening() {
        let wide = with(json!({"Fn": role(json!(["sqs:SendMessage", "sqs:DeleteMessage"]))}));
        let narrow = with(json!({"Fn": role(json!("sqs:SendMessage"))}));
        let d = diff(Some(&wide), &narrow);
        assert_eq!(
            d.changes
                .iter()
                .map(|(c, g)| (*c, g.action.as_str()))
                .collect::<Vec<_>>(),
            [
                (Change::Removed, "sqs:DeleteMessage, sqs:SendMessage"),
                (Change::Added, "sqs:SendMessage")
            ]
        );
        // An added Allow statement counts even though one was removed.
        assert!(d.is_broadening());
        // Removing a role only narrows.
        let none = with(json!({}));
        let d = diff(Some(&narrow), &none);
        assert!(!d.is_empty() && !d.is_broadening());
    }

    #[test]
    fn removing_a_deny_broadens_adding_one_does_not() {
        let policy = |stmts: Value| {
            with(
                json!({"P": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "B"}, "PolicyDocument": {"Statement": stmts}}}}),
            )
        };
        let deny = json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*",
                          "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        let without = policy(json!([]));
        let with_deny = policy(json!([deny]));
        assert!(!diff(Some(&without), &with_deny).is_broadening());
        let d = diff(Some(&with_deny), &without);
        assert!(d.is_broadening());
        assert_eq!(
            d.changes[0].1.condition,
            r#"{"Bool":{"aws:SecureTransport":"false"}}"#
        );
    }

    #[test]
    fn resource_policies_permissions_key_policies_and_security_group_rules_are_found() {
        let t = with(json!({
            "QP": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Q"}], "PolicyDocument": {
                "Statement": {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"}}}},
            "TP": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "T"}], "PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": {"Ref": "T"}}]}}},
            "K": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}, "Action": "kms:*", "Resource": "*"}]}}},
            "Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}, "Principal": "apigateway.amazonaws.com", "SourceArn": "arn:x"}},
            "SG": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "d",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}],
                "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}},
            "In": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {"GroupId": {"Ref": "SG"},
                "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433, "SourceSecurityGroupId": {"Ref": "Other"}}},
            "MP": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "R"}], "PolicyDocument": {
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}},
            "U": {"Type": "AWS::IAM::User", "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}},
            "Q": {"Type": "AWS::SQS::Queue"},
        }));
        let rows: Vec<(String, String, String, String, String)> = grants(&t)
            .into_iter()
            .map(|g| (g.resource, g.action, g.principal, g.target, g.condition))
            .collect();
        let s = |v: &str| v.to_owned();
        assert_eq!(
            rows,
            [
                (
                    s("In"),
                    s("ingress tcp 5432-5433"),
                    s("${Other}"),
                    s("${SG}"),
                    s("")
                ),
                (
                    s("K"),
                    s("kms:*"),
                    s("AWS:arn:${AWS::Partition}:iam::${AWS::AccountId}:root"),
                    s("*"),
                    s("")
                ),
                (s("MP"), s("s3:GetObject"), s("AWS:${R}"), s("*"), s("")),
                (
                    s("Perm"),
                    s("lambda:InvokeFunction"),
                    s("apigateway.amazonaws.com"),
                    s("${Fn.Arn}"),
                    s("SourceArn: arn:x")
                ),
                (
                    s("QP"),
                    s("sqs:SendMessage"),
                    s("Service:sns.amazonaws.com"),
                    s("${Q}"),
                    s("")
                ),
                (
                    s("SG"),
                    s("ingress tcp 443"),
                    s("0.0.0.0/0"),
                    s("${SG}"),
                    s("")
                ),
                (s("SG"), s("egress all"), s("0.0.0.0/0"), s("${SG}"), s("")),
                (s("TP"), s("sns:Publish"), s("AWS:*"), s("${T}"), s("")),
                (
                    s("U"),
                    s("managed policy"),
                    s("AWS:${U}"),
                    s("arn:aws:iam::aws:policy/ReadOnlyAccess"),
                    s("")
                ),
            ]
        );
        // Opening a port is broadening.
        let mut wider = t.clone();
        wider["Resources"]["SG"]["Properties"]["SecurityGroupIngress"][0]["FromPort"] = json!(0);
        let d = diff(Some(&t), &wider);
        assert!(d.is_broadening());
        assert_eq!(d.changes.len(), 2);
    }

    #[test]
    fn the_table_lists_each_change_in_aligned_columns() {
        console::set_colors_enabled(false);
        let new = with(json!({"Fn": role(json!("sqs:SendMessage"))}));
        let table = render_table("Api", &diff(None, &new));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "Security changes in Api");
        assert!(lines[2].starts_with("│   │ Resource "), "{table}");
        assert!(
            lines[4].starts_with("│ + │ Fn (AWS::IAM::Role) │ Allow  │ sqs:SendMessage"),
            "{table}"
        );
        assert_eq!(lines.len(), 7, "{table}");
        let width = measure_text_width(lines[1]);
        assert!(
            lines.iter().skip(1).all(|l| measure_text_width(l) == width),
            "{table}"
        );
    }

    /// A template of one resource `R`.
    fn one(ty: &str, props: Value) -> Value {
        with(json!({"R": {"Type": ty, "Properties": props}}))
    }

    fn doc(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    fn allow(principal: Value, action: &str, resource: &str) -> Value {
        json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource})
    }

    /// The rows `after` adds to `before`, as (effect, action, principal, target, condition).
    fn added(before: &Value, after: &Value) -> Vec<[String; 5]> {
        diff(Some(before), after)
            .changes
            .into_iter()
            .filter(|(c, _)| *c == Change::Added)
            .map(|(_, g)| [g.effect, g.action, g.principal, g.target, g.condition])
            .collect()
    }

    const ACCOUNT_A: &str = "arn:aws:iam::111111111111:root";

    /// For each type the table gained: a pair of templates where the second allows more. Going forward is
    /// broadening with exactly the expected new row; going back is not.
    #[test]
    fn each_resource_policy_and_permission_type_broadens_when_it_allows_more() {
        let a = json!({"AWS": ACCOUNT_A});
        let anyone = json!({"AWS": "*"});
        let resource_policy =
            |ty: &str, key: &str, extra: Value, principal: &Value, action: &str| {
                let mut props = extra;
                props[key] = doc(json!([allow(principal.clone(), action, "*")]));
                one(ty, props)
            };
        let row = |effect: &str, action: &str, principal: &str, target: &str, condition: &str| {
            [effect, action, principal, target, condition].map(str::to_owned)
        };
        let cases: Vec<(&str, Value, Value, [String; 5])> = vec![
            (
                "secret resource policy, to anyone",
                resource_policy(
                    "AWS::SecretsManager::ResourcePolicy",
                    "ResourcePolicy",
                    json!({"SecretId": {"Ref": "S"}}),
                    &a,
                    "secretsmanager:GetSecretValue",
                ),
                resource_policy(
                    "AWS::SecretsManager::ResourcePolicy",
                    "ResourcePolicy",
                    json!({"SecretId": {"Ref": "S"}}),
                    &anyone,
                    "secretsmanager:GetSecretValue",
                ),
                row("Allow", "secretsmanager:GetSecretValue", "AWS:*", "*", ""),
            ),
            (
                "event bus policy, Statement",
                one(
                    "AWS::Events::EventBusPolicy",
                    json!({"StatementId": "s", "EventBusName": "orders",
                    "Statement": {"Effect": "Allow", "Principal": {"AWS": ACCOUNT_A}, "Action": "events:PutEvents"}}),
                ),
                one(
                    "AWS::Events::EventBusPolicy",
                    json!({"StatementId": "s", "EventBusName": "orders",
                    "Statement": {"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents"}}),
                ),
                row("Allow", "events:PutEvents", "*", "orders", ""),
            ),
            (
                "event bus policy, Action and Principal",
                one(
                    "AWS::Events::EventBusPolicy",
                    json!({"StatementId": "s", "Action": "events:PutEvents",
                    "Principal": "111111111111"}),
                ),
                one(
                    "AWS::Events::EventBusPolicy",
                    json!({"StatementId": "s", "Action": "events:PutEvents",
                    "Principal": "222222222222"}),
                ),
                row("Allow", "events:PutEvents", "222222222222", "default", ""),
            ),
            (
                "ECR repository policy, push added",
                resource_policy(
                    "AWS::ECR::Repository",
                    "RepositoryPolicyText",
                    json!({}),
                    &a,
                    "ecr:BatchGetImage",
                ),
                resource_policy(
                    "AWS::ECR::Repository",
                    "RepositoryPolicyText",
                    json!({}),
                    &a,
                    "ecr:PutImage",
                ),
                row(
                    "Allow",
                    "ecr:PutImage",
                    &format!("AWS:{ACCOUNT_A}"),
                    "*",
                    "",
                ),
            ),
            (
                "REST API policy, IP condition dropped",
                one(
                    "AWS::ApiGateway::RestApi",
                    json!({"Name": "api", "Policy": doc(json!([{"Effect": "Allow",
                    "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]))}),
                ),
                one(
                    "AWS::ApiGateway::RestApi",
                    json!({"Name": "api", "Policy": doc(json!([{"Effect": "Allow",
                    "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}]))}),
                ),
                row("Allow", "execute-api:Invoke", "*", "*", ""),
            ),
            (
                "logs resource policy, JSON in a string",
                one(
                    "AWS::Logs::ResourcePolicy",
                    json!({"PolicyName": "p", "PolicyDocument":
                    doc(json!([allow(json!({"Service": "es.amazonaws.com"}), "logs:PutLogEvents", "*")])).to_string()}),
                ),
                one(
                    "AWS::Logs::ResourcePolicy",
                    json!({"PolicyName": "p", "PolicyDocument":
                    doc(json!([allow(json!({"Service": ["es.amazonaws.com", "delivery.logs.amazonaws.com"]}),
                        "logs:PutLogEvents", "*")])).to_string()}),
                ),
                row(
                    "Allow",
                    "logs:PutLogEvents",
                    "Service:delivery.logs.amazonaws.com, Service:es.amazonaws.com",
                    "*",
                    "",
                ),
            ),
            (
                "layer permission, to everyone",
                one(
                    "AWS::Lambda::LayerVersionPermission",
                    json!({"LayerVersionArn": {"Ref": "L"},
                    "Action": "lambda:GetLayerVersion", "Principal": "111111111111"}),
                ),
                one(
                    "AWS::Lambda::LayerVersionPermission",
                    json!({"LayerVersionArn": {"Ref": "L"},
                    "Action": "lambda:GetLayerVersion", "Principal": "*"}),
                ),
                row("Allow", "lambda:GetLayerVersion", "*", "${L}", ""),
            ),
            (
                "function URL, IAM to public",
                one(
                    "AWS::Lambda::Url",
                    json!({"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "AuthType": "AWS_IAM"}),
                ),
                one(
                    "AWS::Lambda::Url",
                    json!({"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}, "AuthType": "NONE"}),
                ),
                row(
                    "Allow",
                    "lambda:InvokeFunctionUrl (AuthType NONE)",
                    "*",
                    "${Fn.Arn}",
                    "",
                ),
            ),
            (
                "S3 access point policy",
                one("AWS::S3::AccessPoint", json!({"Bucket": {"Ref": "B"}})),
                resource_policy(
                    "AWS::S3::AccessPoint",
                    "Policy",
                    json!({"Bucket": {"Ref": "B"}}),
                    &a,
                    "s3:GetObject",
                ),
                row(
                    "Allow",
                    "s3:GetObject",
                    &format!("AWS:{ACCOUNT_A}"),
                    "*",
                    "",
                ),
            ),
            (
                "OpenSearch domain access policy",
                one("AWS::OpenSearchService::Domain", json!({})),
                resource_policy(
                    "AWS::OpenSearchService::Domain",
                    "AccessPolicies",
                    json!({}),
                    &anyone,
                    "es:ESHttp*",
                ),
                row("Allow", "es:ESHttp*", "AWS:*", "*", ""),
            ),
            (
                "SNS topic inline policy, statement without Resource reads as on the topic",
                one(
                    "AWS::SNS::TopicInlinePolicy",
                    json!({"TopicArn": {"Ref": "T"}, "PolicyDocument": doc(json!([]))}),
                ),
                one(
                    "AWS::SNS::TopicInlinePolicy",
                    json!({"TopicArn": {"Ref": "T"}, "PolicyDocument": doc(json!([
                    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish"}]))}),
                ),
                row(
                    "Allow",
                    "sns:Publish",
                    "Service:events.amazonaws.com",
                    "${T}",
                    "",
                ),
            ),
            (
                "SQS queue inline policy",
                one(
                    "AWS::SQS::QueueInlinePolicy",
                    json!({"Queue": {"Ref": "Q"}, "PolicyDocument": doc(json!([]))}),
                ),
                one(
                    "AWS::SQS::QueueInlinePolicy",
                    json!({"Queue": {"Ref": "Q"}, "PolicyDocument": doc(json!([
                    {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"}]))}),
                ),
                row(
                    "Allow",
                    "sqs:SendMessage",
                    "Service:sns.amazonaws.com",
                    "${Q}",
                    "",
                ),
            ),
            (
                "AdministratorAccess attached to a role",
                one(
                    "AWS::IAM::Role",
                    json!({"ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}),
                ),
                one(
                    "AWS::IAM::Role",
                    json!({"ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess",
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess"}]}),
                ),
                row(
                    "Allow",
                    "managed policy",
                    "AWS:${R}",
                    "arn:${AWS::Partition}:iam::aws:policy/AdministratorAccess",
                    "",
                ),
            ),
            (
                "security group ingress from anywhere over IPv6",
                one(
                    "AWS::EC2::SecurityGroup",
                    json!({"GroupDescription": "d", "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}]}),
                ),
                one(
                    "AWS::EC2::SecurityGroup",
                    json!({"GroupDescription": "d", "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"},
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv6": "::/0"}]}),
                ),
                row("Allow", "ingress tcp 443", "::/0", "${R}", ""),
            ),
        ];
        for (name, before, after, expected) in cases {
            let d = diff(Some(&before), &after);
            assert!(d.is_broadening(), "{name}: {d:?}");
            assert_eq!(
                added(&before, &after),
                std::slice::from_ref(&expected),
                "{name}"
            );
            // Going back removes exactly that row.
            let back = diff(Some(&after), &before);
            assert!(
                back.changes.iter().any(|(c, g)| *c == Change::Removed
                    && [&g.effect, &g.action, &g.principal, &g.target, &g.condition]
                        .map(String::as_str)
                        == expected.each_ref().map(String::as_str)),
                "{name}: {back:?}"
            );
            assert!(
                diff(Some(&after), &after).is_empty(),
                "{name}: no change is no change"
            );
        }
    }

    #[test]
    fn a_policy_that_cannot_be_read_needs_approval_when_it_changes() {
        let logs = |document: Value| {
            one(
                "AWS::Logs::ResourcePolicy",
                json!({"PolicyName": "p", "PolicyDocument": document}),
            )
        };
        let computed = |account: &str| {
            logs(
                json!({"Fn::Join": ["", ["{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"", account,
                "\"},\"Action\":\"logs:*\",\"Resource\":\"*\"}]}"]]}),
            )
        };
        let readable = logs(json!(doc(json!([allow(
            json!({"Service": "es.amazonaws.com"}),
            "logs:PutLogEvents",
            "*"
        )]))
        .to_string()));
        // Unchanged: nothing to approve, even though it cannot be read.
        assert!(diff(Some(&computed("1")), &computed("1")).is_empty());
        for (name, before, after) in [
            ("intrinsic, changed", computed("1"), computed("2")),
            ("readable to intrinsic", readable.clone(), computed("1")),
            (
                "readable to not JSON",
                readable.clone(),
                logs(json!("{\"Statement\": [oops")),
            ),
            ("intrinsic removed", computed("1"), with(json!({}))),
        ] {
            let d = diff(Some(&before), &after);
            assert!(d.is_broadening(), "{name}: {d:?}");
            assert!(
                d.changes.iter().any(|(_, g)| g.effect == UNREADABLE
                    && g.target.starts_with("PolicyDocument sha256:")),
                "{name}: {d:?}"
            );
        }
        let row = &grants(&logs(json!("not json")))[0];
        assert!(
            row.action
                .starts_with("PolicyDocument cannot be read (not JSON: "),
            "{row:?}"
        );
        // A statement chosen by Fn::If in an ordinary document is unreadable too, not skipped.
        let conditional = one(
            "AWS::SQS::QueuePolicy",
            json!({"Queues": [{"Ref": "Q"}], "PolicyDocument": {"Statement": [
            {"Fn::If": ["Public", allow(json!("*"), "sqs:SendMessage", "*"), {"Ref": "AWS::NoValue"}]}]}}),
        );
        assert_eq!(
            grants(&conditional)
                .iter()
                .map(|g| (g.effect.as_str(), g.action.as_str()))
                .collect::<Vec<_>>(),
            [(
                UNREADABLE,
                "PolicyDocument cannot be read (a statement computed by an intrinsic function)"
            )]
        );
    }

    #[test]
    fn open_ingress_public_principals_public_urls_and_admin_policies_are_flagged_under_the_table() {
        console::set_colors_enabled(false);
        let before = with(json!({}));
        let after = with(json!({
            "SG": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "d",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"},
                                         {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/8"}],
                "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}},
            "Url": {"Type": "AWS::Lambda::Url", "Properties": {"TargetFunctionArn": {"Ref": "Fn"}, "AuthType": "NONE"}},
            "Admin": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}},
            "Scoped": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Q"}], "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage", "Resource": "*",
                 "Condition": {"ArnEquals": {"aws:SourceArn": "arn:x"}}}]}}},
            "Public": {"Type": "AWS::SNS::TopicPolicy", "Properties": {"Topics": [{"Ref": "T"}], "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "sns:Subscribe", "Resource": "*"}]}}},
        }));
        let table = render_table("Api", &diff(Some(&before), &after));
        let flagged: Vec<&str> = table.lines().filter(|l| l.starts_with("(!) ")).collect();
        assert_eq!(
            flagged,
            [
                "(!) Admin (AWS::IAM::Role): managed policy AWS:${Admin}: AdministratorAccess: (nearly) every action on every resource",
                "(!) Public (AWS::SNS::TopicPolicy): sns:Subscribe *: anyone (Principal *), with no condition",
                "(!) SG (AWS::EC2::SecurityGroup): ingress tcp 22 0.0.0.0/0: open to the whole internet (0.0.0.0/0)",
                "(!) Url (AWS::Lambda::Url): lambda:InvokeFunctionUrl (AuthType NONE) *: a public function URL: anyone on the internet can invoke it",
            ],
            "{table}"
        );
        // Removed rows are not flagged: removing an open rule narrows.
        let back = render_table("Api", &diff(Some(&after), &before));
        assert!(!back.contains("(!)"), "{back}");
    }

    /// Every type of cfnkit's permission table is read: a resource of each type that allows something is found
    /// as broadening, in rows of that type. (Which types the table lists, and that their properties are in the
    /// CloudFormation schemas, is tested where the table is, in `cfnkit::resource_types`.)
    #[test]
    fn every_type_in_the_permission_table_is_read() {
        let statement = doc(json!([allow(json!({"AWS": "*"}), "x:Y", "*")]));
        for source in cfnkit::resource_types::PERMISSION_SOURCES {
            let ty = source.type_name;
            let props = match source.layout {
                PermissionLayout::Identity { .. } => {
                    json!({"Policies": [{"PolicyName": "p", "PolicyDocument": statement}]})
                }
                PermissionLayout::Attached { doc, .. }
                | PermissionLayout::ResourcePolicy { doc, .. } => {
                    json!({ doc: statement })
                }
                PermissionLayout::EventBus => {
                    json!({"Action": "events:PutEvents", "Principal": "*"})
                }
                PermissionLayout::Properties { .. } => json!({"Action": "x:Y", "Principal": "*"}),
                PermissionLayout::FunctionUrl => json!({"AuthType": "NONE"}),
                PermissionLayout::SecurityGroup => {
                    json!({"SecurityGroupIngress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]})
                }
                PermissionLayout::SecurityGroupRule { .. } => {
                    json!({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})
                }
            };
            let d = diff(None, &one(ty, props));
            assert!(
                d.is_broadening() && d.changes.iter().all(|(_, g)| g.resource_type == ty),
                "{ty}: {d:?}"
            );
        }
    }
}
