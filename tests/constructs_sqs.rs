//! SQS constructs: encryption, TLS-only policy, dead-letter queues, grants.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::App;
use constructs_support::*;
use serde_json::json;

fn worker(s: &cfnkit::Stack) -> Role {
    Role::new(
        &s.scope(),
        "Worker",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap()
}

fn example() -> App {
    let app = App::new();
    let s = app.stack("Sqs");
    let key = Key::new(&s.scope(), "QueueKey", KeyProps::default()).unwrap();
    let q = Queue::new(
        &s.scope(),
        "InventoryQueue",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            dead_letter: DeadLetter::Create {
                max_receive_count: 5,
            },
            visibility_timeout: Some(Duration::from_secs(180)),
            retention_period: Some(Duration::from_secs(4 * 86_400)),
            ..Default::default()
        },
    )
    .unwrap();
    let plain = Queue::new(&s.scope(), "PlainQueue", QueueProps::default()).unwrap();
    let role = worker(&s);
    q.grant_consume_messages(&role);
    plain.grant_send_messages(&role);
    app
}

#[test]
fn a_queue_is_encrypted_and_tls_only_by_default() {
    let t = template(&example(), "Sqs");
    let q = resource(&t, "PlainQueue");
    assert_eq!(q["Properties"]["SqsManagedSseEnabled"], true);
    let policy = resource(&t, "PlainQueuePolicy");
    assert_eq!(policy["Type"], "AWS::SQS::QueuePolicy");
    assert_eq!(
        statements(&policy["Properties"]["PolicyDocument"]),
        vec![json!({
            "Effect": "Deny", "Action": "sqs:*", "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": ["PlainQueue", "Arn"]},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        })]
    );
}

#[test]
fn a_created_dead_letter_queue_shares_encryption_and_is_wired() {
    let t = template(&example(), "Sqs");
    let q = resource(&t, "InventoryQueue");
    assert_eq!(
        q["Properties"]["RedrivePolicy"],
        json!({"deadLetterTargetArn": {"Fn::GetAtt": ["InventoryQueueDlq", "Arn"]}, "maxReceiveCount": 5})
    );
    assert_eq!(
        q["Properties"]["KmsMasterKeyId"],
        json!({"Fn::GetAtt": ["QueueKey", "Arn"]})
    );
    let dlq = resource(&t, "InventoryQueueDlq");
    assert_eq!(
        dlq["Properties"]["KmsMasterKeyId"],
        q["Properties"]["KmsMasterKeyId"]
    );
    assert_eq!(dlq["Properties"]["MessageRetentionPeriod"], 1_209_600);
    resource(&t, "InventoryQueueDlqPolicy");
}

#[test]
fn a_grant_on_an_encrypted_queue_also_grants_the_key() {
    let t = template(&example(), "Sqs");
    let stmts = role_statements(&t, "Worker");
    let consume = stmts
        .iter()
        .find(|s| s["Resource"] == json!({"Fn::GetAtt": ["InventoryQueue", "Arn"]}))
        .unwrap();
    assert_eq!(
        consume["Action"],
        json!([
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes"
        ])
    );
    let key = stmts
        .iter()
        .find(|s| s["Resource"] == json!({"Fn::GetAtt": ["QueueKey", "Arn"]}))
        .expect("the consume grant includes the key");
    assert_eq!(key["Action"], "kms:Decrypt");
    // The SQS-managed queue needs no key statement.
    assert_eq!(stmts.len(), 3, "{stmts:#?}");
    assert!(allows(&stmts, "sqs:SendMessage"));
}

#[test]
fn sending_to_an_encrypted_queue_grants_a_data_key_and_decrypt_only() {
    let app = App::new();
    let s = app.stack("Sqs");
    let key = Key::new(&s.scope(), "QueueKey", KeyProps::default()).unwrap();
    let q = Queue::new(
        &s.scope(),
        "Orders",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    q.grant_send_messages(&worker(&s));
    let stmts = role_statements(&template(&app, "Sqs"), "Worker");
    let on_key: Vec<&serde_json::Value> = stmts
        .iter()
        .filter(|s| s["Resource"] == json!({"Fn::GetAtt": ["QueueKey", "Arn"]}))
        .collect();
    // What the SQS developer guide names for producers; no kms:ReEncrypt* or kms:GenerateDataKey*.
    assert_eq!(
        on_key,
        [&json!({
            "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": {"Fn::GetAtt": ["QueueKey", "Arn"]}
        })]
    );
}

#[test]
fn bad_values_are_errors_naming_the_value() {
    let app = App::new();
    let s = app.stack("Sqs");
    let e = Queue::new(
        &s.scope(),
        "Q",
        QueueProps {
            retention_period: Some(Duration::from_secs(15 * 86_400)),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Sqs/Q: retention_period must be a whole number of seconds between 1 minute and 14 days, got 15 days"
    );
    let e = Queue::new(
        &s.scope(),
        "Q2",
        QueueProps {
            dead_letter: DeadLetter::Create {
                max_receive_count: 0,
            },
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Sqs/Q2: max_receive_count must be from 1 to 1000, got 0"
    );
    // SQS's naming rule, checked at synth rather than at deploy.
    let named = |id: &str, name: String, fifo: bool| {
        Queue::new(
            &s.scope(),
            id,
            QueueProps {
                queue_name: Some(name.into()),
                fifo,
                ..Default::default()
            },
        )
    };
    let e = named("Q3", "x".repeat(81), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Sqs/Q3: queue_name must be 1 to 80 characters (`.fifo` included) of letters, digits, `-` and `_`, \
             got \"{}\" (81 characters); or leave it out and CloudFormation names the queue",
            "x".repeat(81)
        )
    );
    let e = named("Q4", "orders queue".into(), false).unwrap_err();
    assert!(
        e.to_string()
            .contains("got \"orders queue\" (12 characters)"),
        "{e}"
    );
    assert!(named("Q5", ".fifo".into(), true).is_err());
    named("Q6", "x".repeat(80), false).unwrap();
    named("Q7", format!("{}.fifo", "a-_9".repeat(18)), true).unwrap();
}

#[test]
fn tls_only_can_be_turned_off_and_then_no_policy_is_made() {
    let app = App::new();
    let s = app.stack("Sqs");
    Queue::new(
        &s.scope(),
        "Q",
        QueueProps {
            enforce_ssl: false,
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Sqs");
    assert!(of_type(&t, "AWS::SQS::QueuePolicy").is_empty());
}

#[test]
fn example_stack_snapshot_and_cfn_lint() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Sqs")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
}
