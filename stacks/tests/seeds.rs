//! Targeted checks of the seed stacks (000-002): the wiring the handlers of `runtime/pipeline-handlers` rely on, and the
//! properties the seeds ask for, read from the synthesized templates.

use serde_json::{json, Value};

fn template(stack: &str) -> Value {
    let app = stacks::app().expect("the platform app builds");
    let assembly = cfnkit::synth::synth(&app).expect("the platform synthesizes");
    let s = assembly
        .stacks
        .iter()
        .find(|s| s.name == stack)
        .unwrap_or_else(|| panic!("no stack {stack}"));
    serde_json::from_str(&s.template.to_json()).unwrap()
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    t["Resources"]
        .get(id)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn env_names(t: &Value, function: &str) -> Vec<String> {
    let mut names: Vec<String> = resource(t, function)["Properties"]["Environment"]["Variables"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn ingest_bucket_is_encrypted_versioned_tls_only_with_lifecycle_toward_silver() {
    let t = template("Ingest");
    let bucket = &resource(&t, "BronzeBucket")["Properties"];
    assert_eq!(
        bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "aws:kms"
    );
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    let rule = &bucket["LifecycleConfiguration"]["Rules"][0];
    assert_eq!(rule["Prefix"], "bronze/");
    let classes: Vec<&Value> = rule["Transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["StorageClass"])
        .collect();
    assert_eq!(classes, [&json!("STANDARD_IA"), &json!("GLACIER_IR")]);
    let policy = resource(&t, "BronzeBucketPolicy").to_string();
    assert!(policy.contains("aws:SecureTransport"), "{policy}");
    assert_eq!(
        env_names(&t, "IngestApi"),
        ["BRONZE_BUCKET", "INGEST_EVENTS_TABLE", "INGEST_QUEUE_URL"]
    );
    // The worker's queue has a DLQ, and an alarm watches it.
    assert!(resource(&t, "IngestQueue")["Properties"]["RedrivePolicy"].is_object());
    let alarm = &resource(&t, "IngestDlqAlarm")["Properties"];
    assert_eq!(alarm["MetricName"], "ApproximateNumberOfMessagesVisible");
    assert!(alarm["AlarmActions"].is_array());
    let route = resource(&t, "IngestHttpApiPOSTEvents");
    assert_eq!(route["Properties"]["RouteKey"], "POST /events");
    assert_eq!(route["Properties"]["AuthorizationType"], "AWS_IAM");
}

#[test]
fn stream_orders_process_from_new_images_with_batch_failures_bisect_and_bounded_retries() {
    let t = template("StreamOrders");
    assert_eq!(
        resource(&t, "StreamOrdersTable")["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_IMAGE"
    );
    let mapping = &resource(&t, "ProcessOrderStreamOrdersTableEventSource")["Properties"];
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    assert_eq!(mapping["MaximumRetryAttempts"], 3);
    assert!(mapping["DestinationConfig"]["OnFailure"]["Destination"].is_object());
    assert_eq!(
        mapping["FilterCriteria"]["Filters"][0]["Pattern"],
        r#"{"eventName":["INSERT"]}"#
    );
    assert_eq!(
        resource(&t, "OrdersHttpApiPOSTOrders")["Properties"]["RouteKey"],
        "POST /orders"
    );
    assert_eq!(
        resource(&t, "OrdersHttpApiPOSTOrdersIntegration")["Properties"]["PayloadFormatVersion"],
        "2.0"
    );
}

#[test]
fn outbox_relay_reaches_every_channel_and_the_secret_rotates_and_is_read_by_its_function() {
    let t = template("Outbox");
    assert_eq!(
        env_names(&t, "Relay"),
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
    assert_eq!(
        resource(&t, "OutboxEventsQueue")["Properties"]["FifoQueue"],
        true
    );
    assert_eq!(
        resource(&t, "OutboxEventsTopic")["Properties"]["FifoTopic"],
        true
    );
    let relay_policy = resource(&t, "RelayServiceRole").to_string();
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
    assert!(t["Resources"].get("RelayOutboxTableEventSource").is_some());
    assert!(t["Resources"]
        .get("RelayRelayRetryQueueEventSource")
        .is_some());
    // The secret rotates with the rotation function, and only the receipt function reads it.
    let schedule = &resource(&t, "ProviderCredentialsRotationSchedule")["Properties"];
    assert_eq!(
        schedule["RotationLambdaARN"]["Fn::GetAtt"][0],
        "ProviderSecretRotation"
    );
    let readers: Vec<&String> = t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, r)| {
            id.ends_with("ServiceRole") && r.to_string().contains("secretsmanager:GetSecretValue")
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        readers,
        ["ProviderSecretRotationServiceRole", "ReceiptServiceRole"]
    );
    assert_eq!(
        env_names(&t, "Receipt"),
        ["PROVIDER_SECRET_ARN", "PUBLISH_LEDGER_TABLE"]
    );
    // A dashboard, and every alarm notifies someone.
    assert!(t["Resources"].get("OutboxDashboard").is_some());
    let alarms: Vec<&Value> = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::CloudWatch::Alarm")
        .collect();
    assert_eq!(alarms.len(), 6);
    assert!(alarms
        .iter()
        .all(|a| a["Properties"]["AlarmActions"].is_array()));
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
    for stack in ["Ingest", "StreamOrders", "Outbox"] {
        let t = template(stack);
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
