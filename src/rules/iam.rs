//! IAM: IAM4 (no AWS managed policies), IAM5 (no wildcard actions or resources).

use super::{as_str, item_text, items, statements, Ctx, Res};
use crate::synth::Node;

/// Identities that can have managed policies attached.
const IDENTITIES: &[&str] = &["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"];

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut found: Vec<(&str, Res<'_>, &str, Vec<String>, &str)> = Vec::new();
    for r in ctx.all() {
        let ty = r.type_name();
        if IDENTITIES.contains(&ty) {
            let managed: Vec<String> = r
                .prop("ManagedPolicyArns")
                .map(items)
                .unwrap_or_default()
                .into_iter()
                .map(item_text)
                .filter(|arn| arn.contains(":iam::aws:policy/"))
                .map(|arn| format!("Policy::{arn}"))
                .collect();
            if !managed.is_empty() {
                found.push((
                    "IAM4",
                    r,
                    "uses AWS managed policies",
                    managed,
                    "replace them with policies scoped to the resources used (a grant, or an AWS::IAM::Policy).",
                ));
            }
        }
        let wildcards: Vec<String> = documents(&r)
            .into_iter()
            .flat_map(|d| statements(Some(d)))
            .filter(|s| s.get("Effect").and_then(as_str) == Some("Allow"))
            .flat_map(wildcards)
            .fold(Vec::new(), |mut seen, w| {
                // X-Ray's and ListStreams' `Resource::*` are one item, as cdk-nag names them: listed once.
                if !seen.contains(&w) {
                    seen.push(w);
                }
                seen
            });
        if !wildcards.is_empty() {
            found.push((
                "IAM5",
                r,
                "the policy has wildcard permissions",
                wildcards,
                "name the actions and the resource ARNs, or suppress IAM5 with the reason the wildcard is needed \
                 (`rules::suppress_only` with the wildcards it applies to).",
            ));
        }
    }
    for (rule, r, lead, items, fix) in found {
        ctx.report_items(rule, &r, lead, items, fix);
    }
}

/// The policy documents of an IAM resource: its own, or its inline `Policies`.
fn documents<'a>(r: &Res<'a>) -> Vec<&'a Node> {
    match r.type_name() {
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy" => r.prop("PolicyDocument").into_iter().collect(),
        t if IDENTITIES.contains(&t) => r
            .prop("Policies")
            .map(items)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.get("PolicyDocument"))
            .collect(),
        _ => Vec::new(),
    }
}

/// `Action::s3:*`, `Resource::<Bucket.Arn>/*`: the wildcards of one statement, named as cdk-nag does.
fn wildcards(statement: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["Action", "Resource"] {
        for item in statement.get(key).map(items).unwrap_or_default() {
            let t = item_text(item);
            if t.contains('*') {
                out.push(format!("{key}::{t}"));
            }
        }
    }
    out
}
