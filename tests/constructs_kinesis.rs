//! Kinesis constructs: encryption, capacity modes, retention, grants (and the key grants of a CMK-encrypted
//! stream), the Lambda event source and EventBridge target made from a stream, metrics; checked with cfn-lint,
//! checkov and the rule pack.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::cloudwatch::Statistic;
use cfnkit::constructs::events::{EventPattern, Rule, RuleProps, TargetProps};
use cfnkit::constructs::kinesis::{Stream, StreamCapacity, StreamEncryption, StreamProps};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{
    Code, Function, FunctionProps, KinesisEventSource, StreamEventSourceProps,
};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::{json, Value};

fn role(s: &cfnkit::Stack, id: &str) -> Role {
    Role::new(
        &s.scope(),
        id,
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap()
}

/// A provisioned stream encrypted with a key (written by a producer and by an EventBridge rule) and an
/// on-demand stream with the AWS-managed key, both read by a consumer.
fn example() -> App {
    let app = App::new();
    let s = app.stack("Kinesis");
    let key = Key::new(&s.scope(), "StreamKey", KeyProps::default()).unwrap();
    let clicks = Stream::new(
        &s.scope(),
        "Clicks",
        StreamProps {
            encryption: StreamEncryption::Kms(&key),
            capacity: StreamCapacity::Provisioned { shards: 2 },
            retention_period: Some(Duration::from_secs(7 * 86_400)),
            ..Default::default()
        },
    )
    .unwrap();
    let events = Stream::new(&s.scope(), "Events", StreamProps::default()).unwrap();
    let producer = role(&s, "Producer");
    clicks.grant_write(&producer);
    let consumer = role(&s, "Consumer");
    clicks.grant_read(&consumer);
    events.grant_read(&consumer);
    let rule = Rule::new(
        &s.scope(),
        "ClicksToStream",
        RuleProps {
            event_pattern: Some(EventPattern::new().source(["shop.clicks"])),
            ..Default::default()
        },
    )
    .unwrap();
    rule.add_target(clicks.rule_target(TargetProps {
        partition_key_path: Some("$.detail.sessionId".into()),
        ..Default::default()
    }))
    .unwrap();
    app
}

fn actions_of(s: &Value) -> Vec<String> {
    match &s["Action"] {
        Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
        Value::String(a) => vec![a.clone()],
        _ => vec![],
    }
}

#[test]
fn a_stream_is_on_demand_encrypted_with_the_aws_key_and_retained_by_default() {
    let t = template(&example(), "Kinesis");
    let r = resource(&t, "Events");
    assert_eq!(r["DeletionPolicy"], "Retain");
    assert_eq!(r["UpdateReplacePolicy"], "Retain");
    assert_eq!(
        r["Properties"],
        json!({
            // Kinesis's default, written out (cfn-lint I3013).
            "RetentionPeriodHours": 24,
            "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
        })
    );
}

#[test]
fn a_provisioned_stream_has_its_shards_retention_and_key() {
    let t = template(&example(), "Kinesis");
    assert_eq!(
        resource(&t, "Clicks")["Properties"],
        json!({
            "ShardCount": 2,
            "RetentionPeriodHours": 168,
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "StreamEncryption": {"EncryptionType": "KMS", "KeyId": {"Fn::GetAtt": ["StreamKey", "Arn"]}}
        })
    );
}

#[test]
fn grants_on_a_cmk_stream_extend_to_the_key_and_the_aws_key_needs_none() {
    let t = template(&example(), "Kinesis");
    let key = json!({"Fn::GetAtt": ["StreamKey", "Arn"]});
    let clicks = json!({"Fn::GetAtt": ["Clicks", "Arn"]});

    let producer = role_statements(&t, "Producer");
    assert_eq!(
        producer,
        vec![
            json!({"Effect": "Allow",
                   "Action": ["kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"],
                   "Resource": clicks}),
            json!({"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key}),
        ]
    );

    let consumer = role_statements(&t, "Consumer");
    let read = consumer
        .iter()
        .find(|s| allows(std::slice::from_ref(s), "kinesis:GetRecords"))
        .unwrap();
    // Both streams in one statement (same actions), and the key only once: the on-demand stream uses the
    // AWS-managed key, which Kinesis uses for the account's principals without a key grant.
    assert_eq!(
        read["Resource"],
        json!([clicks, {"Fn::GetAtt": ["Events", "Arn"]}])
    );
    let on_key: Vec<&Value> = consumer.iter().filter(|s| s["Resource"] == key).collect();
    assert_eq!(on_key.len(), 1);
    assert_eq!(actions_of(on_key[0]), vec!["kms:Decrypt"]);
}

#[test]
fn a_stream_is_an_eventbridge_target_through_the_rules_role() {
    let t = template(&example(), "Kinesis");
    let target = &resource(&t, "ClicksToStream")["Properties"]["Targets"][0];
    assert_eq!(target["Arn"], json!({"Fn::GetAtt": ["Clicks", "Arn"]}));
    assert_eq!(
        target["RoleArn"],
        json!({"Fn::GetAtt": ["ClicksToStreamEventsRole", "Arn"]})
    );
    let stmts = role_statements(&t, "ClicksToStreamEventsRole");
    assert!(allows(&stmts, "kinesis:PutRecord"));
    let on_key: Vec<&Value> = stmts
        .iter()
        .filter(|s| s["Resource"] == json!({"Fn::GetAtt": ["StreamKey", "Arn"]}))
        .collect();
    assert_eq!(on_key.len(), 1, "{stmts:#?}");
    assert_eq!(
        actions_of(on_key[0]),
        vec!["kms:GenerateDataKey"],
        "the rule's role gets a data key for the records, no wildcard KMS actions"
    );
}

#[test]
fn a_function_reads_a_stream_construct_named_after_it_with_its_key() {
    let app = App::new();
    let s = app.stack("Kinesis");
    let key = Key::new(&s.scope(), "K", KeyProps::default()).unwrap();
    let stream = Stream::new(
        &s.scope(),
        "Orders",
        StreamProps {
            encryption: StreamEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let f = Function::new(
        &s.scope(),
        "Projector",
        Code::asset("projector"),
        FunctionProps::default(),
    )
    .unwrap();
    f.add_event_source(KinesisEventSource::new(
        &stream,
        StreamEventSourceProps {
            batch_size: Some(50),
            ..Default::default()
        },
    ))
    .unwrap();
    let t = template(&app, "Kinesis");
    let m = resource(&t, "ProjectorOrdersEventSource");
    assert_eq!(
        m["Properties"]["EventSourceArn"],
        json!({"Fn::GetAtt": ["Orders", "Arn"]})
    );
    assert_eq!(m["Properties"]["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(m["Properties"]["BatchSize"], 50);
    let stmts = role_statements(&t, "ProjectorServiceRole");
    assert!(allows(&stmts, "kinesis:GetRecords"));
    assert!(stmts
        .iter()
        .any(|s| s["Resource"] == json!({"Fn::GetAtt": ["K", "Arn"]})
            && actions_of(s) == vec!["kms:Decrypt"]));
}

#[test]
fn metrics_name_the_stream() {
    let app = App::new();
    let s = app.stack("Kinesis");
    let stream = Stream::new(&s.scope(), "Orders", StreamProps::default()).unwrap();
    let m = stream.metric_get_records_iterator_age_milliseconds();
    assert_eq!(m.namespace(), "AWS/Kinesis");
    assert_eq!(m.metric_name(), "GetRecords.IteratorAgeMilliseconds");
    assert_eq!(m.get_statistic(), Statistic::Maximum);
    assert_eq!(
        m.dimensions(),
        &[("StreamName".to_owned(), stream.stream_name())][..]
    );
    assert_eq!(
        stream.metric_incoming_records().get_statistic(),
        Statistic::Sum
    );
    assert_eq!(
        stream
            .metric_write_provisioned_throughput_exceeded()
            .metric_name(),
        "WriteProvisionedThroughputExceeded"
    );
}

#[test]
fn bad_values_are_errors_naming_the_value_and_the_fix() {
    let app = App::new();
    let s = app.stack("Kinesis");
    let err = |id: &str, props: StreamProps<'_>| {
        Stream::new(&s.scope(), id, props).unwrap_err().to_string()
    };
    assert_eq!(
        err(
            "A",
            StreamProps {
                retention_period: Some(Duration::from_secs(12 * 3_600)),
                ..Default::default()
            }
        ),
        "Kinesis/A: retention_period must be a whole number of hours from 24 hours to 365 days, got 12 hours"
    );
    assert_eq!(
        err(
            "B",
            StreamProps {
                retention_period: Some(Duration::from_secs(366 * 86_400)),
                ..Default::default()
            }
        ),
        "Kinesis/B: retention_period must be a whole number of hours from 24 hours to 365 days, got 366 days"
    );
    assert_eq!(
        err(
            "C",
            StreamProps {
                capacity: StreamCapacity::Provisioned { shards: 0 },
                ..Default::default()
            }
        ),
        "Kinesis/C: a provisioned stream needs 1 to 10000 shards, got 0"
    );
}

#[test]
fn kinesis_example() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Kinesis")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
    checkov_or_skip(&app);
    assert_rules_clean(&app);
}
