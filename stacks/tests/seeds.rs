//! Targeted checks of the seed stacks (000-002): the wiring the handlers of `runtime/pipeline-handlers` rely on, and the
//! properties the seeds ask for, read from the synthesized templates.

use cfnkit::assertions::{Match, Template, Templates};
use serde_json::{json, Value};

/// The platform's templates, synthesized and checked by the rule pack as `cargo run -- synth` does.
fn templates() -> Templates {
    Templates::from_app(&stacks::app().expect("the platform app builds"))
        .expect("the platform synthesizes cleanly")
}

/// The names of a function's environment variables, sorted.
fn env_names(t: &Template, function: &str) -> Vec<String> {
    let mut names: Vec<String> = t.resource(function)["Properties"]["Environment"]["Variables"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn ingest_bucket_is_encrypted_versioned_tls_only_with_lifecycle_toward_silver() {
    let templates = templates();
    let t = templates.stack("Ingest");
    t.has_resource_with_id(
        "BronzeBucket",
        json!({"Properties": {
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}},
            ]},
            "VersioningConfiguration": {"Status": "Enabled"},
            "LifecycleConfiguration": {"Rules": Match::array_with([json!({
                "Prefix": "bronze/",
                "Transitions": [{"StorageClass": "STANDARD_IA"}, {"StorageClass": "GLACIER_IR"}],
            })])},
        }}),
    );
    t.has_resource_with_id(
        "BronzeBucketPolicy",
        json!({"Properties": {"PolicyDocument": {"Statement": Match::array_with([json!({
            "Effect": "Deny",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        })])}}}),
    );
    assert_eq!(
        env_names(t, "IngestApi"),
        ["BRONZE_BUCKET", "INGEST_EVENTS_TABLE", "INGEST_QUEUE_URL"]
    );
    // The worker's queue has a DLQ, and an alarm watches it.
    t.has_resource_with_id(
        "IngestQueue",
        json!({"Properties": {"RedrivePolicy": Match::object_like(json!({}))}}),
    );
    t.has_resource_with_id(
        "IngestDlqAlarm",
        json!({"Properties": {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "AlarmActions": Match::array_with([Match::any_value()]),
        }}),
    );
    t.has_resource_with_id(
        "IngestHttpApiPOSTEvents",
        json!({"Properties": {"RouteKey": "POST /events", "AuthorizationType": "AWS_IAM"}}),
    );
}

#[test]
fn stream_orders_process_from_new_images_with_batch_failures_bisect_and_bounded_retries() {
    let templates = templates();
    let t = templates.stack("StreamOrders");
    t.has_resource_with_id(
        "StreamOrdersTable",
        json!({"Properties": {"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}}),
    );
    t.has_resource_with_id(
        "ProcessOrderStreamOrdersTableEventSource",
        json!({"Properties": {
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": true,
            "MaximumRetryAttempts": 3,
            "DestinationConfig": {"OnFailure": {"Destination": Match::object_like(json!({}))}},
            "FilterCriteria": {"Filters": [
                {"Pattern": Match::serialized_json(json!({"eventName": ["INSERT"]}))},
            ]},
        }}),
    );
    t.has_resource_with_id(
        "OrdersHttpApiPOSTOrders",
        json!({"Properties": {"RouteKey": "POST /orders"}}),
    );
    t.has_resource_with_id(
        "OrdersHttpApiPOSTOrdersIntegration",
        json!({"Properties": {"PayloadFormatVersion": "2.0"}}),
    );
}

#[test]
fn outbox_relay_reaches_every_channel_and_the_secret_rotates_and_is_read_by_its_function() {
    let templates = templates();
    let t = templates.stack("Outbox");
    assert_eq!(
        env_names(t, "Relay"),
        [
            "OUTBOX_QUEUE_URL",
            "OUTBOX_TABLE",
            "OUTBOX_TOPIC_ARN",
            "PUBLISH_LEDGER_TABLE",
            "RECEIPT_BUCKET",
            "RECEIPT_FUNCTION_NAME",
            "RELAY_LEASE_SECONDS",
            "RETRY_QUEUE_URL"
        ]
    );
    // FIFO queue and topic: the relay's deduplication ids only work there.
    t.has_resource_with_id(
        "OutboxEventsQueue",
        json!({"Properties": {"FifoQueue": true}}),
    );
    t.has_resource_with_id(
        "OutboxEventsTopic",
        json!({"Properties": {"FifoTopic": true}}),
    );
    let relay_policy = t.resource("RelayServiceRole").to_string();
    for action in [
        "sqs:SendMessage",
        "sns:Publish",
        "s3:PutObject",
        "lambda:InvokeFunction",
        "dynamodb:UpdateItem",
        "sqs:ReceiveMessage",
    ] {
        assert!(relay_policy.contains(action), "relay lacks {action}");
    }
    // Fed by the outbox stream and by its retry queue.
    t.resource("RelayOutboxTableEventSource");
    t.resource("RelayRelayRetryQueueEventSource");
    // The secret rotates with the rotation function, and only the receipt function reads it.
    t.has_resource_with_id(
        "ProviderCredentialsRotationSchedule",
        json!({"Properties": {"RotationLambdaARN": {"Fn::GetAtt": ["ProviderSecretRotation", Match::any_value()]}}}),
    );
    let readers: Vec<&str> = t
        .find_resources("AWS::IAM::Role", Match::any_value())
        .into_iter()
        .filter(|(_, r)| r.to_string().contains("secretsmanager:GetSecretValue"))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        readers,
        ["ProviderSecretRotationServiceRole", "ReceiptServiceRole"]
    );
    assert_eq!(
        env_names(t, "Receipt"),
        ["PROVIDER_SECRET_ARN", "PUBLISH_LEDGER_TABLE"]
    );
    // A dashboard, and every alarm notifies someone.
    t.resource("OutboxDashboard");
    t.resource_count_is("AWS::CloudWatch::Alarm", 6);
    let notifying = t.find_resources(
        "AWS::CloudWatch::Alarm",
        json!({"Properties": {"AlarmActions": Match::array_with([Match::any_value()])}}),
    );
    assert_eq!(notifying.len(), 6, "every alarm has an action");
}

/// The seed functions' roles have only the wildcards their scoped IAM5 suppressions name; since `Resource::*` is
/// one item however many actions are granted on `*`, any other action on `*` (or another `*`) fails here.
#[test]
fn seed_roles_have_no_wildcards_beyond_the_suppression_reason() {
    const STAR_RESOURCE_ACTIONS: &[&str] = &[
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "dynamodb:ListStreams",
        "secretsmanager:GetRandomPassword",
    ];
    let templates = templates();
    for stack in ["Ingest", "StreamOrders", "Outbox"] {
        let t = templates.stack(stack).as_value();
        for (id, r) in t["Resources"].as_object().unwrap() {
            if !id.ends_with("ServiceRole") {
                continue;
            }
            for policy in r["Properties"]["Policies"].as_array().into_iter().flatten() {
                for st in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
                    let actions: Vec<&str> = match &st["Action"] {
                        Value::String(a) => vec![a.as_str()],
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        other => panic!("{stack}/{id}: action {other}"),
                    };
                    let resource = st["Resource"].to_string();
                    if st["Resource"] == "*" {
                        assert!(
                            actions.iter().all(|a| STAR_RESOURCE_ACTIONS.contains(a)),
                            "{stack}/{id}: Resource * for {actions:?}"
                        );
                    } else if resource.contains('*') {
                        let named = resource.contains("/index/*")
                            || resource.contains("/bronze/*")
                            || resource.contains("/receipts/*");
                        assert!(named, "{stack}/{id}: wildcard resource {resource}");
                    }
                    // No wildcard action at all: the KMS grants name their actions.
                    assert!(
                        actions.iter().all(|a| !a.contains('*')),
                        "{stack}/{id}: wildcard action in {actions:?}"
                    );
                }
            }
        }
    }
}
