//! Targeted checks of the order-flow stacks (seed 003) that snapshots would only show, not enforce.

use cfnkit::synth::Node;
use serde_json::{json, Value};
use stacks::service::XRAY_REASON;

const STACKS: [&str; 5] = ["Base", "Order", "Inventory", "Payment", "Shipping"];

fn templates() -> Vec<(String, Value)> {
    let assembly = cfnkit::synth::synth(&stacks::app().unwrap()).unwrap();
    STACKS
        .iter()
        .map(|name| {
            let node: &Node = &assembly.stack(name).unwrap().template;
            (
                name.to_string(),
                serde_json::from_str(&node.to_json()).unwrap(),
            )
        })
        .collect()
}

fn resources(t: &Value, type_name: &str) -> Vec<(String, Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == type_name)
        .map(|(id, r)| (id.clone(), r.clone()))
        .collect()
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The functions' roles have two kinds of wildcard (X-Ray's `*` resource, suppressed by `platform_function`; a
/// table's `index/*`, suppressed by the table grant). `Resource::*` is one item however many actions are granted
/// on `*`, so X-Ray's scoped suppression would also cover another action on `*`: any other wildcard (a grant on
/// `*`, an `s3:*`, a `kms:GenerateDataKey*`...) must fail here instead.
#[test]
fn function_roles_have_only_the_wildcards_their_suppression_names() {
    let mut roles = 0;
    for (stack, t) in templates() {
        for (id, role) in resources(&t, "AWS::IAM::Role") {
            let suppressed = list(&role["Metadata"]["cfnkit"]["suppress"])
                .iter()
                .any(|s| s["id"] == "IAM5" && s["reason"] == XRAY_REASON);
            if !suppressed {
                continue;
            }
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
                            let table = &r["Fn::Sub"][1]["Table"]["Fn::GetAtt"][0];
                            assert!(
                                t["Resources"][table.as_str().unwrap()]["Type"]
                                    == "AWS::DynamoDB::Table",
                                "{stack}/{id}: {r}"
                            );
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
    for (stack, t) in templates() {
        for (id, m) in resources(&t, "AWS::Lambda::EventSourceMapping") {
            assert_eq!(
                m["Properties"]["FunctionResponseTypes"],
                json!(["ReportBatchItemFailures"]),
                "{stack}/{id}"
            );
            let queue = m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
                .as_str()
                .unwrap();
            let q = &t["Resources"][queue]["Properties"];
            assert_eq!(q["VisibilityTimeout"], json!(60), "{stack}/{queue}");
            if queue != "ShippingDlq" {
                assert_eq!(
                    q["RedrivePolicy"]["maxReceiveCount"],
                    json!(3),
                    "{stack}/{queue}"
                );
            }
        }
    }
}
