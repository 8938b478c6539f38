//! CloudWatch Logs constructs: log groups with retention, keys, removal.

mod constructs_support;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::logs::{LogGroup, LogGroupProps, Retention};
use cfnkit::App;
use constructs_support::*;
use serde_json::json;

fn example(app: &App) {
    let s = app.stack("Logs");
    let key = Key::new(&s.scope(), "LogsKey", KeyProps::default()).unwrap();
    LogGroup::new(&s.scope(), "AuditLogs", LogGroupProps::default()).unwrap();
    LogGroup::new(
        &s.scope(),
        "EncryptedLogs",
        LogGroupProps {
            log_group_name: Some("/cfnkit/encrypted".into()),
            retention: Retention::days(30),
            encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn a_log_group_keeps_events_a_year_and_is_retained() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Logs");
    let g = resource(&t, "AuditLogs");
    assert_eq!(g["Type"], "AWS::Logs::LogGroup");
    assert_eq!(g["Properties"]["RetentionInDays"], 365);
    assert_eq!(g["DeletionPolicy"], "Retain");
    assert_eq!(g["UpdateReplacePolicy"], "Retain");
    assert!(g["Properties"].get("KmsKeyId").is_none());
}

#[test]
fn a_key_given_to_a_log_group_lets_cloudwatch_logs_in_its_policy() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Logs");
    let g = resource(&t, "EncryptedLogs");
    assert_eq!(g["Properties"]["RetentionInDays"], 30);
    assert_eq!(
        g["Properties"]["KmsKeyId"],
        json!({"Fn::GetAtt": ["LogsKey", "Arn"]})
    );
    let key_stmts = statements(&resource(&t, "LogsKey")["Properties"]["KeyPolicy"]);
    let logs = key_stmts
        .iter()
        .find(|s| {
            s["Principal"]["Service"] == json!({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"})
        })
        .unwrap_or_else(|| panic!("no statement for CloudWatch Logs: {key_stmts:#?}"));
    // The wildcards of AWS's documented statement, spelled out: no action with a `*`.
    assert_eq!(
        logs["Action"],
        json!([
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:GenerateDataKeyPair",
            "kms:GenerateDataKeyPairWithoutPlaintext",
            "kms:DescribeKey"
        ])
    );
    assert!(logs["Condition"]["ArnLike"]
        .get("kms:EncryptionContext:aws:logs:arn")
        .is_some());
}

#[test]
fn retention_outside_the_accepted_values_is_refused_with_the_list() {
    let app = App::new();
    let s = app.stack("Logs");
    let e = LogGroup::new(
        &s.scope(),
        "Bad",
        LogGroupProps {
            retention: Retention::days(10),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Logs/Bad: retention must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, \
         1096, 1827, 2192, 2557, 2922, 3288, 3653 days (or Retention::Forever), got 10 days"
    );
}

#[test]
fn forever_leaves_retention_unset() {
    let app = App::new();
    let s = app.stack("Logs");
    LogGroup::new(
        &s.scope(),
        "Forever",
        LogGroupProps {
            retention: Retention::Forever,
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Logs");
    assert!(resource(&t, "Forever")["Properties"]
        .get("RetentionInDays")
        .is_none());
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Logs");
    insta::assert_snapshot!("logs_example", serde_json::to_string_pretty(&t).unwrap());
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    lint_or_skip(&app);
}
