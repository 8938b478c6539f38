//! Events that reach functions other than through queues: a DynamoDB stream (bisect on error, retries, the
//! on-failure queue), a Kinesis stream, an EventBridge rule (asynchronous invocation: retries, then the
//! function's DLQ), an SNS subscription with a filter policy and an S3 notification with a prefix filter. Events
//! enter through the run's AWS endpoint, as a client of the app would send them.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::dynamodb::{Attribute, StreamViewType, Table, TableProps};
use cfnkit::constructs::kinesis::{Stream, StreamProps};
use cfnkit::constructs::lambda::{
    DynamoEventSource, Function, FunctionProps, KinesisEventSource, StartingPosition,
    StreamEventSourceProps,
};
use cfnkit::constructs::sqs::{Queue, QueueProps};
use cfnkit::{App, RawResource, Value as V};
use cfnkit_local::moto::client::MotoClient;
use cfnkit_local::run::LocalOptions;
use hyper::Method;
use serde_json::json;

fn app() -> App {
    let app = App::new();
    let s = app.stack("Flow");
    let scope = s.scope();
    let table = |id: &str, stream: Option<StreamViewType>| {
        Table::new(
            &scope,
            id,
            Attribute::string("pk"),
            TableProps {
                deletion_protection: false,
                stream,
                ..TableProps::default()
            },
        )
        .unwrap()
    };
    let records = table("Records", None);
    let orders = table("Orders", Some(StreamViewType::NewImage));
    let recorder = |id: &str, key: &str, dlq: Option<&Queue>| {
        let f = Function::new(
            &scope,
            id,
            support::code("recorder"),
            FunctionProps {
                environment: BTreeMap::from([
                    ("TABLE_NAME".to_owned(), records.table_name()),
                    ("RECORD_KEY".to_owned(), key.into()),
                ]),
                dead_letter_queue: dlq.map(|q| &**q),
                ..FunctionProps::default()
            },
        )
        .unwrap();
        records.grant_write_data(&f);
        f
    };
    let failures = Queue::new(&scope, "StreamFailures", QueueProps::default()).unwrap();
    let on_order = recorder("OnOrder", "Records.0.dynamodb.Keys.pk.S", None);
    on_order
        .add_event_source(DynamoEventSource::new(
            &orders,
            StreamEventSourceProps {
                starting_position: StartingPosition::TrimHorizon,
                batch_size: Some(10),
                max_batching_window: Some(Duration::from_secs(1)),
                bisect_batch_on_error: true,
                max_retry_attempts: Some(1),
                on_failure: Some(&failures),
                ..Default::default()
            },
        ))
        .unwrap();

    let clicks = Stream::new(&scope, "Clicks", StreamProps::default()).unwrap();
    // Events from `clicks` go onto the stream (a rule with a Kinesis target, which the local run delivers).
    let clicks_bus = s.add_raw(
        "ClicksBus",
        RawResource::new("AWS::Events::EventBus").prop("Name", "clicks"),
    );
    s.add_raw(
        "ToClicks",
        RawResource::new("AWS::Events::Rule")
            .prop("EventBusName", clicks_bus.ref_().into_raw())
            .prop("EventPattern", json!({"source": ["clicks"]}))
            .prop(
                "Targets",
                V::list([V::map([
                    ("Id", V::from("Stream")),
                    ("Arn", clicks.stream_arn().into_raw()),
                    (
                        "KinesisParameters",
                        V::from(json!({"PartitionKeyPath": "$.detail.user"})),
                    ),
                ])]),
            ),
    );
    recorder("OnClick", "Records.*.kinesis.partitionKey", None)
        .add_event_source(KinesisEventSource::new(
            &clicks,
            StreamEventSourceProps {
                starting_position: StartingPosition::TrimHorizon,
                ..Default::default()
            },
        ))
        .unwrap();

    let event_dlq = Queue::new(&scope, "EventDlq", QueueProps::default()).unwrap();
    let on_event = recorder("OnEvent", "detail.id", Some(&event_dlq));
    let bus = s.add_raw(
        "Bus",
        RawResource::new("AWS::Events::EventBus").prop("Name", "shop"),
    );
    let rule = s.add_raw(
        "OnShop",
        RawResource::new("AWS::Events::Rule")
            .prop("EventBusName", bus.ref_().into_raw())
            .prop(
                "EventPattern",
                json!({"source": ["shop"], "detail": {"id": [{"exists": true}]}}),
            )
            .prop(
                "Targets",
                V::list([V::map([
                    ("Id", V::from("Fn")),
                    ("Arn", on_event.function_arn().into_raw()),
                ])]),
            ),
    );
    s.add_raw(
        "OnShopInvoke",
        RawResource::new("AWS::Lambda::Permission")
            .prop("Action", "lambda:InvokeFunction")
            .prop("FunctionName", on_event.function_name().into_raw())
            .prop("Principal", "events.amazonaws.com")
            .prop("SourceArn", rule.get_att::<String>("Arn").into_raw()),
    );

    let on_message = recorder("OnMessage", "Records.0.Sns.Message", None);
    let topic = s.add_raw("Topic", RawResource::new("AWS::SNS::Topic"));
    s.add_raw(
        "TopicToFn",
        RawResource::new("AWS::SNS::Subscription")
            .prop("TopicArn", topic.ref_().into_raw())
            .prop("Protocol", "lambda")
            .prop("Endpoint", on_message.function_arn().into_raw())
            .prop("FilterPolicy", json!({"kind": ["a"]})),
    );

    let on_upload = recorder("OnUpload", "Records.0.s3.object.key", None);
    s.add_raw(
        "Uploads",
        RawResource::new("AWS::S3::Bucket").prop(
            "NotificationConfiguration",
            V::map([(
                "LambdaConfigurations",
                V::list([V::map([
                    ("Event", V::from("s3:ObjectCreated:*")),
                    ("Function", on_upload.function_arn().into_raw()),
                    (
                        "Filter",
                        V::from(json!({"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}})),
                    ),
                ])]),
            )]),
        ),
    );
    app
}

async fn keys(moto: &MotoClient, table: &str) -> Vec<String> {
    let out = moto
        .json(
            "dynamodb",
            "DynamoDB_20120810.Scan",
            &json!({"TableName": table}),
        )
        .await
        .unwrap();
    let mut keys: Vec<String> = out["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pk"]["S"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys
}

async fn messages(moto: &MotoClient, url: &str) -> Vec<serde_json::Value> {
    let out = moto
        .json(
            "sqs",
            "AmazonSQS.ReceiveMessage",
            &json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"]}),
        )
        .await
        .unwrap();
    out["Messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn streams_rules_topics_and_buckets_reach_their_functions_as_aws_delivers_them() {
    let (run, _logs) = support::start_with(
        &app(),
        LocalOptions {
            trace: true,
            ..LocalOptions::default()
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let client = MotoClient::new(run.endpoint());
    let moto = run.moto().clone();
    let name = |id: &str| run.app.resource("Flow", id).unwrap().physical_id.clone();
    let records = name("Records");

    // DynamoDB stream: [o-1, fail-2, o-3] fails, is bisected until o-1 passes; fail-2 fails its retry and is
    // described on the on-failure queue; o-3 passes.
    for pk in ["o-1", "fail-2", "o-3"] {
        client
            .json(
                "dynamodb",
                "DynamoDB_20120810.PutItem",
                &json!({"TableName": name("Orders"), "Item": {"pk": {"S": pk}}}),
            )
            .await
            .unwrap();
    }
    // Kinesis.
    client
        .json(
            "kinesis",
            "Kinesis_20131202.PutRecord",
            &json!({"StreamName": name("Clicks"), "PartitionKey": "click-1", "Data": "e30="}),
        )
        .await
        .unwrap();
    // EventBridge: one good event, one that fails every attempt.
    for id in ["e-1", "fail-e"] {
        client
            .json(
                "events",
                "AWSEvents.PutEvents",
                &json!({"Entries": [{"Source": "shop", "DetailType": "t", "Detail": json!({"id": id}).to_string(), "EventBusName": "shop"}]}),
            )
            .await
            .unwrap();
    }
    client
        .json(
            "events",
            "AWSEvents.PutEvents",
            &json!({"Entries": [{"Source": "clicks", "DetailType": "c", "Detail": "{\"user\": \"u-9\"}", "EventBusName": "clicks"}]}),
        )
        .await
        .unwrap();
    // SNS: the filter policy lets kind=a through only.
    for (message, kind) in [("m-a", "a"), ("m-b", "b")] {
        client
            .query(
                "sns",
                &[
                    ("Action".into(), "Publish".into()),
                    ("TopicArn".into(), name("Topic")),
                    ("Message".into(), message.into()),
                    ("MessageAttributes.entry.1.Name".into(), "kind".into()),
                    (
                        "MessageAttributes.entry.1.Value.DataType".into(),
                        "String".into(),
                    ),
                    (
                        "MessageAttributes.entry.1.Value.StringValue".into(),
                        kind.into(),
                    ),
                ],
            )
            .await
            .unwrap();
    }
    // S3: only keys under in/ notify.
    for key in ["in/a.txt", "out/b.txt"] {
        client
            .rest(
                "s3",
                Method::PUT,
                &format!("/{}/{key}", name("Uploads")),
                &[],
                bytes::Bytes::from("x"),
            )
            .await
            .unwrap();
    }

    let want = ["click-1", "e-1", "in/a.txt", "m-a", "o-1", "o-3", "u-9"];
    support::eventually(40, "every delivery recorded", || async {
        let got = keys(&moto, &records).await;
        (got == want).then_some(())
    })
    .await;

    let failures = support::eventually(20, "the on-failure record", || async {
        let m = messages(&moto, &name("StreamFailures")).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    let info: serde_json::Value =
        serde_json::from_str(failures[0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(
        info["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(info["DDBStreamBatchInfo"]["batchSize"], 1);

    let dead = support::eventually(20, "the failed event in the function's DLQ", || async {
        let m = messages(&moto, &name("EventDlq")).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    let event: serde_json::Value = serde_json::from_str(dead[0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(event["detail"]["id"], "fail-e");
    assert_eq!(
        dead[0]["MessageAttributes"]["ErrorMessage"]["StringValue"],
        "the event asked to fail"
    );

    let notes = run.notes();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("trace: bus shop -> rule Flow/OnShop")),
        "{notes:?}"
    );
    let summary = run.stop().await;
    let on_event = cfnkit_local::invoke::FunctionRef {
        stack: "Flow".into(),
        logical_id: "OnEvent".into(),
    };
    // e-1 once, fail-e three times (the first attempt and two retries).
    assert_eq!(summary.functions[&on_event].invocations, 4, "{summary}");
    assert_eq!(summary.functions[&on_event].failures, 3, "{summary}");
}
