//! KMS constructs: key defaults, key policy, grants, alias.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::json;

fn example() -> App {
    let app = App::new();
    let s = app.stack("Kms");
    let key = Key::new(
        &s.scope(),
        "PlatformKey",
        KeyProps {
            description: Some("order platform data".into()),
            alias: Some("alias/order-platform".into()),
            pending_window: Some(Duration::from_secs(7 * 86_400)),
            ..Default::default()
        },
    )
    .unwrap();
    key.allow_service("events.amazonaws.com");
    key.allow_service("events.amazonaws.com");
    let role = Role::new(
        &s.scope(),
        "Reader",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    key.grant_decrypt(&role);
    app
}

#[test]
fn a_key_rotates_is_retained_and_lets_the_account_and_services_in() {
    let t = template(&example(), "Kms");
    let k = resource(&t, "PlatformKey");
    assert_eq!(k["Properties"]["EnableKeyRotation"], true);
    assert_eq!(k["DeletionPolicy"], "Retain");
    assert_eq!(k["UpdateReplacePolicy"], "Retain");
    assert_eq!(k["Properties"]["PendingWindowInDays"], 7);
    let policy = statements(&k["Properties"]["KeyPolicy"]);
    assert_eq!(policy.len(), 2, "one statement per service: {policy:#?}");
    assert_eq!(
        policy[0]["Principal"],
        json!({"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}})
    );
    assert_eq!(
        policy[1],
        json!({
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Principal": {"Service": "events.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        })
    );
    let alias = resource(&t, "PlatformKeyAlias");
    assert_eq!(alias["Properties"]["AliasName"], "alias/order-platform");
}

#[test]
fn a_decrypt_grant_names_the_key_arn() {
    let t = template(&example(), "Kms");
    let stmts = role_statements(&t, "Reader");
    assert_eq!(
        stmts,
        vec![json!({
            "Effect": "Allow", "Action": "kms:Decrypt",
            "Resource": {"Fn::GetAtt": ["PlatformKey", "Arn"]}
        })]
    );
}

#[test]
fn bad_values_are_errors_naming_the_value_and_the_fix() {
    let app = App::new();
    let s = app.stack("Kms");
    let e = Key::new(
        &s.scope(),
        "K",
        KeyProps {
            pending_window: Some(Duration::from_secs(3 * 86_400)),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Kms/K: pending_window must be a whole number of days from 7 to 30, got 3 days"
    );
    let e = Key::new(
        &s.scope(),
        "K2",
        KeyProps {
            alias: Some("alias/aws/mine".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("got \"alias/aws/mine\""), "{e}");
}

#[test]
fn example_stack_snapshot_and_cfn_lint() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Kms")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
}
