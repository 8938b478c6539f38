//! Provisioning against moto's server: what the templates declare exists in the emulator with its properties,
//! the deliveries moto makes itself work (rule -> queue with an input transformer, topic -> queue with a filter
//! policy, bucket -> queue), and what is not run is listed.

use cfnkit::{App, RawResource};
use cfnkit_local::model::{LoadOptions, Templates};
use cfnkit_local::moto::client::MotoClient;
use cfnkit_local::moto::{find_or_install, MotoServer};
use cfnkit_local::provision::{not_run, provision};
use serde_json::json;

fn app() -> App {
    let app = App::new();
    let s = app.stack("Data");
    s.add_raw(
        "Orders",
        RawResource::new("AWS::DynamoDB::Table")
            .prop("BillingMode", "PAY_PER_REQUEST")
            .prop(
                "KeySchema",
                json!([{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]),
            )
            .prop(
                "AttributeDefinitions",
                json!([
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                    {"AttributeName": "status", "AttributeType": "S"}
                ]),
            )
            .prop(
                "GlobalSecondaryIndexes",
                json!([{"IndexName": "byStatus", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"}}]),
            )
            .prop("StreamSpecification", json!({"StreamViewType": "NEW_AND_OLD_IMAGES"})),
    );
    let dlq = s.add_raw("Dlq", RawResource::new("AWS::SQS::Queue"));
    let inbox = s.add_raw(
        "Inbox",
        RawResource::new("AWS::SQS::Queue")
            .prop("VisibilityTimeout", 45)
            .prop(
                "RedrivePolicy",
                cfnkit::Value::map([
                    (
                        "deadLetterTargetArn",
                        dlq.get_att::<String>("Arn").into_raw(),
                    ),
                    ("maxReceiveCount", cfnkit::Value::from(3)),
                ]),
            ),
    );
    let topic = s.add_raw("Alerts", RawResource::new("AWS::SNS::Topic"));
    s.add_raw(
        "AlertsToInbox",
        RawResource::new("AWS::SNS::Subscription")
            .prop("TopicArn", topic.ref_().into_raw())
            .prop("Protocol", "sqs")
            .prop("Endpoint", inbox.get_att::<String>("Arn").into_raw())
            .prop("RawMessageDelivery", true)
            .prop("FilterPolicy", json!({"severity": ["high"]})),
    );
    let bus = s.add_raw(
        "Bus",
        RawResource::new("AWS::Events::EventBus").prop("Name", "platform"),
    );
    s.add_raw(
        "ToInbox",
        RawResource::new("AWS::Events::Rule")
            .prop("EventBusName", bus.ref_().into_raw())
            .prop("EventPattern", json!({"source": ["shop"]}))
            .prop(
                "Targets",
                cfnkit::Value::list([cfnkit::Value::map([
                    ("Id", cfnkit::Value::from("Inbox")),
                    ("Arn", inbox.get_att::<String>("Arn").into_raw()),
                    (
                        "InputTransformer",
                        cfnkit::Value::from(json!({"InputPathsMap": {"id": "$.detail.id"},
                            "InputTemplate": "{\"order\": <id>}"})),
                    ),
                ])]),
            ),
    );
    s.add_raw(
        "Uploads",
        RawResource::new("AWS::S3::Bucket").prop(
            "NotificationConfiguration",
            cfnkit::Value::map([(
                "QueueConfigurations",
                cfnkit::Value::list([cfnkit::Value::map([
                    ("Event", cfnkit::Value::from("s3:ObjectCreated:*")),
                    ("Queue", dlq.get_att::<String>("Arn").into_raw()),
                ])]),
            )]),
        ),
    );
    s.add_raw(
        "Clicks",
        RawResource::new("AWS::Kinesis::Stream").prop("ShardCount", 1),
    );
    s.add_raw(
        "ApiKey",
        RawResource::new("AWS::SecretsManager::Secret").prop(
            "GenerateSecretString",
            json!({"SecretStringTemplate": "{\"user\":\"svc\"}", "GenerateStringKey": "password",
                   "PasswordLength": 20}),
        ),
    );
    s.add_raw(
        "Logs",
        RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 7),
    );
    s.add_raw("Key", RawResource::new("AWS::KMS::Key"));
    s.add_raw(
        "Nightly",
        RawResource::new("AWS::Events::Rule").prop("ScheduleExpression", "rate(1 day)"),
    );
    app
}

async fn receive(moto: &MotoClient, url: &str) -> Vec<serde_json::Value> {
    let out = moto
        .json(
            "sqs",
            "AmazonSQS.ReceiveMessage",
            &json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}),
        )
        .await
        .unwrap();
    out["Messages"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn what_the_templates_declare_exists_in_moto_and_the_rest_is_listed() {
    let install = find_or_install().await.unwrap();
    let server = MotoServer::start(&install).await.unwrap();
    let moto = MotoClient::new(&server.endpoint);
    let templates = Templates::from_app(&app()).unwrap();
    let local = templates.resolve(&LoadOptions::default()).unwrap();
    let actual = provision(&local, &moto).await.unwrap();

    // The stream ARN moto chose replaces the model's placeholder.
    let stream = &actual[&("Data".to_owned(), "Orders".to_owned())]["StreamArn"];
    let table = local.resource("Data", "Orders").unwrap();
    let d = moto
        .json(
            "dynamodb",
            "DynamoDB_20120810.DescribeTable",
            &json!({"TableName": table.name}),
        )
        .await
        .unwrap();
    assert_eq!(d["Table"]["LatestStreamArn"], json!(stream));
    assert_eq!(
        d["Table"]["GlobalSecondaryIndexes"][0]["IndexName"],
        "byStatus"
    );
    assert_eq!(d["Table"]["KeySchema"][1]["AttributeName"], "sk");

    let inbox = local.resource("Data", "Inbox").unwrap();
    let attrs = moto
        .json(
            "sqs",
            "AmazonSQS.GetQueueAttributes",
            &json!({"QueueUrl": inbox.physical_id, "AttributeNames": ["All"]}),
        )
        .await
        .unwrap();
    assert_eq!(attrs["Attributes"]["VisibilityTimeout"], "45");
    let redrive: serde_json::Value =
        serde_json::from_str(attrs["Attributes"]["RedrivePolicy"].as_str().unwrap()).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        json!(local.resource("Data", "Dlq").unwrap().arn)
    );

    // rule -> queue through moto, with the input transformer applied.
    moto.json(
        "events",
        "AWSEvents.PutEvents",
        &json!({"Entries": [{"Source": "shop", "DetailType": "x", "Detail": "{\"id\": 7}", "EventBusName": "platform"}]}),
    )
    .await
    .unwrap();
    let got = receive(&moto, &inbox.physical_id).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(got[0]["Body"].as_str().unwrap()).unwrap(),
        json!({"order": 7})
    );

    // topic -> queue through moto: the filter policy lets only `high` through.
    let topic = local.resource("Data", "Alerts").unwrap();
    for severity in ["low", "high"] {
        moto.query(
            "sns",
            &[
                ("Action".into(), "Publish".into()),
                ("TopicArn".into(), topic.physical_id.clone()),
                ("Message".into(), format!("severity {severity}")),
                ("MessageAttributes.entry.1.Name".into(), "severity".into()),
                (
                    "MessageAttributes.entry.1.Value.DataType".into(),
                    "String".into(),
                ),
                (
                    "MessageAttributes.entry.1.Value.StringValue".into(),
                    severity.into(),
                ),
            ],
        )
        .await
        .unwrap();
    }
    let got = receive(&moto, &inbox.physical_id).await;
    let bodies: Vec<&str> = got.iter().filter_map(|m| m["Body"].as_str()).collect();
    assert_eq!(bodies, ["severity high"]);

    // The generated secret follows its template.
    let secret = moto
        .json(
            "secretsmanager",
            "secretsmanager.GetSecretValue",
            &json!({"SecretId": actual[&("Data".to_owned(), "ApiKey".to_owned())]["Ref"]}),
        )
        .await
        .unwrap();
    let value: serde_json::Value =
        serde_json::from_str(secret["SecretString"].as_str().unwrap()).unwrap();
    assert_eq!(value["user"], "svc");
    assert_eq!(value["password"].as_str().unwrap().len(), 20);

    let listed: Vec<String> = not_run(&local, &[])
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        listed,
        [
            "Data/Key (AWS::KMS::Key): encryption is not emulated: data is stored unencrypted",
            "Data/Nightly (AWS::Events::Rule): its schedule is not fired (put events on its bus to trigger its targets)",
        ]
    );
    server.stop().await;
}

/// A stack set is listed with its reason, not provisioned and not an error: the local run is one account.
#[test]
fn a_stack_set_is_listed_as_not_run_because_it_deploys_elsewhere() {
    use cfnkit::constructs::cloudformation::{StackSet, StackSetProps, StackSetTargets};
    let inner = App::new();
    let template = inner.stack("AccountBaseline");
    template.add_raw(
        "Logs",
        RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 365),
    );
    let app = App::new();
    let org = app.stack("Org");
    StackSet::new(
        &org,
        "Baseline",
        &template,
        StackSetProps {
            targets: StackSetTargets::organizational_units(["ou-ab12-34cd56ef"]),
            regions: vec!["eu-west-1".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let local = Templates::from_app(&app)
        .unwrap()
        .resolve(&LoadOptions::default())
        .unwrap();
    let listed: Vec<String> = not_run(&local, &[])
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        listed,
        ["Org/Baseline (AWS::CloudFormation::StackSet): StackSets deploy to other accounts and regions: its stack \
          instances are not created"]
    );
}
