//! Seed 000 against moto's server: the order and its outbox event are written together, and the
//! relay publishes the event once per channel even when it dies between publishing and marking,
//! and loses nothing.
//!
//! How the crashes are simulated:
//! - *between publishing and marking*: the test runs the relay's own steps up to the end of the
//!   publication ([`relay::claim`], [`relay::publish_pending`]) and stops there, as a process
//!   killed at that point would; then the stream record comes again and the relay runs in full.
//! - *between one channel's publication and its ledger entry*: every sink is wrapped so that it
//!   publishes for real and then fails once, as if the process died right after the call.
//!
//! The Lambda channel: moto cannot run Lambda code, so the relay's real [`FunctionSink`] talks to
//! a small local stand-in of the Lambda Invoke API that records each call (path, invocation type,
//! payload) and answers 202 like Lambda does for `InvocationType: Event`; the recorded payloads
//! are then handed to the receipt function, as Lambda would.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::dynamodb::Event;
use contracts::outbox::{outbox_key, Channel, OutboxEvent, ProviderCredentials};
use contracts::tables::{order_key, PARTITION_KEY};
use contracts::{CreateOrderRequest, OrderLineRequest};
use futures_util::future::BoxFuture;
use pipeline_handlers::outbox::{self, OutboxWriter};
use pipeline_handlers::receipt::{self, Receipt, ReceiptService};
use pipeline_handlers::relay::{
    self, ArchiveSink, FunctionSink, QueueSink, Relay, Relayed, Sink, TopicSink,
};
use pipeline_handlers::Error;
use serde_json::json;
use support::{bucket, drain, queue, queue_arn, sqs_event, strings, table};

/// One recorded Invoke call.
#[derive(Debug, Clone)]
struct Invocation {
    path: String,
    invocation_type: String,
    payload: String,
}

/// A stand-in for the Lambda Invoke API on 127.0.0.1 (keep-alive connections, one thread each).
fn fake_lambda() -> (String, Arc<Mutex<Vec<Invocation>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let recorded = calls.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let recorded = recorded.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = HashMap::new();
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = line.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                        }
                    }
                    let len: usize = headers
                        .get("content-length")
                        .map_or(0, |v| v.parse().unwrap());
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    recorded.lock().unwrap().push(Invocation {
                        path: request_line
                            .split_whitespace()
                            .nth(1)
                            .unwrap_or_default()
                            .to_owned(),
                        invocation_type: headers
                            .get("x-amz-invocation-type")
                            .cloned()
                            .unwrap_or_default(),
                        payload: String::from_utf8(body).unwrap(),
                    });
                    writer
                        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nx-amzn-RequestId: fake\r\n\r\n")
                        .unwrap();
                }
            });
        }
    });
    (endpoint, calls)
}

struct Deployed {
    _moto: support::MotoServer,
    sdk: SdkConfig,
    writer: OutboxWriter,
    relay: Relay,
    receipts: ReceiptService,
    queue_url: String,
    topic_queue_url: String,
    retry_url: String,
    bucket: String,
    invocations: Arc<Mutex<Vec<Invocation>>>,
}

/// Sinks that publish for real, then fail once each, as if the relay died right after the call.
struct DiesAfterPublishing {
    inner: Box<dyn Sink>,
    armed: AtomicBool,
}

impl Sink for DiesAfterPublishing {
    fn channel(&self) -> Channel {
        self.inner.channel()
    }
    fn publish<'a>(&'a self, event: &'a OutboxEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.inner.publish(event).await?;
            if self.armed.swap(false, Ordering::SeqCst) {
                return Err(
                    format!("relay died right after publishing on {:?}", self.channel()).into(),
                );
            }
            Ok(())
        })
    }
}

async fn deploy(lease_seconds: u32) -> Deployed {
    let (moto, sdk) = support::start().await;
    let orders = table(&sdk, "OutboxOrders", false).await;
    let outbox_table = table(&sdk, "Outbox", true).await;
    let ledger = table(&sdk, "PublishLedger", false).await;
    let queue_url = queue(&sdk, "outbox-events.fifo").await;
    let retry_url = queue(&sdk, "relay-retry").await;
    let topic_queue_url = queue(&sdk, "topic-subscriber.fifo").await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic_arn = sns
        .create_topic()
        .name("outbox-events.fifo")
        .attributes("FifoTopic", "true")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn(&sdk, &topic_queue_url).await)
        .send()
        .await
        .unwrap();
    let bucket = bucket(&sdk, "receipts").await;
    let secret_arn = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("provider-credentials")
        .secret_string(
            serde_json::to_string(&ProviderCredentials {
                api_key: "k-1".into(),
            })
            .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let (lambda_endpoint, invocations) = fake_lambda();
    let lambda_sdk = pipeline_handlers::clients::local_sdk_config(&lambda_endpoint).await;

    let writer = OutboxWriter {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        orders_table: orders,
        outbox_table: outbox_table.clone(),
    };
    let relay = Relay {
        dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        outbox_table,
        ledger_table: ledger.clone(),
        retry_queue_url: retry_url.clone(),
        lease_seconds,
        retry_delay_seconds: lease_seconds,
        sinks: vec![
            Box::new(QueueSink {
                sqs: aws_sdk_sqs::Client::new(&sdk),
                queue_url: queue_url.clone(),
            }),
            Box::new(TopicSink { sns, topic_arn }),
            Box::new(ArchiveSink {
                s3: aws_sdk_s3::Client::new(&sdk),
                bucket: bucket.clone(),
            }),
            Box::new(FunctionSink {
                lambda: aws_sdk_lambda::Client::new(&lambda_sdk),
                function_name: "outbox-receipt".into(),
            }),
        ],
    };
    let receipts = ReceiptService::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_secretsmanager::Client::new(&sdk),
        ledger,
        secret_arn,
    );
    Deployed {
        _moto: moto,
        sdk,
        writer,
        relay,
        receipts,
        queue_url,
        topic_queue_url,
        retry_url,
        bucket,
        invocations,
    }
}

fn order_request() -> CreateOrderRequest {
    CreateOrderRequest {
        customer_id: "c-1".into(),
        lines: vec![OrderLineRequest {
            product_id: "p-1".into(),
            quantity: 3,
            unit_price_cents: 700,
        }],
    }
}

/// The stream record of a new outbox item, as Lambda delivers it.
fn insert_record(event_id: &str, sequence: &str) -> Event {
    serde_json::from_value(json!({"Records": [{
        "awsRegion": "us-east-1",
        "eventID": format!("rec-{sequence}"),
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"pk": {"S": outbox_key(event_id)}},
            "NewImage": {"pk": {"S": outbox_key(event_id)}, "eventId": {"S": event_id}, "status": {"S": "PENDING"}},
            "SequenceNumber": sequence,
            "SizeBytes": 100,
            "StreamViewType": "NEW_IMAGE"
        }
    }]}))
    .unwrap()
}

async fn item(sdk: &SdkConfig, table: &str, key: String) -> Option<HashMap<String, String>> {
    aws_sdk_dynamodb::Client::new(sdk)
        .get_item()
        .table_name(table)
        .key(
            PARTITION_KEY,
            aws_sdk_dynamodb::types::AttributeValue::S(key),
        )
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .map(|i| strings(&i))
}

/// How often the event reached each channel, as its consumers see it.
async fn deliveries(d: &Deployed, event: &OutboxEvent) -> (usize, usize, usize, usize) {
    let queued = drain(&d.sdk, &d.queue_url).await;
    for m in &queued {
        let got: OutboxEvent = serde_json::from_str(m.body.as_deref().unwrap()).unwrap();
        assert_eq!(&got, event);
    }
    let fanned_out = drain(&d.sdk, &d.topic_queue_url).await.len();
    let versions = aws_sdk_s3::Client::new(&d.sdk)
        .list_object_versions()
        .bucket(&d.bucket)
        .prefix(contracts::outbox::receipt_key(event))
        .send()
        .await
        .unwrap()
        .versions()
        .len();
    let invoked = d.invocations.lock().unwrap().len();
    (queued.len(), fanned_out, versions, invoked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_event_is_published_once_when_the_relay_dies_between_publishing_and_marking() {
    let d = deploy(1).await;
    let event = outbox::place_order(&d.writer, &order_request())
        .await
        .unwrap();

    // One transaction wrote both: the order and its PENDING outbox event.
    let order = item(&d.sdk, &d.writer.orders_table, order_key(&event.order_id))
        .await
        .expect("order");
    assert_eq!(order["status"], "PENDING");
    let pending = item(&d.sdk, &d.relay.outbox_table, outbox_key(&event.event_id))
        .await
        .expect("outbox");
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(
        serde_json::from_str::<OutboxEvent>(&pending["event"]).unwrap(),
        event
    );

    // The relay publishes on all four channels and dies before marking the event.
    let lease = relay::claim(&d.relay, &event.event_id)
        .await
        .unwrap()
        .expect("a lease");
    let published = relay::publish_pending(&d.relay, &lease).await.unwrap();
    assert_eq!(published, Channel::ALL.to_vec());
    drop(lease);
    let after_crash = item(&d.sdk, &d.relay.outbox_table, outbox_key(&event.event_id))
        .await
        .unwrap();
    assert_eq!(
        after_crash["status"], "PENDING",
        "not lost: still to be marked"
    );

    // Lambda retries the stream batch at once; the dead run's lease still holds, so the relay
    // hands the event to its retry queue instead of publishing concurrently.
    let response = relay::handle_stream(&d.relay, insert_record(&event.event_id, "100")).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        deliveries(&d, &event).await,
        (1, 1, 1, 1),
        "published once so far"
    );

    // The retry comes after the lease lapsed: the ledger shows every channel, so the relay only
    // marks the event.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let retries = drain(&d.sdk, &d.retry_url).await;
    assert_eq!(retries.len(), 1, "the retry queue holds the event");
    let lease = relay::claim(&d.relay, &event.event_id)
        .await
        .unwrap()
        .expect("a lease");
    assert!(
        relay::publish_pending(&d.relay, &lease)
            .await
            .unwrap()
            .is_empty(),
        "nothing left to publish"
    );
    relay::mark_published(&d.relay, &lease).await.unwrap();
    let done = item(&d.sdk, &d.relay.outbox_table, outbox_key(&event.event_id))
        .await
        .unwrap();
    assert_eq!(done["status"], "PUBLISHED");
    assert!(!done.contains_key("leaseOwner"));

    // The queued retry and a further stream duplicate find it published.
    let response = relay::handle_retries(&d.relay, sqs_event(retries)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        relay::relay_event(&d.relay, &event.event_id).await.unwrap(),
        Relayed::Already
    );
    let response = relay::handle_stream(&d.relay, insert_record(&event.event_id, "100")).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        deliveries(&d, &event).await,
        (0, 0, 1, 1),
        "nothing published again"
    );

    // What the Lambda channel sent: an asynchronous invocation carrying the event.
    let calls = d.invocations.lock().unwrap().clone();
    assert_eq!(
        calls[0].path,
        "/2015-03-31/functions/outbox-receipt/invocations"
    );
    assert_eq!(calls[0].invocation_type, "Event");
    assert_eq!(
        serde_json::from_str::<OutboxEvent>(&calls[0].payload).unwrap(),
        event
    );
    for c in Channel::ALL {
        assert!(
            relay::in_ledger(&d.relay, &event.event_id, c)
                .await
                .unwrap(),
            "{c:?} in the ledger"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_death_right_after_a_channel_publish_is_absorbed_by_that_channel() {
    let mut d = deploy(1).await;
    let sinks = std::mem::take(&mut d.relay.sinks);
    d.relay.sinks = sinks
        .into_iter()
        .map(|inner| {
            Box::new(DiesAfterPublishing {
                inner,
                armed: AtomicBool::new(true),
            }) as Box<dyn Sink>
        })
        .collect();
    let event = outbox::place_order(&d.writer, &order_request())
        .await
        .unwrap();

    // Each run publishes the next channel, dies before its ledger entry, and its event goes to
    // the retry queue; the retry (after the lease) publishes that channel again.
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 5, "the relay should be done after five runs");
        let response =
            relay::handle_stream(&d.relay, insert_record(&event.event_id, &runs.to_string())).await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
        let outbox = item(&d.sdk, &d.relay.outbox_table, outbox_key(&event.event_id))
            .await
            .unwrap();
        if outbox["status"] == "PUBLISHED" {
            break;
        }
        // The retry is delayed by the lease (1 s here).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(
            drain(&d.sdk, &d.retry_url).await.len(),
            1,
            "run {runs}: retry scheduled"
        );
    }
    assert_eq!(runs, 5);

    // Every channel was called twice; consumers see the event once: FIFO deduplication by event
    // id on the queue and the topic, the conditional archive write...
    let (queued, fanned_out, archived, invoked) = deliveries(&d, &event).await;
    assert_eq!((queued, fanned_out, archived), (1, 1, 1));
    // ...and the receipt function recording each event id once.
    assert_eq!(
        invoked, 2,
        "an asynchronous invoke cannot be deduplicated by the caller"
    );
    let calls = d.invocations.lock().unwrap().clone();
    let mut outcomes = Vec::new();
    for call in calls {
        let payload: OutboxEvent = serde_json::from_str(&call.payload).unwrap();
        outcomes.push(receipt::handle(&d.receipts, payload).await.unwrap());
    }
    assert!(
        matches!(outcomes[0], Receipt::Delivered { ref version_id } if !version_id.is_empty()),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], Receipt::Duplicate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_channel_leaves_the_event_pending_and_the_retry_queue_finishes_it() {
    let mut d = deploy(1).await;
    // The topic does not exist: publishing fails until it is fixed.
    let good_topic = d.relay.sinks.remove(1);
    d.relay.sinks.insert(
        1,
        Box::new(TopicSink {
            sns: aws_sdk_sns::Client::new(&d.sdk),
            topic_arn: "arn:aws:sns:us-east-1:123456789012:missing.fifo".into(),
        }),
    );
    let event = outbox::place_order(&d.writer, &order_request())
        .await
        .unwrap();
    let response = relay::handle_stream(&d.relay, insert_record(&event.event_id, "1")).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let outbox = item(&d.sdk, &d.relay.outbox_table, outbox_key(&event.event_id))
        .await
        .unwrap();
    assert_eq!(outbox["status"], "PENDING");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let retries = drain(&d.sdk, &d.retry_url).await;
    assert_eq!(retries.len(), 1);

    // Still failing: the retry reports the message, so SQS keeps it (and its DLQ gets it at last).
    let response = relay::handle_retries(&d.relay, sqs_event(retries.clone())).await;
    assert_eq!(response.batch_item_failures.len(), 1);

    d.relay.sinks[1] = good_topic;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = relay::handle_retries(&d.relay, sqs_event(retries)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let outbox = item(&d.sdk, &d.relay.outbox_table, outbox_key(&event.event_id))
        .await
        .unwrap();
    assert_eq!(outbox["status"], "PUBLISHED");
    assert_eq!(deliveries(&d, &event).await, (1, 1, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_validates_and_a_failed_outbox_write_leaves_no_order() {
    let d = deploy(1).await;
    let mut req = aws_lambda_events::apigw::ApiGatewayProxyRequest::default();
    req.http_method = aws_lambda_events::http::Method::POST;
    req.body = Some(r#"{"customerId":"c-1","lines":[]}"#.into());
    let answer = outbox::handle_api(&d.writer, req.clone()).await.unwrap();
    assert_eq!(answer.status_code, 400);

    req.body = Some(serde_json::to_string(&order_request()).unwrap());
    let answer = outbox::handle_api(&d.writer, req.clone()).await.unwrap();
    assert_eq!(answer.status_code, 201, "{:?}", answer.body);

    // The outbox half of the transaction cannot be written (its table is gone): the order is not
    // written either.
    let broken = OutboxWriter {
        outbox_table: "NoSuchOutbox".into(),
        ..d.writer.clone()
    };
    let scanned = |sdk: &SdkConfig, table: String| {
        let client = aws_sdk_dynamodb::Client::new(sdk);
        async move { client.scan().table_name(table).send().await.unwrap().count }
    };
    let before = scanned(&d.sdk, d.writer.orders_table.clone()).await;
    assert!(outbox::handle_api(&broken, req).await.is_err());
    assert_eq!(scanned(&d.sdk, d.writer.orders_table.clone()).await, before);
    assert_eq!(before, 1);
}
