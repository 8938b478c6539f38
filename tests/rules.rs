//! The built-in rule pack: for each rule a bad template is caught and a good one passes; suppressions.

use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::rules::{self, check, Report, RuleInfo};
use cfnkit::rules::{
    APIG1, APIG2, APIG4, APIG6, CFNKIT_CW1, CFNKIT_LOG1, CFNKIT_SQS_VIS, CFNKIT_SUPPRESS,
    CFNKIT_SUPPRESS_STALE, DDB3, EVB1, IAM4, IAM5, KMS5, L1, S1, S10, S2, SNS2, SNS3, SQS2, SQS3,
    SQS4,
};
use cfnkit::synth::{synth, synth_checked, SynthError};
use cfnkit::{fns, App, RawResource, ResourceHandle, Stack, Value};
use serde_json::json;

fn report(app: &App) -> Report {
    check(&synth(app).expect("synth succeeds"))
}

/// The logical IDs on which `rule` fires, suppressed or not.
fn fired(app: &App, rule: &RuleInfo) -> Vec<String> {
    report(app)
        .of_rule(rule)
        .map(|f| format!("{}/{}", f.stack, f.logical_id))
        .collect()
}

fn raw(ty: &str) -> RawResource {
    RawResource::new(ty)
}

/// `{"Fn::GetAtt": [X, "Arn"]}` of a handle.
fn arn(h: &ResourceHandle) -> Value {
    h.get_att::<String>("Arn").into_raw()
}

fn tls_deny(action: &str, resource: Value) -> Value {
    Value::map([
        ("Effect", Value::from("Deny")),
        ("Principal", Value::map([("AWS", "*")])),
        ("Action", Value::from(action)),
        ("Resource", resource),
        (
            "Condition",
            Value::from(json!({"Bool": {"aws:SecureTransport": "false"}})),
        ),
    ])
}

fn document(statements: impl IntoIterator<Item = Value>) -> Value {
    Value::map([
        ("Version", Value::from("2012-10-17")),
        ("Statement", Value::list(statements)),
    ])
}

/// A queue with a dead-letter queue and a TLS-only policy; the DLQ has its policy too.
fn compliant_queue(stack: &Stack, id: &str) -> ResourceHandle {
    let dlq = stack.add_raw(&format!("{id}Dlq"), raw("AWS::SQS::Queue"));
    let q = stack.add_raw(
        id,
        raw("AWS::SQS::Queue").prop(
            "RedrivePolicy",
            Value::map([
                ("deadLetterTargetArn", arn(&dlq)),
                ("maxReceiveCount", Value::from(3)),
            ]),
        ),
    );
    for h in [&q, &dlq] {
        stack.add_raw(
            &format!("{}Policy", h.path().rsplit('/').next().unwrap()),
            raw("AWS::SQS::QueuePolicy")
                .prop("Queues", Value::list([h.ref_().into_raw()]))
                .prop("PolicyDocument", document([tls_deny("sqs:*", arn(h))])),
        );
    }
    q
}

#[test]
fn a_compliant_app_has_no_findings() {
    let app = App::new();
    let s = app.stack("Clean");
    s.add_raw("Key", raw("AWS::KMS::Key").prop("EnableKeyRotation", true));
    compliant_queue(&s, "Jobs");
    let topic = s.add_raw(
        "Topic",
        raw("AWS::SNS::Topic").prop("KmsMasterKeyId", "alias/aws/sns"),
    );
    s.add_raw(
        "TopicPolicy",
        raw("AWS::SNS::TopicPolicy")
            .prop("Topics", Value::list([topic.ref_().into_raw()]))
            .prop(
                "PolicyDocument",
                document([tls_deny("sns:Publish", topic.ref_().into_raw())]),
            ),
    );
    s.add_raw(
        "Logs",
        raw("AWS::Logs::LogGroup").prop("RetentionInDays", 30),
    );
    let r = report(&app);
    assert!(r.findings.is_empty(), "{r}");
    assert_eq!(r.to_string(), "");
}

#[test]
fn kms5_symmetric_keys_rotate() {
    let app = App::new();
    let s = app.stack("Keys");
    s.add_raw(
        "Rotating",
        raw("AWS::KMS::Key").prop("EnableKeyRotation", true),
    );
    s.add_raw("Static", raw("AWS::KMS::Key"));
    s.add_raw("Signing", raw("AWS::KMS::Key").prop("KeySpec", "RSA_2048"));
    assert_eq!(fired(&app, &KMS5), ["Keys/Static"]);
}

#[test]
fn sqs2_queues_are_encrypted() {
    let app = App::new();
    let s = app.stack("Queues");
    s.add_raw("SqsManaged", raw("AWS::SQS::Queue"));
    s.add_raw(
        "Kms",
        raw("AWS::SQS::Queue")
            .prop("KmsMasterKeyId", "alias/aws/sqs")
            .prop("SqsManagedSseEnabled", false),
    );
    s.add_raw(
        "Plain",
        raw("AWS::SQS::Queue").prop("SqsManagedSseEnabled", false),
    );
    assert_eq!(fired(&app, &SQS2), ["Queues/Plain"]);
}

#[test]
fn sqs3_queues_have_a_dead_letter_queue_or_are_one() {
    let app = App::new();
    let s = app.stack("Inventory");
    compliant_queue(&s, "Good");
    s.add_raw("InventoryQueue", raw("AWS::SQS::Queue"));
    // A DLQ of an EventBridge target is a dead-letter queue too.
    let target_dlq = s.add_raw("TargetDlq", raw("AWS::SQS::Queue"));
    s.add_raw(
        "Rule",
        raw("AWS::Events::Rule").prop(
            "Targets",
            Value::list([Value::map([
                ("Id", Value::from("t")),
                ("Arn", Value::from("arn:aws:sqs:eu-west-1:111111111111:x")),
                ("DeadLetterConfig", Value::map([("Arn", arn(&target_dlq))])),
            ])]),
        ),
    );
    assert_eq!(fired(&app, &SQS3), ["Inventory/InventoryQueue"]);

    let r = report(&app);
    let line = r.of_rule(&SQS3).next().unwrap().to_string();
    assert!(
        line.starts_with(
            "error[SQS3] stack Inventory, Inventory/InventoryQueue (InventoryQueue): the queue has no dead-letter queue"
        ),
        "{line}"
    );
    assert!(
        line.contains("Fix: set QueueProps.dead_letter: DeadLetter::Create")
            && line.contains("set RedrivePolicy"),
        "{line}"
    );
}

#[test]
fn sqs3_a_dead_letter_queue_in_another_stack_counts() {
    let app = App::new();
    let shared = app.stack("Shared");
    let dlq = shared.add_raw("Dlq", raw("AWS::SQS::Queue"));
    let consumer = app.stack("Consumer");
    consumer.add_raw(
        "Work",
        raw("AWS::SQS::Queue").prop(
            "RedrivePolicy",
            Value::map([
                ("deadLetterTargetArn", arn(&dlq)),
                ("maxReceiveCount", Value::from(3)),
            ]),
        ),
    );
    // The reference became an export of Shared and an Fn::ImportValue in Consumer.
    let assembly = synth(&app).unwrap();
    let template = assembly.stack("Consumer").unwrap().template.to_json();
    assert!(template.contains("Fn::ImportValue"), "{template}");
    assert!(check(&assembly).of_rule(&SQS3).next().is_none());
}

#[test]
fn sqs4_queue_policy_requires_tls() {
    let app = App::new();
    let s = app.stack("Queues");
    compliant_queue(&s, "Good");
    let open = s.add_raw("Open", raw("AWS::SQS::Queue"));
    // A policy that allows, rather than denies plain requests, does not count.
    s.add_raw(
        "OpenPolicy",
        raw("AWS::SQS::QueuePolicy")
            .prop("Queues", Value::list([open.ref_().into_raw()]))
            .prop(
                "PolicyDocument",
                document([Value::from(json!({
                    "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": "*"
                }))]),
            ),
    );
    s.add_raw("NoPolicy", raw("AWS::SQS::Queue"));
    assert_eq!(fired(&app, &SQS4), ["Queues/NoPolicy", "Queues/Open"]);
}

#[test]
fn sqs_visibility_timeout_covers_six_function_timeouts() {
    let app = App::new();
    let s = app.stack("Workers");
    let function = |id: &str, timeout: i64| {
        s.add_raw(
            id,
            raw("AWS::Lambda::Function")
                .prop("Runtime", "provided.al2023")
                .prop("Timeout", timeout),
        )
    };
    let slow = function("Slow", 10);
    let fast = function("Fast", 5);
    let q1 = compliant_queue(&s, "SlowQueue");
    let q2 = compliant_queue(&s, "FastQueue");
    for (id, q, f) in [("SlowSource", &q1, &slow), ("FastSource", &q2, &fast)] {
        s.add_raw(
            id,
            raw("AWS::Lambda::EventSourceMapping")
                .prop("EventSourceArn", arn(q))
                .prop("FunctionName", f.ref_().into_raw()),
        );
    }
    assert_eq!(fired(&app, &CFNKIT_SQS_VIS), ["Workers/SlowQueue"]);
    let r = report(&app);
    let f = r.of_rule(&CFNKIT_SQS_VIS).next().unwrap();
    assert!(
        f.message
            .contains("(30 s) is less than 6x the 10 s timeout of function Workers/Slow"),
        "{f}"
    );
    assert!(
        f.fix.contains(
            "QueueProps.visibility_timeout (VisibilityTimeout on a raw queue) to at least 60 s"
        ),
        "{f}"
    );
}

#[test]
fn sns2_and_sns3_topics_are_encrypted_and_require_tls() {
    let app = App::new();
    let s = app.stack("Topics");
    let good = s.add_raw(
        "Good",
        raw("AWS::SNS::Topic").prop("KmsMasterKeyId", "alias/aws/sns"),
    );
    s.add_raw(
        "GoodPolicy",
        raw("AWS::SNS::TopicPolicy")
            .prop("Topics", Value::list([good.ref_().into_raw()]))
            .prop(
                "PolicyDocument",
                document([tls_deny("sns:Publish", good.ref_().into_raw())]),
            ),
    );
    s.add_raw("Bare", raw("AWS::SNS::Topic"));
    assert_eq!(fired(&app, &SNS2), ["Topics/Bare"]);
    assert_eq!(fired(&app, &SNS3), ["Topics/Bare"]);
}

#[test]
fn ddb3_tables_have_point_in_time_recovery_and_it_is_a_warning() {
    let app = App::new();
    let s = app.stack("Data");
    s.add_raw(
        "Recoverable",
        raw("AWS::DynamoDB::Table").prop(
            "PointInTimeRecoverySpecification",
            json!({"PointInTimeRecoveryEnabled": true}),
        ),
    );
    s.add_raw("Unrecoverable", raw("AWS::DynamoDB::Table"));
    assert_eq!(fired(&app, &DDB3), ["Data/Unrecoverable"]);
    let r = report(&app);
    assert!(!r.has_errors(), "{r}");
    assert!(
        r.to_string()
            .starts_with("warning[DDB3] stack Data, Data/Unrecoverable"),
        "{r}"
    );
}

#[test]
fn l1_functions_use_the_latest_runtime() {
    let app = App::new();
    let s = app.stack("Functions");
    for (id, runtime) in [
        ("Current", "provided.al2023"),
        ("OldOs", "provided.al2"),
        ("OldPython", "python3.9"),
        ("Node", "nodejs22.x"),
    ] {
        s.add_raw(id, raw("AWS::Lambda::Function").prop("Runtime", runtime));
    }
    s.add_raw(
        "Container",
        raw("AWS::Lambda::Function").prop("PackageType", "Image"),
    );
    assert_eq!(fired(&app, &L1), ["Functions/OldOs", "Functions/OldPython"]);
}

#[test]
fn iam4_no_aws_managed_policies() {
    let app = App::new();
    let s = app.stack("Iam");
    s.add_raw("Plain", raw("AWS::IAM::Role"));
    s.add_raw(
        "Managed",
        raw("AWS::IAM::Role").prop(
            "ManagedPolicyArns",
            Value::list([fns::sub(
                "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            )
            .into_raw()]),
        ),
    );
    s.add_raw(
        "Customer",
        raw("AWS::IAM::Role").prop(
            "ManagedPolicyArns",
            Value::list(["arn:aws:iam::111111111111:policy/Mine"]),
        ),
    );
    assert_eq!(fired(&app, &IAM4), ["Iam/Managed"]);
    // Items in cdk-nag's notation: `${AWS::Partition}` of the `Fn::Sub` is written `<AWS::Partition>`.
    assert_eq!(
        report(&app).of_rule(&IAM4).next().unwrap().items,
        ["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
    );
}

#[test]
fn iam5_no_wildcards_in_actions_or_resources() {
    let app = App::new();
    let s = app.stack("Iam");
    let table = s.add_raw("Table", raw("AWS::DynamoDB::Table"));
    let policy = |actions: Value, resource: Value| {
        raw("AWS::IAM::Policy").prop("PolicyName", "p").prop(
            "PolicyDocument",
            document([Value::map([
                ("Effect", Value::from("Allow")),
                ("Action", actions),
                ("Resource", resource),
            ])]),
        )
    };
    s.add_raw(
        "Scoped",
        policy(Value::list(["dynamodb:GetItem"]), arn(&table)),
    );
    s.add_raw("StarAction", policy(Value::from("dynamodb:*"), arn(&table)));
    s.add_raw(
        "StarResource",
        policy(
            Value::from("dynamodb:Query"),
            fns::join("", vec![table.get_att::<String>("Arn"), "/index/*".into()]).into_raw(),
        ),
    );
    s.add_raw(
        "Inline",
        raw("AWS::IAM::Role").prop(
            "Policies",
            Value::list([Value::map([
                ("PolicyName", Value::from("all")),
                (
                    "PolicyDocument",
                    document([Value::from(
                        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
                    )]),
                ),
            ])]),
        ),
    );
    // A deny with a wildcard narrows permissions; it is not flagged.
    s.add_raw(
        "DenyAll",
        raw("AWS::IAM::Policy").prop("PolicyName", "d").prop(
            "PolicyDocument",
            document([Value::from(
                json!({"Effect": "Deny", "Action": "*", "Resource": "*"}),
            )]),
        ),
    );
    assert_eq!(
        fired(&app, &IAM5),
        ["Iam/Inline", "Iam/StarAction", "Iam/StarResource"]
    );
    let r = report(&app);
    let messages: Vec<&str> = r.of_rule(&IAM5).map(|f| f.message.as_str()).collect();
    assert!(messages[1].contains("Action::dynamodb:*"), "{messages:?}");
    assert!(
        messages[2].contains("Resource::<Table.Arn>/index/*"),
        "{messages:?}"
    );
}

/// Issue #13: a default Function's role fails IAM5 for X-Ray's `Resource::*`; the finding names the actions and
/// the fix names the construct's way out, and a `Resource::*` for other actions gets the general fix.
#[test]
fn iam5_names_what_a_resource_wildcard_is_for_and_the_construct_fix() {
    let app = App::new();
    let s = app.stack("Fns");
    Function::new(
        &s.scope(),
        "Worker",
        Code::asset("order-worker"),
        FunctionProps::default(),
    )
    .unwrap();
    let r = report(&app);
    let iam5: Vec<_> = r.of_rule(&IAM5).collect();
    assert_eq!(iam5.len(), 1, "{r}");
    let finding = iam5[0];
    assert_eq!(finding.logical_id, "WorkerServiceRole", "{finding}");
    assert_eq!(
        finding.message,
        "the policy has wildcard permissions: Resource::* (for xray:PutTraceSegments, xray:PutTelemetryRecords)."
    );
    assert!(
        finding
            .fix
            .starts_with("X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords accept only")
            && finding.fix.contains("FunctionProps.tracing")
            && finding
                .fix
                .contains("rules::suppress_only(function.role().handle(), &rules::IAM5"),
        "{finding}"
    );

    // The same item granted for another action too: the note lists every action, and the fix is the general one.
    let app = App::new();
    let s = app.stack("Iam");
    s.add_raw(
        "Mixed",
        raw("AWS::IAM::Policy").prop("PolicyName", "p").prop(
            "PolicyDocument",
            document([
                Value::from(json!({"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"})),
                Value::from(json!({"Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"})),
            ]),
        ),
    );
    let r = report(&app);
    let finding = r.of_rule(&IAM5).next().unwrap();
    assert!(
        finding
            .message
            .ends_with("Resource::* (for xray:PutTraceSegments, dynamodb:ListStreams)."),
        "{finding}"
    );
    assert!(
        finding
            .fix
            .starts_with("name the actions and resource ARNs"),
        "{finding}"
    );
}

#[test]
fn a_partly_covered_finding_gives_the_fix_of_the_items_left() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, true);
    // X-Ray's `Resource::*` has advice of its own; once it is covered, the fix is about what is left.
    let r = report(&app);
    let all = r.of_rule(&IAM5).next().unwrap();
    assert!(
        all.fix.starts_with("X-Ray's ")
            && all.fix.contains(" For the other items: name the actions"),
        "{all}"
    );
    rules::suppress_only(&p, &IAM5, &["Resource::*"], "X-Ray accepts only *");
    let r = report(&app);
    let left = r.of_rule(&IAM5).next().unwrap();
    assert_eq!(
        left.items,
        ["Resource::<Table.Arn>/index/*", "Action::s3:*"]
    );
    assert!(!left.fix.contains("X-Ray"), "{left}");
    assert!(
        left.message.starts_with(
            "the policy has wildcard permissions: Resource::<Table.Arn>/index/* (for dynamodb:Query), Action::s3:* \
             (not covered"
        ),
        "{left}"
    );
}

fn bucket_policy(s: &Stack, id: &str, bucket: &ResourceHandle, resources: Value) {
    s.add_raw(
        id,
        raw("AWS::S3::BucketPolicy")
            .prop("Bucket", bucket.ref_().into_raw())
            .prop("PolicyDocument", document([tls_deny("s3:*", resources)])),
    );
}

#[test]
fn s1_s2_s10_buckets_log_block_public_access_and_require_tls() {
    let app = App::new();
    let s = app.stack("Storage");
    let logs = s.add_raw(
        "Logs",
        raw("AWS::S3::Bucket").prop(
            "PublicAccessBlockConfiguration",
            json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}),
        ),
    );
    let good = s.add_raw(
        "Good",
        raw("AWS::S3::Bucket")
            .prop(
                "PublicAccessBlockConfiguration",
                json!({"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}),
            )
            .prop(
                "LoggingConfiguration",
                Value::map([("DestinationBucketName", logs.ref_().into_raw())]),
            ),
    );
    for (id, b) in [("LogsPolicy", &logs), ("GoodPolicy", &good)] {
        bucket_policy(
            &s,
            id,
            b,
            Value::list([
                arn(b),
                fns::sub(format!(
                    "${{{}.Arn}}/*",
                    b.path().rsplit('/').next().unwrap()
                ))
                .into_raw(),
            ]),
        );
    }
    let partial = s.add_raw(
        "Partial",
        raw("AWS::S3::Bucket").prop(
            "PublicAccessBlockConfiguration",
            json!({"BlockPublicAcls": true}),
        ),
    );
    // The deny covers the bucket but not its objects.
    bucket_policy(&s, "PartialPolicy", &partial, Value::list([arn(&partial)]));
    // The log destination (Logs) needs no access logs of its own.
    assert_eq!(fired(&app, &S1), ["Storage/Partial"]);
    assert_eq!(fired(&app, &S2), ["Storage/Partial"]);
    assert_eq!(fired(&app, &S10), ["Storage/Partial"]);
}

#[test]
fn apigateway_logging_validation_and_authorization() {
    let app = App::new();
    let s = app.stack("Api");
    let validated = s.add_raw(
        "Validated",
        raw("AWS::ApiGateway::RestApi").prop("Name", "v"),
    );
    s.add_raw(
        "Validator",
        raw("AWS::ApiGateway::RequestValidator")
            .prop("RestApiId", validated.ref_().into_raw())
            .prop("ValidateRequestBody", true),
    );
    s.add_raw(
        "Unvalidated",
        raw("AWS::ApiGateway::RestApi").prop("Name", "u"),
    );
    let log_group = s.add_raw(
        "AccessLogs",
        raw("AWS::Logs::LogGroup").prop("RetentionInDays", 30),
    );
    s.add_raw(
        "LoggedStage",
        raw("AWS::ApiGateway::Stage")
            .prop("RestApiId", validated.ref_().into_raw())
            .prop(
                "AccessLogSetting",
                Value::map([
                    ("DestinationArn", arn(&log_group)),
                    ("Format", Value::from("$context.requestId")),
                ]),
            )
            .prop(
                "MethodSettings",
                json!([{"HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "ERROR"}]),
            ),
    );
    s.add_raw(
        "SilentStage",
        raw("AWS::ApiGateway::Stage")
            .prop("RestApiId", validated.ref_().into_raw())
            .prop(
                "MethodSettings",
                json!([{"HttpMethod": "*", "ResourcePath": "/*", "MetricsEnabled": true}]),
            ),
    );
    s.add_raw(
        "HttpStage",
        raw("AWS::ApiGatewayV2::Stage").prop("ApiId", "abc"),
    );
    let method = |auth: Option<&str>, verb: &str| {
        let m = raw("AWS::ApiGateway::Method")
            .prop("RestApiId", validated.ref_().into_raw())
            .prop("HttpMethod", verb);
        match auth {
            Some(a) => m.prop("AuthorizationType", a),
            None => m,
        }
    };
    s.add_raw("IamMethod", method(Some("AWS_IAM"), "POST"));
    s.add_raw("OpenMethod", method(Some("NONE"), "GET"));
    s.add_raw("DefaultMethod", method(None, "PUT"));
    s.add_raw("Preflight", method(Some("NONE"), "OPTIONS"));
    s.add_raw(
        "JwtRoute",
        raw("AWS::ApiGatewayV2::Route").prop("AuthorizationType", "JWT"),
    );
    s.add_raw("OpenRoute", raw("AWS::ApiGatewayV2::Route"));
    assert_eq!(fired(&app, &APIG1), ["Api/HttpStage", "Api/SilentStage"]);
    assert_eq!(fired(&app, &APIG2), ["Api/Unvalidated"]);
    assert_eq!(
        fired(&app, &APIG4),
        // An open OPTIONS method needs a reason like any other (cfnkit's CORS preflights carry one).
        [
            "Api/DefaultMethod",
            "Api/OpenMethod",
            "Api/OpenRoute",
            "Api/Preflight"
        ]
    );
    assert_eq!(fired(&app, &APIG6), ["Api/SilentStage"]);
}

#[test]
fn evb1_event_bus_policies_do_not_allow_anyone() {
    let app = App::new();
    let s = app.stack("Events");
    let bus = s.add_raw("Bus", raw("AWS::Events::EventBus").prop("Name", "b"));
    let policy = |statement: serde_json::Value| {
        raw("AWS::Events::EventBusPolicy")
            .prop("EventBusName", bus.ref_().into_raw())
            .prop("StatementId", "s")
            .prop("Statement", statement)
    };
    s.add_raw(
        "OpenStatement",
        policy(json!({"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": "*"})),
    );
    s.add_raw(
        "OrgOnly",
        policy(json!({"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": "*",
                      "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-123"}}})),
    );
    s.add_raw(
        "OpenPrincipal",
        raw("AWS::Events::EventBusPolicy")
            .prop("StatementId", "p")
            .prop("Action", "events:PutEvents")
            .prop("Principal", "*"),
    );
    s.add_raw(
        "Account",
        raw("AWS::Events::EventBusPolicy")
            .prop("StatementId", "a")
            .prop("Action", "events:PutEvents")
            .prop("Principal", "111111111111"),
    );
    assert_eq!(
        fired(&app, &EVB1),
        ["Events/OpenPrincipal", "Events/OpenStatement"]
    );
}

#[test]
fn log_groups_have_retention_and_alarms_have_actions() {
    let app = App::new();
    let s = app.stack("Ops");
    s.add_raw(
        "Kept",
        raw("AWS::Logs::LogGroup").prop("RetentionInDays", 14),
    );
    s.add_raw("Forever", raw("AWS::Logs::LogGroup"));
    let alarm = |actions: Value| {
        raw("AWS::CloudWatch::Alarm")
            .prop("MetricName", "Errors")
            .prop("AlarmActions", actions)
    };
    s.add_raw(
        "Paging",
        alarm(Value::list(["arn:aws:sns:eu-west-1:111111111111:ops"])),
    );
    s.add_raw("Silent", alarm(Value::list(Vec::<Value>::new())));
    s.add_raw(
        "Unwired",
        raw("AWS::CloudWatch::Alarm").prop("MetricName", "Errors"),
    );
    assert_eq!(fired(&app, &CFNKIT_LOG1), ["Ops/Forever"]);
    assert_eq!(fired(&app, &CFNKIT_CW1), ["Ops/Silent", "Ops/Unwired"]);
}

/// Issue #13: a fix names the construct option or method that fixes the finding, not only the template property
/// (the rule pack cannot tell a construct's resource from a raw one, so it says both).
#[test]
fn every_fix_names_the_construct_api_that_fixes_it() {
    let app = App::new();
    let s = app.stack("All");
    s.add_raw("Key", raw("AWS::KMS::Key"));
    s.add_raw(
        "Queue",
        raw("AWS::SQS::Queue").prop("SqsManagedSseEnabled", false),
    );
    s.add_raw("Topic", raw("AWS::SNS::Topic"));
    s.add_raw("Table", raw("AWS::DynamoDB::Table"));
    s.add_raw(
        "Fn",
        raw("AWS::Lambda::Function").prop("Runtime", "python3.9"),
    );
    s.add_raw("Bucket", raw("AWS::S3::Bucket"));
    s.add_raw("Api", raw("AWS::ApiGateway::RestApi").prop("Name", "a"));
    s.add_raw(
        "Stage",
        raw("AWS::ApiGateway::Stage").prop("RestApiId", "x"),
    );
    s.add_raw(
        "HttpStage",
        raw("AWS::ApiGatewayV2::Stage").prop("ApiId", "x"),
    );
    s.add_raw(
        "Method",
        raw("AWS::ApiGateway::Method")
            .prop("HttpMethod", "GET")
            .prop("AuthorizationType", "NONE"),
    );
    s.add_raw("Route", raw("AWS::ApiGatewayV2::Route"));
    s.add_raw("Logs", raw("AWS::Logs::LogGroup"));
    s.add_raw(
        "Alarm",
        raw("AWS::CloudWatch::Alarm").prop("MetricName", "Errors"),
    );
    s.add_raw(
        "OpenBus",
        raw("AWS::Events::EventBusPolicy")
            .prop("StatementId", "p")
            .prop("Action", "events:PutEvents")
            .prop("Principal", "*"),
    );
    s.add_raw(
        "Role",
        raw("AWS::IAM::Role").prop(
            "ManagedPolicyArns",
            Value::list(["arn:aws:iam::aws:policy/AdministratorAccess"]),
        ),
    );
    let expected: &[(&RuleInfo, &str, &str)] = &[
        (&KMS5, "Key", "KeyProps.enable_key_rotation"),
        (&SQS2, "Queue", "QueueProps.encryption"),
        (&SQS3, "Queue", "QueueProps.dead_letter"),
        (&SQS4, "Queue", "QueueProps.enforce_ssl"),
        (&SNS2, "Topic", "TopicProps.master_key"),
        (&SNS3, "Topic", "TopicProps.enforce_ssl"),
        (&DDB3, "Table", "TableProps.point_in_time_recovery"),
        (&L1, "Fn", "FunctionProps.runtime"),
        (&S1, "Bucket", "BucketProps.server_access_logs"),
        (&S2, "Bucket", "cfnkit's Bucket blocks all public access"),
        (&S10, "Bucket", "BucketProps.enforce_ssl"),
        (&APIG2, "Api", "MethodOptions.validate_request"),
        (&APIG1, "Stage", "RestApiProps.access_log_format"),
        (&APIG6, "Stage", "RestApiProps.logging_level"),
        (&APIG1, "HttpStage", "HttpApiProps.access_log_format"),
        (&APIG4, "Method", "`method.allow_unauthenticated(reason)`"),
        (&APIG4, "Route", "`route.allow_unauthenticated(reason)`"),
        (&CFNKIT_LOG1, "Logs", "LogGroupProps.retention"),
        (&CFNKIT_CW1, "Alarm", "`alarm.add_alarm_action(&topic)`"),
        (&EVB1, "OpenBus", "`bus.grant_put_events(&role)`"),
        (&IAM4, "Role", "RoleProps.managed_policy_arns"),
    ];
    let r = report(&app);
    for (rule, id, api) in expected {
        let f = r
            .of_rule(rule)
            .find(|f| f.logical_id == *id)
            .unwrap_or_else(|| panic!("{rule} does not fire on {id}: {r}"));
        assert!(f.fix.contains(api), "{rule} on {id} should name {api}: {f}");
    }
    // Every rule of the pack is covered here, or by a test of its own (IAM5, the visibility timeout) or is about
    // suppressions.
    let covered: Vec<&RuleInfo> = expected.iter().map(|(rule, _, _)| *rule).collect();
    for rule in rules::RULES {
        let elsewhere = [
            &IAM5,
            &CFNKIT_SQS_VIS,
            &CFNKIT_SUPPRESS,
            &CFNKIT_SUPPRESS_STALE,
        ];
        assert!(
            covered.contains(&rule) || elsewhere.contains(&rule),
            "{rule}: add its construct fix here"
        );
    }
}

#[test]
fn a_suppression_with_a_reason_is_shown_and_does_not_fail() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = s.add_raw(
        "ListObjects",
        raw("AWS::IAM::Policy").prop("PolicyName", "p").prop(
            "PolicyDocument",
            document([Value::from(
                json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}),
            )]),
        ),
    );
    // An entry already in the metadata (here in cdk-nag's spelling of the id, as a template ported from CDK has
    // it) is kept.
    p.add_metadata(
        "cfnkit",
        Value::from(json!({"suppress": [
            {"id": "AwsSolutions-IAM4", "reason": "not an identity, kept to show entries merge"}
        ]})),
    );
    rules::suppress(
        &p,
        &IAM5,
        "ListBucket on every bucket is what the audit job needs",
    );
    let r = report(&app);
    assert!(!r.has_errors(), "{r}");
    let template = synth(&app)
        .unwrap()
        .stack("Iam")
        .unwrap()
        .template
        .to_json();
    assert!(
        template.contains("AwsSolutions-IAM4") && template.contains("\"IAM5\""),
        "{template}"
    );
    insta::assert_snapshot!("suppressed", r.to_string());
    // What synth prints: the suppressed finding counted, its line only with --show-suppressed.
    let brief = r.summary(false);
    assert!(!brief.contains("suppressed[IAM5]"), "{brief}");
    assert!(
        brief.ends_with("1 suppressed (--show-suppressed lists them with their reasons)\n"),
        "{brief}"
    );
    assert_eq!(r.summary(true), r.to_string());
}

#[test]
fn a_suppression_without_a_reason_is_an_error_and_suppresses_nothing() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = s.add_raw(
        "ListObjects",
        raw("AWS::IAM::Policy").prop("PolicyName", "p").prop(
            "PolicyDocument",
            document([Value::from(
                json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}),
            )]),
        ),
    );
    p.add_metadata(
        "cfnkit",
        Value::from(json!({"suppress": [{"id": "IAM5", "reason": "  "}, {"id": "IAM55", "reason": "typo"}]})),
    );
    let r = report(&app);
    assert!(r.has_errors());
    insta::assert_snapshot!("unreasoned", r.to_string());
}

#[test]
fn synth_checked_fails_on_errors_and_lets_warnings_through() {
    let app = App::new();
    app.stack("Ops")
        .add_raw("Forever", raw("AWS::Logs::LogGroup"));
    let err = synth_checked(&app).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(
            "the rule pack found 1 error(s):\nerror[CFNKIT-LOG1] stack Ops, Ops/Forever (Forever)"
        ),
        "{message}"
    );
    let SynthError::Rules(report) = err else {
        panic!("a rule pack error: {message}")
    };
    assert_eq!(report.errors().count(), 1);

    let app = App::new();
    app.stack("Data")
        .add_raw("Table", raw("AWS::DynamoDB::Table"));
    let checked = synth_checked(&app).unwrap();
    assert!(checked.assembly().stack("Data").is_some());
    let printed = checked.report().summary(false);
    assert!(printed.starts_with("warning[DDB3]"), "{printed}");
}

/// A policy granting X-Ray's `Resource::*` and the indexes of a table (`Resource::<Table.Arn>/index/*`), plus
/// `s3:*` when `with_s3`.
fn wildcard_policy(s: &Stack, with_s3: bool) -> ResourceHandle {
    let table = s.add_raw(
        "Table",
        raw("AWS::DynamoDB::Table").prop(
            "PointInTimeRecoverySpecification",
            Value::from(json!({"PointInTimeRecoveryEnabled": true})),
        ),
    );
    let mut statements = vec![
        Value::from(
            json!({"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}),
        ),
        Value::map([
            ("Effect", Value::from("Allow")),
            ("Action", Value::from("dynamodb:Query")),
            (
                "Resource",
                fns::join("", vec![table.get_att::<String>("Arn"), "/index/*".into()]).into_raw(),
            ),
        ]),
    ];
    if with_s3 {
        statements.push(Value::from(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::logs"}),
        ));
    }
    s.add_raw(
        "FnPolicy",
        raw("AWS::IAM::Policy")
            .prop("PolicyName", "p")
            .prop("PolicyDocument", document(statements)),
    )
}

#[test]
fn iam5_findings_list_their_wildcards_as_items() {
    let app = App::new();
    let s = app.stack("Iam");
    wildcard_policy(&s, true);
    let r = report(&app);
    let f = r.of_rule(&IAM5).next().unwrap();
    assert_eq!(
        f.items,
        [
            "Resource::*",
            "Resource::<Table.Arn>/index/*",
            "Action::s3:*"
        ]
    );
}

#[test]
fn applies_to_covering_every_item_suppresses_with_the_reasons_that_cover() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, false);
    rules::suppress_only(&p, &IAM5, &["Resource::*"], "X-Ray accepts only *");
    rules::suppress_only_matching(
        &p,
        &IAM5,
        &[r"/^Resource::<\w+\.Arn>\/index\/\*$/"],
        "own indexes",
    );
    let r = report(&app);
    assert!(!r.has_errors(), "{r}");
    assert_eq!(r.warnings().count(), 0, "{r}");
    let f = r.of_rule(&IAM5).next().unwrap();
    assert_eq!(
        f.suppressed.as_deref(),
        Some("X-Ray accepts only *; own indexes")
    );
}

#[test]
fn applies_to_covering_some_items_leaves_an_error_naming_the_rest() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, true);
    rules::suppress_only(
        &p,
        &IAM5,
        &["Resource::*", "Resource::<Table.Arn>/index/*"],
        "X-Ray; own indexes",
    );
    let r = report(&app);
    let errors: Vec<_> = r.errors().collect();
    assert_eq!(errors.len(), 1, "{r}");
    assert_eq!(errors[0].items, ["Action::s3:*"]);
    assert!(!errors[0].message.contains("Resource::*"), "{r}");
    insta::assert_snapshot!("applies_to_partial", r.to_string());
}

#[test]
fn an_applies_to_item_the_resource_lacks_is_a_stale_warning() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, false);
    rules::suppress_only(
        &p,
        &IAM5,
        &[
            "Resource::*",
            "Resource::<Table.Arn>/index/*",
            "Action::s3:*",
        ],
        "X-Ray, indexes and a bucket grant that was removed",
    );
    let r = report(&app);
    assert!(!r.has_errors(), "{r}");
    let stale: Vec<_> = r.of_rule(&CFNKIT_SUPPRESS_STALE).collect();
    assert_eq!(stale.len(), 1, "{r}");
    assert!(stale[0].message.contains("applies to Action::s3:*"), "{r}");
    assert_eq!(r.warnings().count(), 1, "{r}");
    assert_eq!(r.suppressed().count(), 1, "{r}");
}

#[test]
fn iam4_applies_to_names_the_managed_policy() {
    let app = App::new();
    let s = app.stack("Iam");
    let role = s.add_raw(
        "Managed",
        raw("AWS::IAM::Role").prop(
            "ManagedPolicyArns",
            Value::list([
                Value::from("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
                Value::from("arn:aws:iam::aws:policy/AdministratorAccess"),
            ]),
        ),
    );
    rules::suppress_only(
        &role,
        &IAM4,
        &["Policy::arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
        "EKS requires it",
    );
    let r = report(&app);
    let f = r
        .errors()
        .next()
        .expect("AdministratorAccess is not covered");
    assert_eq!(
        f.items,
        ["Policy::arn:aws:iam::aws:policy/AdministratorAccess"]
    );
}

#[test]
fn malformed_applies_to_is_an_error_and_suppresses_nothing() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, false);
    p.add_metadata(
        "cfnkit",
        Value::from(json!({"suppress": [
            {"id": "IAM5", "reason": "bad regex", "appliesTo": [{"regex": "/(unclosed/"}]},
            {"id": "IAM5", "reason": "no slashes", "appliesTo": [{"regex": "Resource::*"}]},
            {"id": "IAM5", "reason": "not a list", "appliesTo": "Resource::*"},
            {"id": "IAM5", "reason": "empty", "appliesTo": []},
        ]})),
    );
    let r = report(&app);
    let problems: Vec<&str> = r
        .of_rule(&CFNKIT_SUPPRESS)
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(problems.len(), 4, "{r}");
    assert!(r.of_rule(&IAM5).next().unwrap().is_error(), "{r}");
}

#[test]
fn a_whole_rule_suppression_still_covers_every_item() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, true);
    rules::suppress(&p, &IAM5, "reviewed");
    let r = report(&app);
    assert!(!r.has_errors(), "{r}");
    assert_eq!(
        r.of_rule(&IAM5).next().unwrap().suppressed.as_deref(),
        Some("reviewed")
    );
}

#[test]
fn cdk_nag_applies_to_metadata_spelling_and_regex_flags_are_read() {
    let app = App::new();
    let s = app.stack("Iam");
    let p = wildcard_policy(&s, false);
    p.add_metadata(
        "cfnkit",
        Value::from(json!({"suppress": [
            {"id": "AwsSolutions-IAM5", "reason": "x-ray and indexes", "applies_to": [
                "Resource::*", {"regex": "/^resource::.*\\/INDEX\\/\\*$/gi"}
            ]},
        ]})),
    );
    let r = report(&app);
    assert!(!r.has_errors(), "{r}");
    assert_eq!(r.warnings().count(), 0, "{r}");
}
