//! Targeted checks of the order-flow stacks (seed 003) that snapshots would only show, not enforce.

use cfnkit::assertions::{Capture, Match, Template, Templates};
use serde_json::{json, Value};
use stacks::service::XRAY_REASON;

const STACKS: [&str; 5] = ["Base", "Order", "Inventory", "Payment", "Shipping"];

/// The order flow's templates, synthesized and checked by the rule pack as `cargo run -- synth` does.
fn templates() -> Vec<Template> {
    Templates::from_app(&stacks::app().unwrap())
        .unwrap()
        .into_iter()
        .filter(|t| STACKS.contains(&t.stack_name()))
        .collect()
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The functions' roles have two kinds of wildcard (X-Ray's `*` resource, suppressed by the `Function` construct; a
/// table's `index/*`, suppressed by the table grant). `Resource::*` is one item however many actions are granted
/// on `*`, so X-Ray's scoped suppression would also cover another action on `*`: any other wildcard (a grant on
/// `*`, an `s3:*`, a `kms:GenerateDataKey*`...) must fail here instead.
#[test]
fn function_roles_have_only_the_wildcards_their_suppression_names() {
    let mut roles = 0;
    for t in templates() {
        let stack = t.stack_name();
        let xray_suppressed = json!({"Metadata": {"cfnkit": {"suppress": Match::array_with([
            json!({"id": "IAM5", "reason": XRAY_REASON}),
        ])}}});
        for (id, role) in t.find_resources("AWS::IAM::Role", xray_suppressed) {
            roles += 1;
            for policy in list(&role["Properties"]["Policies"]) {
                for s in list(&policy["PolicyDocument"]["Statement"]) {
                    let actions: Vec<String> = list(&s["Action"])
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect();
                    let resources = list(&s["Resource"]);
                    assert!(
                        actions.iter().all(|a| !a.contains('*')),
                        "{stack}/{id}: wildcard action in {actions:?} on {resources:?}"
                    );
                    for r in &resources {
                        if r == "*" {
                            assert!(
                                actions.iter().all(|a| a.starts_with("xray:")),
                                "{stack}/{id}: {actions:?} on *"
                            );
                        } else if r.to_string().contains('*') {
                            assert_eq!(
                                r["Fn::Sub"][0], "${Table}/index/*",
                                "{stack}/{id}: wildcard resource {r}"
                            );
                            let table = r["Fn::Sub"][1]["Table"]["Fn::GetAtt"][0].as_str().unwrap();
                            t.has_resource_with_id(table, json!({"Type": "AWS::DynamoDB::Table"}));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(roles, 7, "one role per function of the order flow");
}

/// Every queue a function consumes gives each message at least six function timeouts, and a failed message
/// ends in a dead-letter queue after at most 3 receives (the shipping queue's figure, used by all).
#[test]
fn consumed_queues_redrive_after_three_receives() {
    let mut consumed = 0;
    for t in templates() {
        let queue = Capture::new();
        for (id, _) in t.find_resources("AWS::Lambda::EventSourceMapping", Match::any_value()) {
            t.has_resource_with_id(
                id,
                json!({"Properties": {
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "EventSourceArn": {"Fn::GetAtt": [&queue, "Arn"]},
                }}),
            );
        }
        for q in queue.values() {
            consumed += 1;
            let q = q.as_str().unwrap();
            let redrive = if q == "ShippingDlq" {
                Match::absent()
            } else {
                Match::object_like(json!({"maxReceiveCount": 3}))
            };
            t.has_resource_with_id(
                q,
                json!({"Properties": {"VisibilityTimeout": 60, "RedrivePolicy": redrive}}),
            );
        }
    }
    assert!(consumed >= 4, "only {consumed} consumed queues checked");
}
