//! IAM: IAM4 (no AWS managed policies), IAM5 (no wildcard actions or resources).
//!
//! Which types are identities and where their policies live is [`crate::resource_types::PERMISSION_SOURCES`]'s
//! knowledge, shared with the deploy tool's security diff.

use super::context::{Ctx, Res};
use super::read::{as_str, item_text, items, statements};
use super::registry::{RuleInfo, IAM4, IAM5};
use crate::resource_types::{
    permission_source, PermissionLayout, INLINE_POLICIES, MANAGED_POLICY_ARNS, POLICY_DOCUMENT,
};
use crate::synth::Node;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut found: Vec<(&RuleInfo, Res<'_>, &str, Vec<String>, &str)> = Vec::new();
    for r in ctx.all() {
        let layout = permission_source(r.type_name()).map(|s| s.layout);
        if let Some(PermissionLayout::Identity { .. }) = layout {
            let managed: Vec<String> = r
                .prop(MANAGED_POLICY_ARNS)
                .map(items)
                .unwrap_or_default()
                .into_iter()
                .map(item_text)
                .filter(|arn| arn.contains(":iam::aws:policy/"))
                .map(|arn| format!("Policy::{arn}"))
                .collect();
            if !managed.is_empty() {
                found.push((
                    &IAM4,
                    r,
                    "uses AWS managed policies",
                    managed,
                    "replace them with policies scoped to the resources used (a grant, or an AWS::IAM::Policy).",
                ));
            }
        }
        let wildcards: Vec<String> = documents(&r, layout)
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
                &IAM5,
                r,
                "the policy has wildcard permissions",
                wildcards,
                "name the actions and the resource ARNs, or suppress IAM5 with the reason the wildcard is needed \
                 (`rules::suppress_only` with the wildcards it applies to).",
            ));
        }
    }
    for (rule, r, lead, items, fix) in found {
        let items = items.into_iter().map(|i| (i, None)).collect();
        ctx.report_items(rule, &r, lead, items, fix);
    }
}

/// The identity policy documents of a resource: an identity's inline policies, or an identity policy's own
/// document. Resource policies are not IAM5's (cdk-nag's IAM5 reads identity policies only).
fn documents<'a>(r: &Res<'a>, layout: Option<PermissionLayout>) -> Vec<&'a Node> {
    match layout {
        Some(PermissionLayout::Attached { doc, .. }) => r.prop(doc).into_iter().collect(),
        Some(PermissionLayout::Identity { .. }) => r
            .prop(INLINE_POLICIES)
            .map(items)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.get(POLICY_DOCUMENT))
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
