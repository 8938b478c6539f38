//! Stacks in several accounts and regions: references between environments become `Fn::GetStackOutput`, same-
//! environment ones stay exports, partitions are not crossed.

use cfnkit::fns::{self, StackOutputSource};
use cfnkit::synth::output::{render, Format};
use cfnkit::synth::{synth, Node, StackArtifact};
use cfnkit::{App, Environment, RawResource, Stack};
use serde_json::{json, Value as Json};

fn env(account: &str, region: &str) -> Environment {
    Environment {
        account: Some(account.into()),
        region: Some(region.into()),
    }
}

fn queue_user(stack: &Stack, id: &str, value: cfnkit::Val<String>) {
    stack.add_raw(
        id,
        RawResource::new("AWS::SSM::Parameter")
            .prop("Type", "String")
            .prop("Value", value),
    );
}

fn json_of(n: &Node) -> Json {
    serde_json::to_value(n).unwrap()
}

fn value_of(stack: &StackArtifact, id: &str) -> Json {
    json_of(
        stack
            .template
            .get("Resources")
            .and_then(|r| r.get(id))
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get("Value"))
            .unwrap(),
    )
}

/// Base in account 1 / eu-west-1; readers in the same environment, another region, another account.
fn app() -> App {
    let app = App::new();
    // Consumers first: the deploy order must still put Base first.
    let same = app.stack("Same");
    same.set_env(env("111111111111", "eu-west-1"));
    let far = app.stack("Far");
    far.set_env(env("111111111111", "us-east-1"));
    let other = app.stack("Other");
    other.set_env(env("222222222222", "eu-west-1"));
    let base = app.stack("Base");
    base.set_env(env("111111111111", "eu-west-1"));
    let q = base.add_raw("Queue", RawResource::new("AWS::SQS::Queue"));
    for s in [&same, &far, &other] {
        queue_user(s, "QueueArn", q.get_att::<String>("Arn"));
    }
    app
}

#[test]
fn a_cross_environment_reference_becomes_get_stack_output_and_a_same_environment_one_stays_an_export(
) {
    let out = synth(&app()).unwrap();
    let names: Vec<&str> = out.stacks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Base", "Same", "Far", "Other"]);

    assert_eq!(
        value_of(out.stack("Same").unwrap(), "QueueArn"),
        json!({"Fn::ImportValue": "Base:Queue:Arn"})
    );
    assert_eq!(
        value_of(out.stack("Far").unwrap(), "QueueArn"),
        json!({"Fn::GetStackOutput": {
            "StackName": "Base", "OutputName": "OutputQueueArn", "Region": "eu-west-1",
        }})
    );
    assert_eq!(
        value_of(out.stack("Other").unwrap(), "QueueArn"),
        json!({"Fn::GetStackOutput": {
            "StackName": "Base", "OutputName": "OutputQueueArn",
            "RoleArn": {"Fn::Sub": "arn:${AWS::Partition}:iam::111111111111:role/cfnkit-lookup-111111111111-eu-west-1"},
        }})
    );
    for consumer in ["Same", "Far", "Other"] {
        assert_eq!(out.stack(consumer).unwrap().dependencies, ["Base"]);
    }

    // The producer: the export for Same, and a plain output (no Export) for the other environments.
    let base = out.stack("Base").unwrap();
    let outputs = json_of(base.template.get("Outputs").unwrap());
    assert_eq!(
        outputs["ExportQueueArn"]["Export"]["Name"],
        "Base:Queue:Arn"
    );
    assert_eq!(
        outputs["OutputQueueArn"],
        json!({
            "Description": "Arn of Base/Queue, read by stacks of other environments",
            "Value": {"Fn::GetAtt": ["Queue", "Arn"]},
        })
    );
    assert_eq!(base.exports.len(), 1);
    assert_eq!(base.exports[0].imported_by, ["Same"]);
}

#[test]
fn weak_references_are_recorded_in_the_manifest() {
    let out = synth(&app()).unwrap();
    let manifest: Json =
        serde_json::from_str(&render(&out, Format::Json, &[]).unwrap().manifest.to_json()).unwrap();
    let stack = |name: &str| {
        manifest["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        stack("Base")["weakOutputs"],
        json!([{"output": "OutputQueueArn", "element": "Base/Queue", "attribute": "Arn", "readBy": ["Far", "Other"]}])
    );
    assert_eq!(
        stack("Far")["weakReferences"],
        json!([{"from": "Base", "output": "OutputQueueArn", "region": "eu-west-1"}])
    );
    assert_eq!(
        stack("Other")["weakReferences"],
        json!([{"from": "Base", "output": "OutputQueueArn", "account": "111111111111"}])
    );
    // Stacks without weak references write neither field, so other apps' manifests do not change.
    assert!(stack("Same").get("weakReferences").is_none());
    assert!(stack("Same").get("weakOutputs").is_none());
}

#[test]
fn an_unset_account_or_region_is_the_deploying_one_so_the_reference_stays_an_export() {
    let app = App::new();
    let base = app.stack("Base");
    base.set_env(env("111111111111", "eu-west-1"));
    let q = base.add_raw("Queue", RawResource::new("AWS::SQS::Queue"));
    let anywhere = app.stack("Anywhere");
    queue_user(&anywhere, "QueueArn", q.get_att::<String>("Arn"));
    let regional = app.stack("Regional");
    regional.set_env(Environment {
        account: None,
        region: Some("us-east-1".into()),
    });
    queue_user(&regional, "QueueArn", q.get_att::<String>("Arn"));
    let out = synth(&app).unwrap();
    assert_eq!(
        value_of(out.stack("Anywhere").unwrap(), "QueueArn"),
        json!({"Fn::ImportValue": "Base:Queue:Arn"})
    );
    // The region is known to differ, the account is not: a Region and no RoleArn.
    assert_eq!(
        value_of(out.stack("Regional").unwrap(), "QueueArn"),
        json!({"Fn::GetStackOutput": {"StackName": "Base", "OutputName": "OutputQueueArn", "Region": "eu-west-1"}})
    );
}

#[test]
fn a_reference_across_partitions_is_an_error_naming_both_stacks() {
    let app = App::new();
    let base = app.stack("Base");
    base.set_env(env("111111111111", "eu-west-1"));
    let q = base.add_raw("Queue", RawResource::new("AWS::SQS::Queue"));
    let china = app.stack("China");
    china.set_env(env("333333333333", "cn-north-1"));
    queue_user(&china, "QueueArn", q.get_att::<String>("Arn"));
    let err = synth(&app).unwrap_err().to_string();
    for expected in [
        "China",
        "refers to Base/Queue in stack Base (region eu-west-1, partition aws) from stack China (region cn-north-1, \
         partition aws-cn)",
        "Fn::GetStackOutput cannot read across partitions",
        "pass the value in as a parameter",
    ] {
        assert!(err.contains(expected), "{expected:?} not in: {err}");
    }
}

#[test]
fn get_stack_output_by_hand_writes_region_and_role_only_when_given() {
    let app = App::new();
    let s = app.stack("Reader");
    queue_user(
        &s,
        "Plain",
        fns::get_stack_output("Network", "VpcId", StackOutputSource::default()),
    );
    queue_user(
        &s,
        "Remote",
        fns::get_stack_output(
            "Network",
            "VpcId",
            StackOutputSource {
                region: Some("us-west-2".into()),
                role_arn: Some(
                    cfnkit::environments::BootstrapRole::Lookup
                        .arn("444444444444", Some("us-west-2")),
                ),
            },
        ),
    );
    let out = synth(&app).unwrap();
    let reader = out.stack("Reader").unwrap();
    assert_eq!(
        value_of(reader, "Plain"),
        json!({"Fn::GetStackOutput": {"StackName": "Network", "OutputName": "VpcId"}})
    );
    assert_eq!(
        value_of(reader, "Remote"),
        json!({"Fn::GetStackOutput": {
            "StackName": "Network", "OutputName": "VpcId", "Region": "us-west-2",
            "RoleArn": {"Fn::Sub": "arn:${AWS::Partition}:iam::444444444444:role/cfnkit-lookup-444444444444-us-west-2"},
        }})
    );
    // A hand-written read names no stack of the app: no dependency.
    assert!(reader.dependencies.is_empty());
}
