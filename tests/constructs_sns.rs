//! SNS constructs: encryption, TLS-only policy, subscriptions, grants.

mod constructs_support;

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::Function;
use cfnkit::constructs::sns::{Subscription, SubscriptionProps, Topic, TopicProps};
use cfnkit::constructs::sqs::{Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::{fns, App};
use constructs_support::*;
use serde_json::json;

fn example() -> App {
    let app = App::new();
    let s = app.stack("Sns");
    let key = Key::new(&s.scope(), "TopicKey", KeyProps::default()).unwrap();
    let topic = Topic::new(
        &s.scope(),
        "OrderEvents",
        TopicProps {
            display_name: Some("Order events".into()),
            master_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let plain = Topic::new(&s.scope(), "Alerts", TopicProps::default()).unwrap();
    let queue = Queue::new(
        &s.scope(),
        "InventoryQueue",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    topic
        .add_subscription(Subscription::sqs(
            &queue,
            SubscriptionProps {
                filter_policy: Some(json!({"type": ["OrderPlaced"]})),
                raw_message_delivery: true,
                ..Default::default()
            },
        ))
        .unwrap();
    let notifier = Function::from_arn(
        "Notifier",
        fns::sub("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:notifier"),
    )
    .unwrap();
    topic
        .add_subscription(Subscription::lambda(&notifier, Default::default()))
        .unwrap();
    plain
        .add_subscription(Subscription::email(
            "OpsEmail",
            "ops@example.com",
            Default::default(),
        ))
        .unwrap();
    plain
        .add_subscription(Subscription::https(
            "Webhook",
            "https://hooks.example.com/alerts",
            SubscriptionProps {
                filter_policy: Some(json!({"severity": ["high"]})),
                ..Default::default()
            },
        ))
        .unwrap();
    let role = Role::new(
        &s.scope(),
        "Publisher",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    topic.grant_publish(&role);
    app
}

#[test]
fn a_topic_is_encrypted_and_tls_only_by_default() {
    let t = template(&example(), "Sns");
    assert_eq!(
        resource(&t, "Alerts")["Properties"]["KmsMasterKeyId"],
        "alias/aws/sns"
    );
    let policy = resource(&t, "AlertsPolicy");
    assert_eq!(
        statements(&policy["Properties"]["PolicyDocument"]),
        vec![json!({
            "Effect": "Deny", "Action": "sns:Publish", "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": ["Alerts", "TopicArn"]},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        })]
    );
}

#[test]
fn an_sqs_subscription_lets_the_topic_into_the_queue_and_its_key() {
    let t = template(&example(), "Sns");
    let sub = resource(&t, "InventoryQueueOrderEventsSubscription");
    assert_eq!(sub["Properties"]["Protocol"], "sqs");
    assert_eq!(sub["Properties"]["RawMessageDelivery"], true);
    assert_eq!(
        sub["Properties"]["FilterPolicy"],
        json!({"type": ["OrderPlaced"]})
    );
    let qp = statements(&resource(&t, "InventoryQueuePolicy")["Properties"]["PolicyDocument"]);
    assert!(
        qp.contains(&json!({
            "Effect": "Allow", "Action": "sqs:SendMessage",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Resource": {"Fn::GetAtt": ["InventoryQueue", "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["OrderEvents", "TopicArn"]}}}
        })),
        "{qp:#?}"
    );
    let kp = statements(&resource(&t, "TopicKey")["Properties"]["KeyPolicy"]);
    assert!(kp
        .iter()
        .any(|s| s["Principal"] == json!({"Service": "sns.amazonaws.com"})));
}

#[test]
fn a_lambda_subscription_adds_the_invoke_permission() {
    let t = template(&example(), "Sns");
    assert_eq!(
        resource(&t, "OrderEventsNotifier")["Properties"]["Protocol"],
        "lambda"
    );
    let p = resource(&t, "OrderEventsNotifierPermission");
    assert_eq!(p["Properties"]["Principal"], "sns.amazonaws.com");
    assert_eq!(
        p["Properties"]["SourceArn"],
        json!({"Fn::GetAtt": ["OrderEvents", "TopicArn"]})
    );
}

#[test]
fn publishing_to_an_encrypted_topic_also_grants_the_key() {
    let t = template(&example(), "Sns");
    let stmts = role_statements(&t, "Publisher");
    assert!(allows(&stmts, "sns:Publish"));
    assert!(stmts.contains(&json!({
        "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": {"Fn::GetAtt": ["TopicKey", "Arn"]}
    })));
}

#[test]
fn services_cannot_publish_to_a_topic_with_the_aws_managed_key() {
    let app = App::new();
    let s = app.stack("Sns");
    let topic = Topic::new(&s.scope(), "T", TopicProps::default()).unwrap();
    let e = topic
        .allow_service_publish("cloudwatch.amazonaws.com", None)
        .unwrap_err();
    assert!(e.to_string().contains("master_key: Some(&key)"), "{e}");
}

#[test]
fn a_topic_name_sns_would_refuse_is_an_error_at_synth() {
    let app = App::new();
    let s = app.stack("Sns");
    let named = |id: &str, name: String, fifo: bool| {
        Topic::new(
            &s.scope(),
            id,
            TopicProps {
                topic_name: Some(name.into()),
                fifo,
                ..Default::default()
            },
        )
    };
    let e = named("T1", "order events".into(), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Sns/T1: topic_name must be 1 to 256 characters (`.fifo` included) of letters, digits, `-` and `_`, got \
         \"order events\" (12 characters); or leave it out and CloudFormation names the topic"
    );
    assert!(named("T2", "x".repeat(257), false).is_err());
    named("T3", "x".repeat(256), false).unwrap();
    named("T4", "Order_events-1.fifo".into(), true).unwrap();
}

#[test]
fn example_stack_snapshot_and_cfn_lint() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Sns")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
}
