//! Base: the platform key, the event bus and the ops alert topic, shared by every other stack.

use cfnkit::fns;
use cfnkit::{App, RawResource, RemovalPolicy, ResourceHandle, TagFormat, Value};
use serde_json::json;

/// What other stacks use from Base.
pub struct Base {
    pub key: ResourceHandle,
    pub bus: ResourceHandle,
    pub ops_topic: ResourceHandle,
}

pub fn stack(app: &App) -> Base {
    let stack = app.stack("Base");
    stack.set_description("Order platform: shared KMS key, event bus and ops alert topic");

    let key_policy = Value::map([
        ("Version", Value::from("2012-10-17")),
        (
            "Statement",
            Value::list([Value::map([
                ("Sid", Value::from("AccountAdministers")),
                ("Effect", Value::from("Allow")),
                (
                    "Principal",
                    Value::map([(
                        "AWS",
                        fns::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root").into_raw(),
                    )]),
                ),
                ("Action", Value::from("kms:*")),
                ("Resource", Value::from("*")),
            ])]),
        ),
    ]);
    let key = stack.add_raw(
        "PlatformKey",
        RawResource::new("AWS::KMS::Key")
            .prop("Description", "Order platform data key")
            .prop("EnableKeyRotation", true)
            .prop("KeyPolicy", key_policy)
            .taggable(TagFormat::LIST),
    );
    key.apply_removal_policy(RemovalPolicy::Retain);

    let bus = stack.add_raw(
        "EventBus",
        RawResource::new("AWS::Events::EventBus")
            .prop("Name", fns::sub("${AWS::StackName}-orders").into_raw())
            .prop("KmsKeyIdentifier", key.get_att::<String>("Arn").into_raw())
            .taggable(TagFormat::LIST),
    );
    let ops_topic = stack.add_raw(
        "OpsAlertTopic",
        RawResource::new("AWS::SNS::Topic")
            .prop("KmsMasterKeyId", key.ref_().into_raw())
            .prop("DisplayName", "Order platform ops alerts")
            .taggable(TagFormat::LIST),
    );
    // Publishing without TLS is refused (checkov, cdk-nag SNS3).
    stack.add_raw(
        "OpsAlertTopicPolicy",
        RawResource::new("AWS::SNS::TopicPolicy")
            .prop("Topics", Value::list([ops_topic.ref_().into_raw()]))
            .prop(
                "PolicyDocument",
                Value::map([
                    ("Version", Value::from("2012-10-17")),
                    (
                        "Statement",
                        Value::list([Value::map([
                            ("Sid", Value::from("DenyInsecureTransport")),
                            ("Effect", Value::from("Deny")),
                            ("Principal", json!({"AWS": "*"}).into()),
                            ("Action", Value::from("sns:Publish")),
                            ("Resource", ops_topic.ref_().into_raw()),
                            ("Condition", json!({"Bool": {"aws:SecureTransport": "false"}}).into()),
                        ])]),
                    ),
                ]),
            ),
    );
    Base {
        key,
        bus,
        ops_topic,
    }
}
