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

/// Seed 004's blue-green for the order API: the API's methods (their integrations and invoke permissions) invoke
/// the `live` alias that CodeDeploy shifts, never the function's latest code, and the deployment rolls back on the
/// function's error alarm.
#[test]
fn every_trigger_of_the_order_api_function_invokes_its_alias() {
    let templates = Templates::from_app(&stacks::app().unwrap()).unwrap();
    let order = templates.stack("Order");
    let direct = [
        json!({"Ref": "OrderApi"}),
        json!({"Fn::GetAtt": ["OrderApi", "Arn"]}),
    ];
    let mut triggers = 0;
    for (type_name, property) in [
        ("AWS::Lambda::Permission", "FunctionName"),
        ("AWS::ApiGateway::Method", "Integration"),
        ("AWS::Lambda::EventSourceMapping", "FunctionName"),
        ("AWS::Events::Rule", "Targets"),
    ] {
        for (id, r) in order.find_resources(type_name, json!({})) {
            let value = r["Properties"][property].to_string();
            if !value.contains("OrderApi\"") && !value.contains("OrderApiAlias") {
                continue; // another function's trigger
            }
            triggers += 1;
            assert!(
                value.contains("{\"Ref\":\"OrderApiAlias\"}"),
                "{id} does not invoke the alias: {value}"
            );
            for d in &direct {
                assert!(
                    !value.contains(&d.to_string()),
                    "{id} invokes OrderApi directly: {value}"
                );
            }
        }
    }
    // POST /orders and GET /orders/{id}: a method and a permission each.
    assert_eq!(triggers, 4, "the order API's triggers");
    order.has_resource(
        "AWS::Lambda::Alias",
        json!({"UpdatePolicy": {"CodeDeployLambdaAliasUpdate": {
            "DeploymentGroupName": {"Ref": "OrderApiDeployment"}}}}),
    );
    order.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        json!({
            "AlarmConfiguration": {"Alarms": [{"Name": {"Ref": "OrderApiErrors"}}], "Enabled": true},
            "AutoRollbackConfiguration": {"Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]},
            "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        }),
    );
}
