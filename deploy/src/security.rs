//! Security changes between the deployed template and the synthesized one, for `--require-approval` (CDK's
//! IAM statement and security group tables): who may do what to what, before and after.
//!
//! Every permission-bearing piece of a template becomes a [`Grant`] row: an IAM statement (inline role, user
//! and group policies, `AWS::IAM::Policy`/`ManagedPolicy`/`RolePolicy`, a role's trust policy), a managed policy
//! attached to a role, user or group, a resource policy (SQS queue, SNS topic, S3 bucket, KMS key), a Lambda
//! permission, and a security group rule (inline or as its own resource). Rows are compared as rendered values,
//! so a modified statement shows as the old row removed and the new one added, as in CDK. Lists are sorted and a
//! single value reads as a one-element list, so reordering or re-spelling a statement is no change.
//!
//! Broadening (what `--require-approval broadening` asks about, as CDK's `permissionsBroadened`): an added row
//! that allows something, or a removed `Deny`.

use std::collections::BTreeSet;
use std::fmt::Write;

use console::{measure_text_width, style};
use serde_json::{Map, Value};

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

    /// More is allowed than before: an added Allow, or a removed Deny.
    pub fn is_broadening(&self) -> bool {
        self.changes.iter().any(|(c, g)| match c {
            Change::Added => g.effect != "Deny",
            Change::Removed => g.effect == "Deny",
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

/// Every security row of a template.
pub fn grants(template: &Value) -> Vec<Grant> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (id, r) in resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default();
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
        match ty {
            "AWS::IAM::Role" => {
                let me = format!("AWS:{}", reference(id));
                // The trust policy: who may assume this role.
                if let Some(doc) = prop("AssumeRolePolicyDocument") {
                    rows.statements(doc, None, &reference(id));
                }
                rows.identity(prop("Policies"), prop("ManagedPolicyArns"), &me);
            }
            "AWS::IAM::User" | "AWS::IAM::Group" => {
                let me = format!("AWS:{}", reference(id));
                rows.identity(prop("Policies"), prop("ManagedPolicyArns"), &me);
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                let attached = ["Roles", "Users", "Groups"]
                    .iter()
                    .filter_map(|k| prop(k))
                    .flat_map(list)
                    .map(|v| format!("AWS:{}", render(v)))
                    .collect::<Vec<_>>();
                if let Some(doc) = prop("PolicyDocument") {
                    rows.statements(doc, Some(&join(attached)), "");
                }
            }
            "AWS::IAM::RolePolicy" | "AWS::IAM::UserPolicy" | "AWS::IAM::GroupPolicy" => {
                let attached = ["RoleName", "UserName", "GroupName"]
                    .iter()
                    .filter_map(|k| prop(k))
                    .map(|v| format!("AWS:{}", render(v)))
                    .collect::<Vec<_>>();
                if let Some(doc) = prop("PolicyDocument") {
                    rows.statements(doc, Some(&join(attached)), "");
                }
            }
            "AWS::SQS::QueuePolicy" | "AWS::SNS::TopicPolicy" | "AWS::S3::BucketPolicy" => {
                let on = ["Queues", "Topics", "Bucket"]
                    .iter()
                    .filter_map(|k| prop(k))
                    .flat_map(list)
                    .map(render)
                    .collect::<Vec<_>>();
                if let Some(doc) = prop("PolicyDocument") {
                    rows.statements(doc, None, &join(on));
                }
            }
            "AWS::KMS::Key" => {
                if let Some(doc) = prop("KeyPolicy") {
                    rows.statements(doc, None, &reference(id));
                }
            }
            "AWS::Lambda::Permission" => {
                let condition = ["SourceArn", "SourceAccount", "PrincipalOrgID"]
                    .iter()
                    .filter_map(|k| prop(k).map(|v| format!("{k}: {}", render(v))))
                    .collect::<Vec<_>>();
                rows.push(Grant {
                    effect: "Allow".into(),
                    action: prop("Action").map(render).unwrap_or_default(),
                    principal: prop("Principal").map(render).unwrap_or_default(),
                    target: prop("FunctionName").map(render).unwrap_or_default(),
                    condition: join(condition),
                    ..rows.base()
                });
            }
            "AWS::EC2::SecurityGroup" => {
                for (key, dir) in [
                    ("SecurityGroupIngress", "ingress"),
                    ("SecurityGroupEgress", "egress"),
                ] {
                    for rule in prop(key).map(list).unwrap_or_default() {
                        if let Some(rule) = rule.as_object() {
                            rows.rule(dir, rule, &reference(id));
                        }
                    }
                }
            }
            "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
                let dir = if ty.ends_with("Ingress") {
                    "ingress"
                } else {
                    "egress"
                };
                let group = prop("GroupId")
                    .or_else(|| prop("GroupName"))
                    .map(render)
                    .unwrap_or_default();
                rows.rule(dir, props, &group);
            }
            _ => {}
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
            if let Some(doc) = p.get("PolicyDocument") {
                self.statements(doc, Some(me), "");
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

    /// The statements of a policy document. `principal`: the identities an identity policy is attached to
    /// (its statements name none); `target`: what a resource policy is on, when its statements name no
    /// resource (trust and key policies).
    fn statements(&mut self, doc: &Value, principal: Option<&str>, target: &str) {
        for s in doc.get("Statement").map(list).unwrap_or_default() {
            let Some(s) = s.as_object() else { continue };
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

fn is_intrinsic(m: &Map<String, Value>) -> bool {
    m.len() == 1
        && m.keys()
            .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
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
}
