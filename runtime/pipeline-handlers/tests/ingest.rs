//! Seed 002 against moto's server: an ingested event reaches PROCESSED with its raw payload in
//! the bronze layer, once, however often the worker gets it.

mod support;

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::encodings::Body;
use contracts::ingest::{event_key, EventStatus, IngestAccepted, IngestMessage};
use contracts::tables::PARTITION_KEY;
use pipeline_handlers::ingest::{self, IngestService, Processed};
use support::{bucket, drain, queue, sqs_event, strings, table};

async fn deploy() -> (support::MotoServer, aws_config::SdkConfig, IngestService) {
    let (moto, sdk) = support::start().await;
    let env: HashMap<String, String> = HashMap::from([
        (
            contracts::ingest::BRONZE_BUCKET.into(),
            bucket(&sdk, "bronze").await,
        ),
        (
            contracts::ingest::EVENTS_TABLE.into(),
            table(&sdk, "Events", false).await,
        ),
        (
            contracts::ingest::INGEST_QUEUE_URL.into(),
            queue(&sdk, "ingest").await,
        ),
    ]);
    let svc = IngestService::from_env(&sdk, &env).expect("configured");
    (moto, sdk, svc)
}

fn post(body: &str) -> ApiGatewayV2httpRequest {
    let mut req = ApiGatewayV2httpRequest::default();
    req.request_context.http.method = aws_lambda_events::http::Method::POST;
    req.raw_path = Some("/events".into());
    req.body = Some(body.into());
    req
}

fn body_text(body: &Option<Body>) -> String {
    match body {
        Some(Body::Text(t)) => t.clone(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

async fn status_of(svc: &IngestService, event_id: &str) -> HashMap<String, String> {
    let item = svc
        .dynamodb
        .get_item()
        .table_name(&svc.events_table)
        .key(
            PARTITION_KEY,
            aws_sdk_dynamodb::types::AttributeValue::S(event_key(event_id)),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("metadata item");
    strings(&item)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingested_event_reaches_processed_with_its_raw_payload_in_bronze() {
    let (_moto, sdk, svc) = deploy().await;
    let raw = r#"{"eventType":"demo","message":"hello","nested":{"n":1}}"#;

    let answer = ingest::handle_api(&svc, post(raw)).await.unwrap();
    assert_eq!(answer.status_code, 202, "{:?}", answer.body);
    let accepted: IngestAccepted = serde_json::from_str(&body_text(&answer.body)).unwrap();
    assert_eq!(accepted.status, "accepted");

    let meta = status_of(&svc, &accepted.event_id).await;
    assert_eq!(meta["status"], EventStatus::Enqueued.as_str());
    assert_eq!(meta["eventType"], "demo");
    let key = meta["key"].clone();
    assert!(
        key.starts_with("bronze/demo/") && key.ends_with(&format!("/{}.json", accepted.event_id)),
        "bronze key {key}"
    );

    // The raw payload, byte for byte, under bronze/<eventType>/<date>/<eventId>.json.
    let listed = svc
        .s3
        .list_objects_v2()
        .bucket(&svc.bucket)
        .prefix("bronze/demo/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec![key.as_str()]);
    let object = svc
        .s3
        .get_object()
        .bucket(&svc.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    let stored = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(std::str::from_utf8(&stored).unwrap(), raw);

    // The queue holds one message naming the object; deliver it twice (SQS is at least once).
    let records = drain(&sdk, &svc.queue_url).await;
    assert_eq!(records.len(), 1);
    let message: IngestMessage = serde_json::from_str(records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(
        (message.event_id.as_str(), message.key.as_str()),
        (accepted.event_id.as_str(), key.as_str())
    );

    let first = ingest::handle_queue(&svc, sqs_event(records.clone())).await;
    assert!(first.batch_item_failures.is_empty(), "{first:?}");
    let processed = status_of(&svc, &accepted.event_id).await;
    assert_eq!(processed["status"], EventStatus::Processed.as_str());
    let processed_at = processed["processedAt"].clone();

    assert_eq!(
        ingest::process(&svc, &message).await.unwrap(),
        Processed::Already
    );
    let second = ingest::handle_queue(&svc, sqs_event(records)).await;
    assert!(second.batch_item_failures.is_empty(), "{second:?}");
    assert_eq!(
        status_of(&svc, &accepted.event_id).await["processedAt"],
        processed_at,
        "processed once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_retry_with_its_event_id_stores_the_event_once() {
    let (_moto, sdk, svc) = deploy().await;
    let raw = r#"{"eventType":"demo","eventId":"client-42","message":"hi"}"#;
    for _ in 0..2 {
        let answer = ingest::handle_api(&svc, post(raw)).await.unwrap();
        assert_eq!(answer.status_code, 202);
        let accepted: IngestAccepted = serde_json::from_str(&body_text(&answer.body)).unwrap();
        assert_eq!(accepted.event_id, "client-42");
    }
    let versions = svc
        .s3
        .list_object_versions()
        .bucket(&svc.bucket)
        .prefix("bronze/")
        .send()
        .await
        .unwrap();
    // One object with one version: the retry found the first copy and did not overwrite it.
    let keys: Vec<_> = versions.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys.len(), 1, "one bronze version: {keys:?}");
    // Both attempts queued it; the worker processes it once and absorbs the repeat.
    let records = drain(&sdk, &svc.queue_url).await;
    assert_eq!(records.len(), 2);
    let response = ingest::handle_queue(&svc, sqs_event(records)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(status_of(&svc, "client-42").await["status"], "PROCESSED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_refused_and_a_missing_payload_is_a_batch_failure() {
    let (_moto, sdk, svc) = deploy().await;
    for (body, status, needle) in [
        ("not json", 400, "not JSON"),
        ("[1,2]", 400, "JSON object"),
        (r#"{"message":"no type"}"#, 400, "eventType"),
        (r#"{"eventType":"../etc"}"#, 400, "eventType must be"),
        (
            r#"{"eventType":"demo","eventId":7}"#,
            400,
            "eventId must be",
        ),
    ] {
        let answer = ingest::handle_api(&svc, post(body)).await.unwrap();
        assert_eq!(answer.status_code, status, "{body}");
        assert!(
            body_text(&answer.body).contains(needle),
            "{body}: {:?}",
            answer.body
        );
    }
    assert!(
        drain(&sdk, &svc.queue_url).await.is_empty(),
        "nothing queued"
    );

    // A message whose bronze object does not exist fails alone (and reaches the DLQ in AWS).
    let good = ingest::handle_api(&svc, post(r#"{"eventType":"demo"}"#))
        .await
        .unwrap();
    assert_eq!(good.status_code, 202);
    let mut records = drain(&sdk, &svc.queue_url).await;
    let mut poison = records[0].clone();
    poison.message_id = Some("poison".into());
    let mut m: IngestMessage = serde_json::from_str(poison.body.as_deref().unwrap()).unwrap();
    m.key = "bronze/demo/1970-01-01/missing.json".into();
    poison.body = Some(serde_json::to_string(&m).unwrap());
    records.push(poison);
    let response = ingest::handle_queue(&svc, sqs_event(records)).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["poison"]);
}
