//! EventBridge constructs: buses, archives, rules, targets and their permissions.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::events::{
    ArchiveProps, EventBus, EventBusProps, EventPattern, RetryPolicy, Rule, RuleInput, RuleProps,
    Schedule, Target, TargetProps,
};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::Function;
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::{fns, App};
use constructs_support::*;
use serde_json::json;

fn example() -> App {
    let app = App::new();
    let s = app.stack("Events");
    let key = Key::new(&s.scope(), "EventsKey", KeyProps::default()).unwrap();
    let bus = EventBus::new(
        &s.scope(),
        "OrderBus",
        EventBusProps {
            kms_key: Some(&key),
            archive: Some(ArchiveProps {
                retention: Some(Duration::from_secs(30 * 86_400)),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let queue = Queue::new(
        &s.scope(),
        "InventoryQueue",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let target_dlq = Queue::new(
        &s.scope(),
        "RuleDlq",
        QueueProps {
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )
    .unwrap();
    let topic = Topic::new(
        &s.scope(),
        "Notifications",
        TopicProps {
            master_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let audit_bus = EventBus::new(&s.scope(), "AuditBus", EventBusProps::default()).unwrap();
    let rule = Rule::new(
        &s.scope(),
        "OrderPlaced",
        RuleProps {
            event_bus: Some(&bus),
            event_pattern: Some(
                EventPattern::new()
                    .source(["order-platform.orders"])
                    .detail_type(["OrderPlaced"])
                    .detail(json!({"total": [{"numeric": [">", 0]}]})),
            ),
            ..Default::default()
        },
    )
    .unwrap();
    rule.add_target(Target::sqs(
        &queue,
        TargetProps {
            dead_letter_queue: Some(&target_dlq),
            retry_policy: Some(RetryPolicy {
                max_retries: 3,
                max_event_age: Duration::from_secs(3_600),
            }),
            input: Some(RuleInput::transform(
                [("order", "$.detail.orderId")],
                r#"{"orderId": <order>}"#,
            )),
            ..Default::default()
        },
    ))
    .unwrap();
    rule.add_target(Target::sns(&topic, Default::default()))
        .unwrap();
    rule.add_target(Target::event_bus(&audit_bus, Default::default()))
        .unwrap();
    rule.add_target(Target::kinesis_stream(
        fns::sub("arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/orders"),
        None,
        TargetProps {
            partition_key_path: Some("$.detail.orderId".into()),
            ..Default::default()
        },
    ))
    .unwrap();
    rule.add_target(Target::lambda(
        &Function::from_arn(
            "Notifier",
            fns::sub(
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:notifier",
            ),
        )
        .unwrap(),
        Default::default(),
    ))
    .unwrap();
    let nightly = Rule::new(
        &s.scope(),
        "Nightly",
        RuleProps {
            schedule: Some(Schedule::Rate(Duration::from_secs(86_400))),
            ..Default::default()
        },
    )
    .unwrap();
    nightly
        .add_target(Target::sqs(&queue, Default::default()))
        .unwrap();
    let role = Role::new(
        &s.scope(),
        "Producer",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    bus.grant_put_events(&role);
    app
}

#[test]
fn a_rule_with_an_sqs_target_adds_the_queue_policy_and_key_statement() {
    let t = template(&example(), "Events");
    let qp = statements(&resource(&t, "InventoryQueuePolicy")["Properties"]["PolicyDocument"]);
    assert!(
        qp.contains(&json!({
            "Effect": "Allow", "Action": "sqs:SendMessage",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": {"Fn::GetAtt": ["InventoryQueue", "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["OrderPlaced", "Arn"]}}}
        })),
        "{qp:#?}"
    );
    // Each rule gets its own statement.
    assert!(qp
        .iter()
        .any(|s| s["Condition"]["ArnEquals"]["aws:SourceArn"]
            == json!({"Fn::GetAtt": ["Nightly", "Arn"]})));
    let dlqp = statements(&resource(&t, "RuleDlqPolicy")["Properties"]["PolicyDocument"]);
    assert!(allows(&dlqp, "sqs:SendMessage"));
    let kp = statements(&resource(&t, "EventsKey")["Properties"]["KeyPolicy"]);
    let for_events: Vec<&serde_json::Value> = kp
        .iter()
        .filter(|s| s["Principal"] == json!({"Service": "events.amazonaws.com"}))
        .collect();
    // One statement for the data keys, however many queues, topics and buses use the key, and the bus's
    // kms:DescribeKey ("Authorizing EventBridge to use a customer managed key").
    assert_eq!(
        for_events
            .iter()
            .map(|s| s["Action"].clone())
            .collect::<Vec<_>>(),
        [
            json!(["kms:Decrypt", "kms:GenerateDataKey"]),
            json!("kms:DescribeKey")
        ],
        "{for_events:#?}"
    );
}

#[test]
fn targets_carry_ids_dlq_retry_and_input_transformation() {
    let t = template(&example(), "Events");
    let rule = resource(&t, "OrderPlaced");
    assert_eq!(
        rule["Properties"]["EventBusName"],
        json!({"Ref": "OrderBus"})
    );
    assert_eq!(
        rule["Properties"]["EventPattern"],
        json!({"detail": {"total": [{"numeric": [">", 0]}]}, "detail-type": ["OrderPlaced"], "source": ["order-platform.orders"]})
    );
    let targets = rule["Properties"]["Targets"].as_array().unwrap();
    assert_eq!(targets.len(), 5);
    assert_eq!(targets[0]["Id"], "Target0");
    assert_eq!(
        targets[0]["DeadLetterConfig"]["Arn"],
        json!({"Fn::GetAtt": ["RuleDlq", "Arn"]})
    );
    assert_eq!(
        targets[0]["RetryPolicy"],
        json!({"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3})
    );
    assert_eq!(
        targets[0]["InputTransformer"],
        json!({"InputPathsMap": {"order": "$.detail.orderId"}, "InputTemplate": "{\"orderId\": <order>}"})
    );
    assert_eq!(
        targets[2]["RoleArn"],
        json!({"Fn::GetAtt": ["OrderPlacedEventsRole", "Arn"]})
    );
    let role = role_statements(&t, "OrderPlacedEventsRole");
    assert!(allows(&role, "events:PutEvents"));
    assert!(allows(&role, "kinesis:PutRecords"));
    let p = resource(&t, "OrderPlacedNotifierPermission");
    assert_eq!(p["Properties"]["Principal"], "events.amazonaws.com");
    assert_eq!(
        resource(&t, "Nightly")["Properties"]["ScheduleExpression"],
        "rate(1 day)"
    );
}

#[test]
fn a_bus_has_an_archive_a_key_and_a_put_events_grant() {
    let t = template(&example(), "Events");
    let bus = resource(&t, "OrderBus");
    assert_eq!(
        bus["Properties"]["Name"],
        json!({"Fn::Sub": "${AWS::StackName}-OrderBus"})
    );
    assert_eq!(
        bus["Properties"]["KmsKeyIdentifier"],
        json!({"Fn::GetAtt": ["EventsKey", "Arn"]})
    );
    assert_eq!(
        resource(&t, "OrderBusArchive")["Properties"]["RetentionDays"],
        30
    );
    assert_eq!(
        role_statements(&t, "Producer"),
        vec![
            json!({"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Fn::GetAtt": ["OrderBus", "Arn"]}})
        ]
    );
}

#[test]
fn an_sns_target_needs_a_customer_managed_key() {
    let app = App::new();
    let s = app.stack("Events");
    let topic = Topic::new(&s.scope(), "T", TopicProps::default()).unwrap();
    let rule = Rule::new(
        &s.scope(),
        "R",
        RuleProps {
            event_pattern: Some(EventPattern::new().source(["x"])),
            ..Default::default()
        },
    )
    .unwrap();
    let e = rule
        .add_target(Target::sns(&topic, Default::default()))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Events/T: events.amazonaws.com cannot publish"),
        "{e}"
    );
}

#[test]
fn a_rule_needs_a_pattern_or_a_schedule() {
    let app = App::new();
    let s = app.stack("Events");
    let e = Rule::new(&s.scope(), "R", RuleProps::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Events/R: a rule needs an event_pattern with at least one field, a schedule, or both"
    );
}

#[test]
fn target_props_for_another_kind_of_target_are_refused_before_anything_is_wired() {
    let app = App::new();
    let s = app.stack("Events");
    let queue = Queue::new(&s.scope(), "Jobs", QueueProps::default()).unwrap();
    let rule = Rule::new(
        &s.scope(),
        "R",
        RuleProps {
            event_pattern: Some(EventPattern::new().source(["x"])),
            ..Default::default()
        },
    )
    .unwrap();
    let err = |target| rule.add_target(target).unwrap_err().to_string();
    assert_eq!(
        err(Target::sqs(
            &queue,
            TargetProps {
                partition_key_path: Some("$.id".into()),
                ..Default::default()
            },
        )),
        "Events/R: partition_key_path applies to Kinesis stream targets only: drop it"
    );
    let bus = EventBus::from_arn(
        "Audit",
        "arn:aws:events:eu-west-1:111122223333:event-bus/audit",
    )
    .unwrap();
    assert!(err(Target::event_bus(
        &bus,
        TargetProps {
            message_group_id: Some("g".into()),
            ..Default::default()
        },
    ))
    .contains("message_group_id applies to SQS FIFO queue targets only"));
    let e = err(Target::sqs(
        &queue,
        TargetProps {
            retry_policy: Some(RetryPolicy {
                max_retries: 186,
                max_event_age: Duration::from_secs(60),
            }),
            ..Default::default()
        },
    ));
    assert!(
        e.contains("max_retries must be from 0 to 185, got 186"),
        "{e}"
    );
    // Refused before the queue policy was touched: it has only its TLS-only statement.
    let t = template(&app, "Events");
    let policy = &resource(&t, "JobsPolicy")["Properties"]["PolicyDocument"];
    assert_eq!(statements(policy).len(), 1, "{policy:#}");
    assert!(resource(&t, "R")["Properties"].get("Targets").is_none());
}

#[test]
fn example_stack_snapshot_and_cfn_lint() {
    let app = example();
    insta::assert_snapshot!(cfnkit::synth::synth(&app)
        .unwrap()
        .stack("Events")
        .unwrap()
        .template
        .to_yaml());
    lint_or_skip(&app);
}
