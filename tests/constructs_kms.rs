//! KMS constructs: key defaults, key policy, grants, alias.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::events::{EventBus, EventBusProps};
use cfnkit::constructs::kinesis::{Stream, StreamEncryption, StreamProps};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::logs::{LogGroup, LogGroupProps};
use cfnkit::constructs::s3::{Bucket, BucketEncryption, BucketProps};
use cfnkit::constructs::secretsmanager::{Secret, SecretProps};
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::sqs::{Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::{json, Value};

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
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
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

/// Every grant that reaches a customer-managed key (on the key itself, and on each kind of resource encrypted
/// with one), and every statement the constructs add to a key policy for a service: the KMS actions are named,
/// never a wildcard, except `kms:*` for the account root in the key policy.
#[test]
fn no_grant_or_service_statement_has_a_kms_wildcard() {
    let app = App::new();
    let s = app.stack("Kms");
    let key = Key::new(&s.scope(), "Key", KeyProps::default()).unwrap();
    let role = Role::new(
        &s.scope(),
        "Everything",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    key.grant_encrypt_decrypt(&role);
    key.grant_encrypt(&role);
    key.grant_decrypt(&role);
    let queue = Queue::new(
        &s.scope(),
        "Queue",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    queue.grant_send_messages(&role);
    queue.grant_consume_messages(&role);
    let topic = Topic::new(
        &s.scope(),
        "Topic",
        TopicProps {
            master_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    topic.grant_publish(&role);
    topic
        .allow_service_publish("cloudwatch.amazonaws.com", None)
        .unwrap();
    let table = Table::new(
        &s.scope(),
        "Table",
        Attribute::string("pk"),
        TableProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    table.grant_read_write_data(&role);
    let stream = Stream::new(
        &s.scope(),
        "Stream",
        StreamProps {
            encryption: StreamEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    stream.grant_read(&role);
    stream.grant_write(&role);
    let bucket = Bucket::new(
        &s.scope(),
        "Bucket",
        BucketProps {
            encryption: BucketEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    bucket.grant_read_write(&role);
    let secret = Secret::new(
        &s.scope(),
        "Secret",
        SecretProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    secret.grant_read(&role);
    secret.grant_rotate(&role);
    EventBus::new(
        &s.scope(),
        "Bus",
        EventBusProps {
            kms_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    LogGroup::new(
        &s.scope(),
        "Logs",
        LogGroupProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();

    let t = template(&app, "Kms");
    let actions = |stmts: &[Value]| -> Vec<String> {
        stmts
            .iter()
            .flat_map(|st| match &st["Action"] {
                Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                a => vec![a.as_str().unwrap().to_owned()],
            })
            .filter(|a| a.starts_with("kms:"))
            .collect()
    };
    let granted = actions(&role_statements(&t, "Everything"));
    assert!(
        granted.contains(&"kms:GenerateDataKey".to_owned()),
        "{granted:?}"
    );
    assert!(granted.iter().all(|a| !a.contains('*')), "{granted:?}");
    let key_policy = statements(&resource(&t, "Key")["Properties"]["KeyPolicy"]);
    // The root, plus the services: CloudWatch (topic), EventBridge (bus: data keys, and DescribeKey) and
    // CloudWatch Logs.
    assert_eq!(key_policy.len(), 5, "{key_policy:#?}");
    for st in &key_policy[1..] {
        let a = actions(std::slice::from_ref(st));
        assert!(a.iter().all(|a| !a.contains('*')), "{st:#}");
    }
    assert_eq!(actions(&key_policy[..1]), ["kms:*"]);
}
