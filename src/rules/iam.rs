//! IAM: IAM4 (no AWS managed policies), IAM5 (no wildcard actions or resources).
//!
//! Which types are identities and where their policies live is [`crate::resource_types::PERMISSION_SOURCES`]'s
//! knowledge, shared with the deploy tool's security diff.

use super::context::{Ctx, Item, Res};
use super::read::{as_str, item_text, items, statements};
use super::registry::{RuleInfo, IAM4, IAM5};
use crate::resource_types::{
    permission_source, PermissionLayout, INLINE_POLICIES, MANAGED_POLICY_ARNS, POLICY_DOCUMENT,
};
use crate::synth::Node;

/// X-Ray's write actions: they accept only Resource `*`, and a cfnkit Function with tracing (on by default) grants
/// them to its role, so the IAM5 finding of a default Function is about them.
const XRAY_WRITE: &[&str] = crate::constructs::actions::XRAY_WRITE;

const IAM4_FIX: &str = "grant what the code uses instead: the constructs' grant methods \
    (`queue.grant_consume_messages(&function)`, `table.grant_read_data(&function)`) or `role.grant(actions, \
    resources)`, rather than RoleProps.managed_policy_arns or ManagedPolicyArns; where a service needs the AWS \
    managed policy, suppress exactly it with the reason: `rules::suppress_only(role.handle(), &rules::IAM4, \
    &[\"Policy::<its ARN, as listed>\"], \"why\")`.";

const IAM5_FIX: &str = "name the actions and resource ARNs: the constructs' grant methods \
    (`table.grant_read_data(&function)`, `bucket.grant_read(&function)`) do, and `role.grant(actions, resources)` \
    takes ARNs; where a wildcard is what the action needs (an action that accepts only Resource `*`), suppress \
    exactly those items with the reason: `rules::suppress_only(role.handle(), &rules::IAM5, &[\"Resource::*\"], \
    \"why\")`.";

const XRAY_FIX: &str = "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords accept only Resource `*` (the \
    role of a Function with FunctionProps.tracing Active or PassThrough, the default, gets them): suppress \
    `Resource::*` with that reason, `rules::suppress_only(function.role().handle(), &rules::IAM5, \
    &[\"Resource::*\"], \"X-Ray accepts only Resource *\")`, or set `tracing: Tracing::Disabled`.";

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut found: Vec<(&RuleInfo, Res<'_>, &str, Vec<Item>, &str)> = Vec::new();
    for r in ctx.all() {
        let layout = permission_source(r.type_name()).map(|s| s.layout);
        if let Some(PermissionLayout::Identity { .. }) = layout {
            let managed: Vec<Item> = r
                .prop(MANAGED_POLICY_ARNS)
                .map(items)
                .unwrap_or_default()
                .into_iter()
                .map(item_text)
                .filter(|arn| arn.contains(":iam::aws:policy/"))
                .map(|arn| Item::new(format!("Policy::{arn}")))
                .collect();
            if !managed.is_empty() {
                found.push((&IAM4, r, "uses AWS managed policies", managed, IAM4_FIX));
            }
        }
        let mut wildcards: Vec<(String, Vec<String>)> = Vec::new();
        let allows = documents(&r, layout)
            .into_iter()
            .flat_map(|d| statements(Some(d)))
            .filter(|s| s.get("Effect").and_then(as_str) == Some("Allow"));
        for statement in allows {
            for (item, actions) in statement_wildcards(statement) {
                // X-Ray's and ListStreams' `Resource::*` are one item, as cdk-nag names them: listed once, for the
                // actions of every statement that grants it.
                match wildcards.iter_mut().find(|(i, _)| *i == item) {
                    Some((_, all)) => {
                        for a in actions {
                            if !all.contains(&a) {
                                all.push(a);
                            }
                        }
                    }
                    None => wildcards.push((item, actions)),
                }
            }
        }
        if !wildcards.is_empty() {
            let items = wildcards
                .into_iter()
                .map(|(name, actions)| {
                    let mut item = Item::new(name);
                    // A resource wildcard is judged by what it is for; an action wildcard speaks for itself.
                    if item.name.starts_with("Resource::") && !actions.is_empty() {
                        item.note = Some(format!("for {}", actions.join(", ")));
                    }
                    // A default Function's role fails IAM5 for X-Ray alone: say so, and what to do about it.
                    let for_xray = actions.iter().all(|a| XRAY_WRITE.contains(&a.as_str()));
                    if item.name == "Resource::*" && !actions.is_empty() && for_xray {
                        item.advice = Some(XRAY_FIX.to_owned());
                    }
                    item
                })
                .collect();
            found.push((
                &IAM5,
                r,
                "the policy has wildcard permissions",
                items,
                IAM5_FIX,
            ));
        }
    }
    for (rule, r, lead, items, fix) in found {
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

/// `Action::s3:*`, `Resource::<Bucket.Arn>/*`: the wildcards of one statement, named as cdk-nag does, each with
/// the statement's actions (what a resource wildcard is for).
fn statement_wildcards(statement: &Node) -> Vec<(String, Vec<String>)> {
    let actions: Vec<String> = statement
        .get("Action")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .map(item_text)
        .collect();
    let mut out = Vec::new();
    for key in ["Action", "Resource"] {
        for item in statement.get(key).map(items).unwrap_or_default() {
            let t = item_text(item);
            if t.contains('*') {
                out.push((format!("{key}::{t}"), actions.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_x_ray_fix_names_every_action_a_function_is_granted() {
        for action in XRAY_WRITE {
            assert!(XRAY_FIX.contains(action), "{action}");
        }
    }
}
