//! Resources made elsewhere (`from_arn`, `from_name`, `from_attributes`): grants, metrics, targets and rules work on
//! them as on owned constructs, by adding to the grantee or naming the ARN; literal ARNs are checked.

mod constructs_support;

use cfnkit::constructs::dynamodb::{Table, TableAttributes};
use cfnkit::constructs::events::{EventBus, EventPattern, Rule, RuleProps, Target};
use cfnkit::constructs::kinesis::{Stream, StreamAttributes};
use cfnkit::constructs::kms::Key;
use cfnkit::constructs::lambda::Function;
use cfnkit::constructs::s3::Bucket;
use cfnkit::constructs::secretsmanager::Secret;
use cfnkit::constructs::sns::Topic;
use cfnkit::constructs::sqs::{Queue, QueueAttributes};
use cfnkit::constructs::{actions, Construct, LambdaTarget, Principal, Role, RoleProps};
use cfnkit::{fns, App, Val};
use constructs_support::*;
use serde_json::json;

const ACCOUNT: &str = "111122223333";

fn arn(service: &str, resource: &str) -> String {
    format!("arn:aws:{service}:eu-west-1:{ACCOUNT}:{resource}")
}

/// Every grant on an imported resource lands in the grantee's policy, naming the imported ARN (and its key).
#[test]
fn grants_on_imported_resources_add_statements_to_the_grantee_only() {
    let app = App::new();
    let scope = app.stack("Imports").scope();
    let worker = Role::new(
        &scope,
        "Worker",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    let key = Key::from_arn("SharedKey", arn("kms", "key/1234abcd")).unwrap();
    let table = Table::from_attributes(
        "Orders",
        TableAttributes {
            table_arn: arn("dynamodb", "table/orders").into(),
            table_stream_arn: Some(
                arn("dynamodb", "table/orders/stream/2026-01-01T00:00:00.000").into(),
            ),
            encryption_key: Some(&key),
        },
    )
    .unwrap();
    let grant = table.grant_read_write_data(&worker);
    assert_eq!(
        grant.key_statements().len(),
        1,
        "the table's key is granted too"
    );
    table.grant_stream_read(&worker).unwrap();
    let queue = Queue::from_attributes(
        "Jobs",
        QueueAttributes {
            queue_arn: arn("sqs", "jobs").into(),
            encryption_key: Some(&key),
        },
    )
    .unwrap();
    queue.grant_send_messages(&worker);
    Topic::from_arn("Alerts", arn("sns", "alerts"))
        .unwrap()
        .grant_publish(&worker);
    Bucket::from_name("Archive", "orders-archive")
        .unwrap()
        .grant_read(&worker);
    Secret::from_arn("Db", arn("secretsmanager", "secret:db-AbCdEf"))
        .unwrap()
        .grant_read(&worker);
    Stream::from_arn("Clicks", arn("kinesis", "stream/clicks"))
        .unwrap()
        .grant_read(&worker);
    EventBus::from_arn("Platform", arn("events", "event-bus/platform"))
        .unwrap()
        .grant_put_events(&worker);
    Function::from_arn("Notify", arn("lambda", "function:notify"))
        .unwrap()
        .grant_invoke(&worker);

    let t = template(&app, "Imports");
    // Nothing was made for the imports: the role is the stack's only resource.
    assert_eq!(
        t["Resources"].as_object().unwrap().len(),
        1,
        "{:#}",
        t["Resources"]
    );
    let stmts = role_statements(&t, "Worker");
    let on = |action: &str| {
        stmts
            .iter()
            .find(|s| match &s["Action"] {
                serde_json::Value::String(a) => a == action,
                serde_json::Value::Array(a) => a.iter().any(|x| x == action),
                _ => false,
            })
            .unwrap_or_else(|| panic!("no statement allows {action}: {stmts:#?}"))["Resource"]
            .clone()
    };
    assert_eq!(
        on("dynamodb:PutItem"),
        json!([arn("dynamodb", "table/orders"), {"Fn::Sub": ["${Table}/index/*", {"Table": arn("dynamodb", "table/orders")}]}])
    );
    assert_eq!(on("kms:Decrypt"), json!(arn("kms", "key/1234abcd")));
    assert_eq!(
        on("dynamodb:DescribeStream"),
        json!(arn(
            "dynamodb",
            "table/orders/stream/2026-01-01T00:00:00.000"
        ))
    );
    assert_eq!(on("sqs:SendMessage"), json!(arn("sqs", "jobs")));
    assert_eq!(on("sns:Publish"), json!(arn("sns", "alerts")));
    assert_eq!(
        on("s3:ListBucket"),
        json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::orders-archive"})
    );
    assert_eq!(
        on("secretsmanager:GetSecretValue"),
        json!(arn("secretsmanager", "secret:db-AbCdEf"))
    );
    assert_eq!(
        on("kinesis:GetRecords"),
        json!(arn("kinesis", "stream/clicks"))
    );
    assert_eq!(
        on("events:PutEvents"),
        json!(arn("events", "event-bus/platform"))
    );
    assert_eq!(
        on(actions::LAMBDA_INVOKE[0]),
        json!(arn("lambda", "function:notify"))
    );
    // As for an owned bucket, an object grant ends in `*`: the grant's caller says why.
    cfnkit::rules::suppress_only(
        worker.handle(),
        &cfnkit::rules::IAM5,
        &["Resource::arn:<AWS::Partition>:s3:::orders-archive/*"],
        "the worker reads every object of the archive bucket",
    );
    assert_rules_clean(&app);
}

#[test]
fn imported_names_come_from_the_arn_literal_or_not() {
    let queue = Queue::from_arn("Jobs", arn("sqs", "jobs.fifo")).unwrap();
    assert_eq!(queue.queue_name(), Val::from("jobs.fifo"));
    assert_eq!(
        queue
            .metric_approximate_age_of_oldest_message()
            .dimensions()[0]
            .1,
        Val::from("jobs.fifo")
    );
    let table = Table::from_arn("Orders", fns::import_value("Shared:Orders:Arn")).unwrap();
    assert!(table.table_stream_arn().is_none());
    let name_part: Val<String> =
        fns::select(5, fns::split(":", fns::import_value("Shared:Orders:Arn")));
    assert_eq!(
        table.table_name(),
        fns::select(1, fns::split("/", name_part))
    );
    let f = Function::from_arn("Notify", arn("lambda", "function:notify:live")).unwrap();
    assert_eq!(f.function_name(), Val::from("notify"));
    assert_eq!(f.target_id(), "Notify");
}

#[test]
fn a_literal_arn_of_the_wrong_resource_is_refused_with_the_form_expected() {
    let e = Table::from_arn("Orders", arn("dynamodb", "orders")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Orders: table_arn must be an ARN arn:<partition>:dynamodb:<region>:<account>:table/<name>, got \
         \"arn:aws:dynamodb:eu-west-1:111122223333:orders\""
    );
    assert!(Queue::from_arn("Jobs", arn("sns", "jobs")).is_err());
    assert!(Function::from_arn("F", arn("lambda", "layer:x")).is_err());
    assert!(Bucket::from_name("B", "Orders_Archive").is_err());
}

/// A rule on an imported bus names it; imported functions and streams are targets like owned ones.
#[test]
fn imported_buses_functions_and_streams_wire_into_rules() {
    let app = App::new();
    let scope = app.stack("Imports").scope();
    let bus = EventBus::from_arn("Platform", arn("events", "event-bus/platform")).unwrap();
    let rule = Rule::new(
        &scope,
        "Placed",
        RuleProps {
            event_bus: Some(&bus),
            event_pattern: Some(EventPattern::new().source(["orders"])),
            ..Default::default()
        },
    )
    .unwrap();
    let notify = Function::from_arn("Notify", arn("lambda", "function:notify")).unwrap();
    rule.add_target(Target::lambda(&notify, Default::default()))
        .unwrap();
    let key = Key::from_arn("StreamKey", arn("kms", "key/5678")).unwrap();
    let clicks = Stream::from_attributes(
        "Clicks",
        StreamAttributes {
            stream_arn: arn("kinesis", "stream/clicks").into(),
            encryption_key: Some(&key),
        },
    )
    .unwrap();
    rule.add_target(clicks.rule_target(Default::default()))
        .unwrap();

    let t = template(&app, "Imports");
    let r = &resource(&t, "Placed")["Properties"];
    assert_eq!(r["EventBusName"], "platform");
    assert_eq!(r["Targets"][0]["Arn"], arn("lambda", "function:notify"));
    assert_eq!(
        resource(&t, "PlacedNotifyPermission")["Properties"]["FunctionName"],
        arn("lambda", "function:notify")
    );
    let role = role_statements(&t, "PlacedEventsRole");
    assert!(
        allows(&role, "kinesis:PutRecord") && allows(&role, "kms:GenerateDataKey"),
        "{role:#?}"
    );
}

/// A function reads an imported table's stream and an imported Kinesis stream like owned ones: the mappings are
/// named after the imports' ids, and the role may read them.
#[test]
fn imported_streams_feed_functions() {
    use cfnkit::constructs::lambda::{
        Code, DynamoEventSource, FunctionProps, KinesisEventSource, StreamEventSourceProps,
    };
    let app = App::new();
    let scope = app.stack("Imports").scope();
    let f = Function::new(
        &scope,
        "Worker",
        Code::asset("worker"),
        FunctionProps::default(),
    )
    .unwrap();
    let stream_arn = arn("dynamodb", "table/orders/stream/2026-01-01T00:00:00.000");
    let orders = Table::from_attributes(
        "Orders",
        TableAttributes {
            table_arn: arn("dynamodb", "table/orders").into(),
            table_stream_arn: Some(stream_arn.clone().into()),
            encryption_key: None,
        },
    )
    .unwrap();
    f.add_event_source(DynamoEventSource::new(&orders, Default::default()))
        .unwrap();
    let clicks = Stream::from_arn("Clicks", arn("kinesis", "stream/clicks")).unwrap();
    f.add_event_source(KinesisEventSource::new(
        &clicks,
        StreamEventSourceProps::default(),
    ))
    .unwrap();
    // Without a stream ARN, an imported table has no stream to read.
    let plain = Table::from_arn("Plain", arn("dynamodb", "table/plain")).unwrap();
    let e = f
        .add_event_source(DynamoEventSource::new(&plain, Default::default()))
        .unwrap_err();
    assert!(e.to_string().contains("table Plain has no stream"), "{e}");

    let t = template(&app, "Imports");
    let m = &resource(&t, "WorkerOrdersEventSource")["Properties"];
    assert_eq!(m["EventSourceArn"], stream_arn);
    assert_eq!(m["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(
        resource(&t, "WorkerClicksEventSource")["Properties"]["EventSourceArn"],
        arn("kinesis", "stream/clicks")
    );
    let role = role_statements(&t, "WorkerServiceRole");
    assert!(allows(&role, "dynamodb:GetShardIterator") && allows(&role, "kinesis:GetRecords"));
}
