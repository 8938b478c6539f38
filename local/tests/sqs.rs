//! SQS event source mappings as Lambda runs them: partial batch failures (only the failed message comes back,
//! after the visibility timeout), redrive to the DLQ after maxReceiveCount, filters, and IAM enforced on the
//! handler's own calls.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::lambda::{Function, FunctionProps, SqsEventSource, SqsEventSourceProps};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueProps};
use cfnkit::App;
use cfnkit_local::invoke::FunctionRef;
use cfnkit_local::moto::client::MotoClient;
use cfnkit_local::run::LocalOptions;
use serde_json::json;

/// A queue (visibility 6 s, DLQ after 2 receives) feeding `sqs_consumer`, which records what it processed.
fn app() -> App {
    let app = App::new();
    let s = app.stack("Work");
    let scope = s.scope();
    let table = Table::new(
        &scope,
        "Seen",
        Attribute::string("pk"),
        TableProps {
            deletion_protection: false,
            ..TableProps::default()
        },
    )
    .unwrap();
    let queue = Queue::new(
        &scope,
        "Jobs",
        QueueProps {
            visibility_timeout: Some(Duration::from_secs(6)),
            dead_letter: DeadLetter::Create {
                max_receive_count: 2,
            },
            ..QueueProps::default()
        },
    )
    .unwrap();
    let f = Function::new(
        &scope,
        "Consumer",
        support::code("sqs_consumer"),
        FunctionProps {
            environment: BTreeMap::from([("TABLE_NAME".to_owned(), table.table_name())]),
            timeout: Some(Duration::from_secs(1)),
            ..FunctionProps::default()
        },
    )
    .unwrap();
    table.grant_write_data(&f);
    // A table the consumer is not granted (the IAM test points the consumer at it).
    Table::new(
        &scope,
        "Other",
        Attribute::string("pk"),
        TableProps {
            deletion_protection: false,
            ..TableProps::default()
        },
    )
    .unwrap();
    f.add_event_source(SqsEventSource::new(
        &queue,
        SqsEventSourceProps {
            batch_size: Some(10),
            max_batching_window: Some(Duration::from_secs(1)),
            ..Default::default()
        },
    ))
    .unwrap();
    app
}

async fn send(moto: &MotoClient, url: &str, body: &str) {
    moto.json(
        "sqs",
        "AmazonSQS.SendMessage",
        &json!({"QueueUrl": url, "MessageBody": body}),
    )
    .await
    .unwrap();
}

async fn counts(moto: &MotoClient, url: &str) -> (u64, u64) {
    let out = moto
        .json(
            "sqs",
            "AmazonSQS.GetQueueAttributes",
            &json!({"QueueUrl": url, "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]}),
        )
        .await
        .unwrap();
    let n = |k: &str| out["Attributes"][k].as_str().unwrap().parse().unwrap();
    (
        n("ApproximateNumberOfMessages"),
        n("ApproximateNumberOfMessagesNotVisible"),
    )
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

#[tokio::test]
async fn a_partial_batch_failure_brings_back_only_the_failed_message_which_goes_to_the_dlq_after_max_receives(
) {
    let (run, logs) = support::start(&app()).await;
    let moto = run.moto().clone();
    let jobs = run
        .app
        .resource("Work", "Jobs")
        .unwrap()
        .physical_id
        .clone();
    let dlq = run
        .app
        .resource("Work", "JobsDlq")
        .unwrap()
        .physical_id
        .clone();
    let table = run
        .app
        .resource("Work", "Seen")
        .unwrap()
        .physical_id
        .clone();
    for body in ["ok-1", "fail-a", "ok-2"] {
        send(&moto, &jobs, body).await;
    }
    // The batching window gathers all three into one batch.
    support::eventually(15, "the two good messages recorded", || async {
        (keys(&moto, &table).await == ["ok-1", "ok-2"]).then_some(())
    })
    .await;
    // Only the failed message is left, invisible until the visibility timeout ends.
    assert_eq!(counts(&moto, &jobs).await, (0, 1));
    assert!(
        logs.lines().iter().any(|l| l.ends_with("| batch of 3")),
        "{:?}",
        logs.lines()
    );
    // Received twice (6 s apart), it moves to the DLQ on the third receive.
    support::eventually(30, "the failed message in the DLQ", || async {
        (counts(&moto, &dlq).await.0 == 1).then_some(())
    })
    .await;
    assert_eq!(counts(&moto, &jobs).await, (0, 0));
    let summary = run.stop().await;
    let f = FunctionRef {
        stack: "Work".into(),
        logical_id: "Consumer".into(),
    };
    assert_eq!(summary.functions[&f].invocations, 2, "{summary}");
    assert_eq!(summary.dead_letters["Work/JobsDlq"], 1, "{summary}");
    assert!(
        summary
            .to_string()
            .contains("Work/JobsDlq: 1 message left in this dead-letter queue"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_call_the_role_does_not_allow_fails_as_access_denied_and_names_the_missing_permission() {
    let mut t = cfnkit_local::model::Templates::from_app(&app()).unwrap();
    let vars = &mut t.stacks[0].template["Resources"]["Consumer"]["Properties"]["Environment"]
        ["Variables"];
    vars["TABLE_NAME"] = json!({"Ref": "Other"});
    let options = LocalOptions {
        workspace: support::workspace(),
        ..LocalOptions::default()
    };
    let run = cfnkit_local::run::LocalRun::start(&t, options)
        .await
        .unwrap();
    let f = FunctionRef {
        stack: "Work".into(),
        logical_id: "Consumer".into(),
    };
    let event = json!({"Records": [{"messageId": "m1", "body": "ok-1", "eventSource": "aws:sqs"}]});
    let e = run
        .invoker()
        .invoke(&f, event)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("AccessDeniedException"), "{e}");
    assert!(e.contains("is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Work-Other-"), "{e}");
    let notes = run.notes();
    assert!(
        notes.iter().any(|n| n.starts_with("denied: Work/Consumer: AccessDenied: Work/Consumer's role may not dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/Work-Other-")
            && n.contains("grant it in the stack, e.g. table.grant_write_data(&function)")),
        "{notes:?}"
    );
    run.stop().await;
}
