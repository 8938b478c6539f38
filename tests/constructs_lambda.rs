//! Lambda constructs: functions, their role and log group, event sources and their checks.

mod constructs_support;

use cfnkit::constructs::kinesis::Stream;
use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::dynamodb::{Attribute, StreamViewType, Table, TableProps};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{
    Code, DynamoEventSource, Function, FunctionProps, KinesisEventSource, SqsEventSource,
    SqsEventSourceProps, StartingPosition, StreamEventSourceProps, Tracing,
};
use cfnkit::constructs::logs::Retention;
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueProps};
use cfnkit::constructs::{Construct, ConstructError, LambdaTarget};
use cfnkit::{App, Scope};
use constructs_support::*;
use serde_json::json;

fn function(app: &App, props: FunctionProps<'_>) -> Function {
    function_in(&app.stack("Fn").scope(), props)
}

fn function_in(scope: &Scope, props: FunctionProps<'_>) -> Function {
    Function::new(
        scope,
        "Worker",
        Code::cargo_bin("order-handlers", "order-worker"),
        props,
    )
    .unwrap()
}

fn example(app: &App) {
    let s = app.stack("Fn");
    let scope = s.scope();
    let key = Key::new(&scope, "DataKey", KeyProps::default()).unwrap();
    let dlq = Queue::new(
        &scope,
        "WorkerDlq",
        QueueProps {
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )
    .unwrap();
    let orders = Queue::new(
        &scope,
        "Orders",
        QueueProps {
            visibility_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        },
    )
    .unwrap();
    let failures = Queue::new(
        &scope,
        "StreamFailures",
        QueueProps {
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )
    .unwrap();
    let table = Table::new(
        &scope,
        "OrdersTable",
        Attribute::string("pk"),
        TableProps {
            sort_key: Some(Attribute::string("sk")),
            encryption_key: Some(&key),
            stream: Some(StreamViewType::NewImage),
            ..Default::default()
        },
    )
    .unwrap();
    let f = Function::new(
        &scope,
        "Worker",
        Code::asset("order-worker"),
        FunctionProps {
            description: Some("Processes orders".into()),
            environment: BTreeMap::from([("TABLE_NAME".to_owned(), table.table_name())]),
            timeout: Some(Duration::from_secs(10)),
            memory_size: Some(256),
            reserved_concurrency: Some(5),
            dead_letter_queue: Some(&dlq),
            ..Default::default()
        },
    )
    .unwrap();
    table.grant_read_write_data(&f);
    f.add_event_source(SqsEventSource::new(
        &orders,
        SqsEventSourceProps {
            batch_size: Some(20),
            max_batching_window: Some(Duration::from_secs(5)),
            ..Default::default()
        },
    ))
    .unwrap();
    f.add_event_source(DynamoEventSource::new(
        &table,
        StreamEventSourceProps {
            batch_size: Some(50),
            on_failure: Some(&failures),
            ..Default::default()
        },
    ))
    .unwrap();
    Function::new(
        &scope,
        "Reporter",
        Code::s3("my-artifacts", "reporter/v1.zip"),
        FunctionProps {
            function_name: Some("order-reporter".into()),
            tracing: Tracing::Disabled,
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn defaults_are_al2023_arm64_bootstrap_with_tracing_and_an_asset_key() {
    let app = App::new();
    function(&app, FunctionProps::default());
    let t = template(&app, "Fn");
    let p = &resource(&t, "Worker")["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023");
    assert_eq!(p["Architectures"], json!(["arm64"]));
    assert_eq!(p["Handler"], "bootstrap");
    assert_eq!(p["TracingConfig"], json!({"Mode": "Active"}));
    assert_eq!(
        p["Code"],
        json!({
            "S3Bucket": {"Fn::Sub": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}"},
            "S3Key": "assets/order-worker/__CFNKIT_ASSET_HASH__.zip"
        })
    );
    assert_eq!(
        p["Role"],
        json!({"Fn::GetAtt": ["WorkerServiceRole", "Arn"]})
    );
    assert_eq!(
        p["LoggingConfig"],
        json!({"LogGroup": {"Ref": "WorkerLogGroup"}})
    );
    assert_eq!(
        resource(&t, "Worker")["Metadata"]["cfnkit:asset"],
        json!({"architecture": "arm64", "bin": "order-worker", "package": "order-handlers"})
    );
    let lg = resource(&t, "WorkerLogGroup");
    assert_eq!(lg["Properties"]["RetentionInDays"], 365);
}

#[test]
fn the_role_has_only_its_log_permissions_and_xray() {
    let app = App::new();
    function(&app, FunctionProps::default());
    let t = template(&app, "Fn");
    let role = resource(&t, "WorkerServiceRole");
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "lambda.amazonaws.com"})
    );
    assert_eq!(
        role_statements(&t, "WorkerServiceRole"),
        vec![
            json!({
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": {"Fn::GetAtt": ["WorkerLogGroup", "Arn"]}
            }),
            json!({
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*"
            }),
        ]
    );
}

#[test]
fn without_tracing_the_role_only_writes_logs_and_a_fixed_name_names_the_log_group() {
    let app = App::new();
    function(
        &app,
        FunctionProps {
            tracing: Tracing::Disabled,
            function_name: Some("worker".into()),
            ..Default::default()
        },
    );
    let t = template(&app, "Fn");
    let stmts = role_statements(&t, "WorkerServiceRole");
    assert_eq!(stmts.len(), 1);
    assert!(allows(&stmts, "logs:PutLogEvents"));
    assert!(resource(&t, "Worker")["Properties"]
        .get("TracingConfig")
        .is_none());
    assert_eq!(
        resource(&t, "WorkerLogGroup")["Properties"]["LogGroupName"],
        json!({"Fn::Sub": ["/aws/lambda/${Name}", {"Name": "worker"}]})
    );
}

#[test]
fn a_dead_letter_queue_is_configured_and_granted_send() {
    let app = App::new();
    let s = app.stack("Fn");
    let dlq = Queue::new(
        &s.scope(),
        "Dlq",
        QueueProps {
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )
    .unwrap();
    function_in(
        &s.scope(),
        FunctionProps {
            dead_letter_queue: Some(&dlq),
            ..Default::default()
        },
    );
    let t = template(&app, "Fn");
    assert_eq!(
        resource(&t, "Worker")["Properties"]["DeadLetterConfig"],
        json!({"TargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}})
    );
    assert!(allows(
        &role_statements(&t, "WorkerServiceRole"),
        "sqs:SendMessage"
    ));
}

#[test]
fn an_sqs_source_reports_batch_item_failures_and_grants_consume() {
    let app = App::new();
    let s = app.stack("Fn");
    let q = Queue::new(&s.scope(), "Jobs", QueueProps::default()).unwrap();
    let f = function_in(&s.scope(), FunctionProps::default());
    f.add_event_source(SqsEventSource::new(
        &q,
        SqsEventSourceProps {
            batch_size: Some(5),
            ..Default::default()
        },
    ))
    .unwrap();
    let t = template(&app, "Fn");
    let m = resource(&t, "WorkerJobsEventSource");
    assert_eq!(m["Type"], "AWS::Lambda::EventSourceMapping");
    assert_eq!(
        m["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        m["Properties"]["EventSourceArn"],
        json!({"Fn::GetAtt": ["Jobs", "Arn"]})
    );
    assert_eq!(m["Properties"]["FunctionName"], json!({"Ref": "Worker"}));
    assert_eq!(m["Properties"]["BatchSize"], 5);
    assert_eq!(m["DependsOn"], json!(["WorkerServiceRole"]));
    let stmts = role_statements(&t, "WorkerServiceRole");
    assert!(allows(&stmts, "sqs:ReceiveMessage"));
    assert!(allows(&stmts, "sqs:DeleteMessage"));
}

#[test]
fn a_visibility_timeout_under_six_times_the_function_timeout_is_refused() {
    let app = App::new();
    let s = app.stack("Fn");
    let q = Queue::new(&s.scope(), "Jobs", QueueProps::default()).unwrap();
    let f = function_in(
        &s.scope(),
        FunctionProps {
            timeout: Some(Duration::from_secs(30)),
            ..Default::default()
        },
    );
    let e = f
        .add_event_source(SqsEventSource::new(&q, Default::default()))
        .unwrap_err();
    assert!(matches!(e, ConstructError::Conflict { .. }));
    assert_eq!(
        e.to_string(),
        "Fn/Worker: the visibility timeout of queue Fn/Jobs (30 seconds) must be at least 6 times the function \
         timeout (30 seconds): set the queue's visibility_timeout to at least 3 minutes or shorten the \
         function's timeout"
    );
}

#[test]
fn a_table_without_a_stream_cannot_be_a_source() {
    let app = App::new();
    let s = app.stack("Fn");
    let table = Table::new(
        &s.scope(),
        "T",
        Attribute::string("pk"),
        TableProps::default(),
    )
    .unwrap();
    let f = function_in(&s.scope(), FunctionProps::default());
    let e = f
        .add_event_source(DynamoEventSource::new(
            &table,
            StreamEventSourceProps {
                starting_position: StartingPosition::Latest,
                ..Default::default()
            },
        ))
        .unwrap_err();
    assert!(e.to_string().contains("table Fn/T has no stream"), "{e}");
}

#[test]
fn a_dynamodb_stream_source_bisects_limits_retries_and_grants_the_stream_and_key() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Fn");
    let m = &resource(&t, "WorkerOrdersTableEventSource")["Properties"];
    assert_eq!(
        m["EventSourceArn"],
        json!({"Fn::GetAtt": ["OrdersTable", "StreamArn"]})
    );
    assert_eq!(m["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(m["BisectBatchOnFunctionError"], true);
    assert_eq!(m["MaximumRetryAttempts"], 3);
    assert_eq!(
        m["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        m["DestinationConfig"],
        json!({"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamFailures", "Arn"]}}})
    );
    let stmts = role_statements(&t, "WorkerServiceRole");
    assert!(allows(&stmts, "dynamodb:GetRecords"));
    assert!(allows(&stmts, "kms:Decrypt"));
    let stream = stmts
        .iter()
        .find(|s| {
            s["Action"]
                == json!([
                    "dynamodb:DescribeStream",
                    "dynamodb:GetRecords",
                    "dynamodb:GetShardIterator"
                ])
        })
        .expect("stream statement");
    assert_eq!(
        stream["Resource"],
        json!({"Fn::GetAtt": ["OrdersTable", "StreamArn"]})
    );
}

#[test]
fn a_kinesis_source_grants_read_on_the_stream() {
    let app = App::new();
    let f = function(&app, FunctionProps::default());
    let clicks = Stream::from_arn(
        "Clicks",
        "arn:aws:kinesis:us-east-1:111111111111:stream/clicks",
    )
    .unwrap();
    f.add_event_source(KinesisEventSource::new(
        &clicks,
        StreamEventSourceProps {
            starting_position: StartingPosition::Latest,
            ..Default::default()
        },
    ))
    .unwrap();
    let t = template(&app, "Fn");
    let m = &resource(&t, "WorkerClicksEventSource")["Properties"];
    assert_eq!(
        m["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert!(allows(
        &role_statements(&t, "WorkerServiceRole"),
        "kinesis:GetRecords"
    ));
}

#[test]
fn functions_are_lambda_targets_and_have_metrics() {
    let app = App::new();
    let f = function(&app, FunctionProps::default());
    assert_eq!(f.target_id(), "Worker");
    assert_eq!(f.function_arn(), f.handle().attr_arn());
    let m = f.metric_errors();
    assert_eq!(m.namespace(), "AWS/Lambda");
    assert_eq!(m.metric_name(), "Errors");
    assert_eq!(m.dimensions()[0].0, "FunctionName");
    assert_eq!(f.metric_throttles().metric_name(), "Throttles");
    assert_eq!(f.metric_duration().metric_name(), "Duration");
}

#[test]
fn bad_props_are_refused_with_the_value() {
    let app = App::new();
    let s = app.stack("Fn");
    let e = Function::new(
        &s.scope(),
        "F",
        Code::asset("x"),
        FunctionProps {
            timeout: Some(Duration::from_secs(16 * 60)),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Fn/F: timeout must be a whole number of seconds between 1 second and 15 minutes, got 16 minutes"
    );
    let e = Function::new(
        &s.scope(),
        "G",
        Code::asset("x"),
        FunctionProps {
            memory_size: Some(64),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Fn/G: memory_size must be from 128 to 10240 MB, got 64"
    );
}

#[test]
fn props_that_fail_add_nothing_to_the_stack() {
    let app = App::new();
    let s = app.stack("Fn");
    let e = Function::new(
        &s.scope(),
        "H",
        Code::asset("x"),
        FunctionProps {
            log_retention: Retention::days(10),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("Fn/H/LogGroup: retention must be one of 1, 3, 5"),
        "{e}"
    );
    // Checked before the role and the log group were made: the stack is still empty.
    let synth = cfnkit::synth::synth(&app).unwrap_err().to_string();
    assert!(synth.contains("has no resources"), "{synth}");
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Fn");
    insta::assert_snapshot!("lambda_example", serde_json::to_string_pretty(&t).unwrap());
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    lint_or_skip(&app);
}

/// The payload of the queue and of the table, as a handler would declare it.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct OrderMessage {
    order_id: String,
    status: OrderStatus,
    total_cents: u64,
    express: bool,
}

#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum OrderStatus {
    Placed,
    Shipped,
}

#[test]
fn event_source_filters_are_typed_from_the_payload_and_written_as_filter_criteria() {
    use cfnkit::constructs::lambda::{DynamoImage, FilterError, FilterPattern};
    let app = App::new();
    let s = app.stack("Filters");
    let scope = s.scope();
    let queue = Queue::new(
        &scope,
        "Orders",
        QueueProps {
            visibility_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        },
    )
    .unwrap();
    let table = Table::new(
        &scope,
        "OrdersTable",
        Attribute::string("orderId"),
        TableProps {
            stream: Some(StreamViewType::NewImage),
            ..Default::default()
        },
    )
    .unwrap();
    let f = function_in(&scope, FunctionProps::default());
    f.add_event_source(SqsEventSource::new(
        &queue,
        SqsEventSourceProps {
            filters: vec![FilterPattern::sqs_body::<OrderMessage>()
                .equals("status", "Placed")
                .unwrap()
                .equals("express", true)
                .unwrap()],
            ..Default::default()
        },
    ))
    .unwrap();
    f.add_event_source(DynamoEventSource::new(
        &table,
        StreamEventSourceProps {
            filters: vec![
                FilterPattern::dynamodb_image::<OrderMessage>(DynamoImage::New)
                    .event_name(["INSERT"])
                    .equals("status", "Shipped")
                    .unwrap()
                    .numeric("totalCents", ">=", 10_000)
                    .unwrap(),
            ],
            ..Default::default()
        },
    ))
    .unwrap();
    let t = template(&app, "Filters");
    let pattern = |mapping: &str| -> serde_json::Value {
        let criteria = &resource(&t, mapping)["Properties"]["FilterCriteria"];
        let filters = criteria["Filters"].as_array().unwrap();
        assert_eq!(filters.len(), 1, "{criteria}");
        serde_json::from_str(filters[0]["Pattern"].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        pattern("WorkerOrdersEventSource"),
        json!({"body": {"status": ["Placed"], "express": [true]}})
    );
    assert_eq!(
        pattern("WorkerOrdersTableEventSource"),
        json!({
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {
                "status": {"S": ["Shipped"]},
                "totalCents": {"N": [{"numeric": [">=", 10000]}]},
            }}
        })
    );
    lint_or_skip(&app);

    // A field the type does not have, or a value it cannot hold, is refused when the filter is written.
    let e = FilterPattern::sqs_body::<OrderMessage>()
        .equals("state", "Placed")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "OrderMessage has no field `state` (its fields: express, orderId, status, totalCents); filter on one of \
         those"
    );
    let e = FilterPattern::sqs_body::<OrderMessage>()
        .equals("status", "Lost")
        .unwrap_err();
    assert!(matches!(e, FilterError::ValueMismatch { .. }), "{e}");
    assert!(FilterPattern::sqs_body::<OrderMessage>()
        .equals("express", "yes")
        .is_err());
}
