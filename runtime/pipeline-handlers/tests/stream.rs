//! Seed 001 against moto's server: `POST /orders` writes a PENDING order, and the record moto's
//! table stream produced for it (NEW_IMAGE) drives the order to PROCESSED once, even when the
//! batch is delivered twice.

mod support;

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::encodings::Body;
use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, ShardIteratorType};
use contracts::stream_orders::{StreamOrderCreated, StreamOrderStatus, STREAM_ORDERS_TABLE};
use pipeline_handlers::stream::{self, Outcome, StreamOrders};
use serde_json::{json, Value};
use support::{strings, table};

fn post(body: &str) -> ApiGatewayV2httpRequest {
    let mut req = ApiGatewayV2httpRequest::default();
    req.request_context.http.method = aws_lambda_events::http::Method::POST;
    req.raw_path = Some("/orders".into());
    req.body = Some(body.into());
    req
}

/// DynamoDB JSON, as Lambda puts stream images in its events.
fn dynamo_json(v: &StreamValue) -> Value {
    match v {
        StreamValue::S(s) => json!({ "S": s }),
        StreamValue::N(n) => json!({ "N": n }),
        StreamValue::Bool(b) => json!({ "BOOL": b }),
        StreamValue::Null(_) => json!({ "NULL": true }),
        StreamValue::M(m) => json!({ "M": image_json(m) }),
        StreamValue::L(l) => json!({ "L": l.iter().map(dynamo_json).collect::<Vec<_>>() }),
        other => panic!("attribute type not used by the orders table: {other:?}"),
    }
}

fn image_json(m: &HashMap<String, StreamValue>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), dynamo_json(v))).collect())
}

/// Every record on the table's stream, as the Lambda event a DynamoDB event source delivers.
async fn stream_batch(sdk: &aws_config::SdkConfig, table: &str) -> Event {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
    let described = ddb.describe_table().table_name(table).send().await.unwrap();
    let stream_arn = described
        .table
        .unwrap()
        .latest_stream_arn
        .expect("the table has a stream");
    let shards = streams
        .describe_stream()
        .stream_arn(&stream_arn)
        .send()
        .await
        .unwrap();
    let mut records = Vec::new();
    for shard in shards
        .stream_description
        .unwrap()
        .shards
        .unwrap_or_default()
    {
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(&stream_arn)
            .shard_id(shard.shard_id.unwrap())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap()
            .shard_iterator
            .unwrap();
        let got = streams
            .get_records()
            .shard_iterator(iterator)
            .send()
            .await
            .unwrap();
        for r in got.records.unwrap_or_default() {
            let d = r.dynamodb.unwrap();
            records.push(json!({
                "awsRegion": "us-east-1",
                "eventID": r.event_id.unwrap(),
                "eventName": r.event_name.unwrap().as_str(),
                "eventSource": "aws:dynamodb",
                "eventSourceARN": stream_arn,
                "dynamodb": {
                    "Keys": image_json(d.keys.as_ref().unwrap()),
                    "NewImage": d.new_image.as_ref().map(image_json).unwrap_or(json!({})),
                    "SequenceNumber": d.sequence_number.unwrap(),
                    "SizeBytes": d.size_bytes.unwrap_or(0),
                    "StreamViewType": d.stream_view_type.unwrap().as_str(),
                }
            }));
        }
    }
    serde_json::from_value(json!({ "Records": records })).expect("a Lambda DynamoDB event")
}

async fn order(svc: &StreamOrders, id: String) -> HashMap<String, String> {
    strings(
        &stream::load_order(svc, &id)
            .await
            .unwrap()
            .expect("the order"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_record_drives_the_order_forward_once_even_when_delivered_twice() {
    let (_moto, sdk) = support::start().await;
    let env = HashMap::from([(
        STREAM_ORDERS_TABLE.to_owned(),
        table(&sdk, "StreamOrders", true).await,
    )]);
    let svc = StreamOrders::from_env(&sdk, &env).unwrap();

    let answer = stream::handle_api(
        &svc,
        post(r#"{"customerId":"c-1","lines":[{"productId":"p-1","quantity":2,"unitPriceCents":250}]}"#),
    )
    .await
    .unwrap();
    assert_eq!(answer.status_code, 201, "{:?}", answer.body);
    let Some(Body::Text(text)) = &answer.body else {
        panic!("no body")
    };
    let created: StreamOrderCreated = serde_json::from_str(text).unwrap();
    assert_eq!(created.status, StreamOrderStatus::Pending);
    assert_eq!(
        order(&svc, created.order_id.clone()).await["status"],
        "PENDING"
    );

    // The INSERT record moto's stream holds for the new item.
    let batch = stream_batch(&sdk, "StreamOrders").await;
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.records[0].event_name, "INSERT");

    let first = stream::process_record(&svc, &batch.records[0])
        .await
        .unwrap();
    assert_eq!(
        first,
        Outcome::Processed {
            order_id: created.order_id.clone()
        }
    );
    let after_first = order(&svc, created.order_id.clone()).await;
    assert_eq!(after_first["status"], "PROCESSED");

    // The same batch again (a retry after a timeout, say): no second transition.
    let again = stream::handle_stream(&svc, batch.clone()).await;
    assert!(again.batch_item_failures.is_empty(), "{again:?}");
    assert_eq!(
        stream::process_record(&svc, &batch.records[0])
            .await
            .unwrap(),
        Outcome::AlreadyProcessed {
            order_id: created.order_id.clone()
        }
    );
    let after_second = order(&svc, created.order_id.clone()).await;
    assert_eq!(after_second["processedAt"], after_first["processedAt"]);
    assert_eq!(after_second["streamEventId"], batch.records[0].event_id);

    // The stream now also carries our own PROCESSED update (MODIFY): skipped.
    let later = stream_batch(&sdk, "StreamOrders").await;
    assert_eq!(later.records.len(), 2);
    assert_eq!(
        stream::process_record(&svc, &later.records[1])
            .await
            .unwrap(),
        Outcome::Skipped
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_orders_are_refused_and_a_failing_record_stops_the_batch_there() {
    let (_moto, sdk) = support::start().await;
    let env = HashMap::from([(
        STREAM_ORDERS_TABLE.to_owned(),
        table(&sdk, "StreamOrders", true).await,
    )]);
    let svc = StreamOrders::from_env(&sdk, &env).unwrap();
    let answer = stream::handle_api(&svc, post(r#"{"customerId":"","lines":[]}"#))
        .await
        .unwrap();
    assert_eq!(answer.status_code, 400);

    for _ in 0..2 {
        let answer = stream::handle_api(
            &svc,
            post(
                r#"{"customerId":"c","lines":[{"productId":"p","quantity":1,"unitPriceCents":1}]}"#,
            ),
        )
        .await
        .unwrap();
        assert_eq!(answer.status_code, 201);
    }
    let mut batch = stream_batch(&sdk, "StreamOrders").await;
    assert_eq!(batch.records.len(), 2);
    // The first record names an order that is not in the table: it fails, and the batch
    // reports its sequence number and leaves the second record for the retry.
    let image = &mut batch.records[0].change.new_image;
    image.insert(
        "orderId".into(),
        serde_dynamo::AttributeValue::S("ord-missing".into()),
    );
    let response = stream::handle_stream(&svc, batch.clone()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(
        failed,
        vec![batch.records[0].change.sequence_number.clone()]
    );
    let second_id =
        pipeline_handlers::image_s(&batch.records[1].change.new_image, "orderId").unwrap();
    let second = stream::load_order(&svc, second_id).await.unwrap().unwrap();
    assert_eq!(
        strings(&second)["status"],
        "PENDING",
        "not processed past the failure"
    );
}
