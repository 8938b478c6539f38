//! The seed-004 handlers against moto's server: analytics aggregation from Kinesis records (each event counted
//! once however often it is delivered), notification rendering and recording (once per event and channel),
//! invoices written to S3, thumbnails of uploaded catalog images.
//!
//! Table keys and environment variable names come from the synthesized `Analytics`, `Notifications` and
//! `Jobs` templates, so a handler that disagrees with its stack fails here.

#[path = "../../order-handlers/tests/support/moto.rs"]
mod moto;

use std::collections::BTreeMap;

use aws_config::SdkConfig;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use contracts::{
    envelope_for, DomainEvent, OrderPlaced, PaymentConfirmation, PaymentFailed, ShipmentCreated,
    StockConfirmation,
};
use platform_handlers::{analytics, clients, images, invoice, notifications};
use serde_json::{json, Value};

/// The synthesized template of a stack, as JSON.
fn template(stack: &str) -> Value {
    let app = stacks::app().expect("the platform app builds");
    let assembly = cfnkit::synth::synth(&app).expect("the platform synthesizes");
    let s = assembly
        .stacks
        .iter()
        .find(|s| &*s.name == stack)
        .unwrap_or_else(|| panic!("no stack {stack}"));
    serde_json::from_str(&s.template.to_json()).unwrap()
}

/// The partition key attribute of a table in a template.
fn partition_key(t: &Value, table: &str) -> String {
    t["Resources"][table]["Properties"]["KeySchema"][0]["AttributeName"]
        .as_str()
        .unwrap_or_else(|| panic!("{table} has no key schema"))
        .to_owned()
}

/// The environment variable names a function of a template is given.
fn env_names(t: &Value, function: &str) -> Vec<String> {
    t["Resources"][function]["Properties"]["Environment"]["Variables"]
        .as_object()
        .unwrap_or_else(|| panic!("{function} has no environment"))
        .keys()
        .cloned()
        .collect()
}

/// Settings for a handler: exactly the names the stack gives its function, with these values.
fn env(t: &Value, function: &str, values: &[(&str, &str)]) -> BTreeMap<String, String> {
    let names = env_names(t, function);
    let map: BTreeMap<String, String> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let given: Vec<&String> = map.keys().collect();
    assert_eq!(
        names.iter().collect::<Vec<_>>(),
        given,
        "{function}: the stack sets {names:?}, the test gives {given:?}"
    );
    map
}

async fn start() -> (moto::MotoServer, SdkConfig) {
    let server = moto::MotoServer::start();
    let sdk = clients::local_sdk_config(&server.endpoint).await;
    (server, sdk)
}

async fn create_table(sdk: &SdkConfig, name: &str, key: &str) {
    aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn create_bucket(sdk: &SdkConfig, name: &str) {
    aws_sdk_s3::Client::new(sdk)
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap();
}

async fn get_item(
    sdk: &SdkConfig,
    table: &str,
    key: &str,
    value: &str,
) -> Option<BTreeMap<String, AttributeValue>> {
    aws_sdk_dynamodb::Client::new(sdk)
        .get_item()
        .table_name(table)
        .key(key, AttributeValue::S(value.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .map(|i| i.into_iter().collect())
}

fn number(item: &BTreeMap<String, AttributeValue>, name: &str) -> u64 {
    item[name].as_n().unwrap().parse().unwrap()
}

/// The envelope EventBridge delivers for `event`, with an id and a time.
fn envelope<E: DomainEvent>(event: &E, id: &str, time: &str) -> Value {
    let mut v = serde_json::to_value(envelope_for(event)).unwrap();
    v["id"] = json!(id);
    v["time"] = json!(time);
    v["version"] = json!("0");
    v
}

/// A Kinesis batch as Lambda delivers it: one record per envelope, in order, with sequence numbers
/// [`seq`]`(0)`, `seq(1)`, ...
fn kinesis_event(envelopes: &[Value]) -> KinesisEvent {
    let mut event = KinesisEvent::default();
    for (i, e) in envelopes.iter().enumerate() {
        let mut record = KinesisEventRecord::default();
        record.event_source = Some("aws:kinesis".into());
        record.kinesis.partition_key = e["detail"]["orderId"].as_str().unwrap_or("").into();
        record.kinesis.sequence_number = seq(i);
        *record.kinesis.data = e.to_string().into_bytes();
        event.records.push(record);
    }
    event
}

fn seq(i: usize) -> String {
    format!("4959{i:020}")
}

fn sqs_event(bodies: &[Value]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, b) in bodies.iter().enumerate() {
        let mut m = SqsMessage::default();
        m.message_id = Some(format!("m-{i}"));
        m.body = Some(b.to_string());
        event.records.push(m);
    }
    event
}

fn payment(order: &str, cents: u64) -> PaymentConfirmation {
    PaymentConfirmation {
        order_id: order.into(),
        customer_id: format!("c-{order}"),
        payment_id: format!("p-{order}"),
        amount_cents: cents,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn analytics_counts_each_event_once_per_status_and_revenue_hour() {
    let t = template("Analytics");
    let key = partition_key(&t, "AnalyticsTable");
    assert_eq!(key, contracts::analytics::PK);
    let (_moto, sdk) = start().await;
    create_table(&sdk, "analytics", &key).await;
    let settings = env(
        &t,
        "Aggregator",
        &[(contracts::analytics::ANALYTICS_TABLE, "analytics")],
    );
    let agg = analytics::Aggregator::from_env(&sdk, &settings).unwrap();

    let placed = |o: &str| OrderPlaced {
        order_id: o.into(),
        customer_id: "c".into(),
        lines: vec![],
        total_cents: 0,
        placed_at: "2026-11-21T19:00:00Z".into(),
    };
    let stock = |o: &str, ok: bool| StockConfirmation {
        order_id: o.into(),
        customer_id: "c".into(),
        stock_confirmed: ok,
        total_cents: 0,
        reason: None,
    };
    let events = vec![
        envelope(&placed("o1"), "e1", "2026-11-21T19:00:00Z"),
        envelope(&placed("o2"), "e2", "2026-11-21T19:01:00Z"),
        envelope(&stock("o1", true), "e3", "2026-11-21T19:02:00Z"),
        envelope(&stock("o2", false), "e4", "2026-11-21T19:02:30Z"),
        envelope(&payment("o1", 1_250), "e5", "2026-11-21T19:59:59Z"),
        envelope(&payment("o3", 750), "e6", "2026-11-21T20:00:00Z"),
        envelope(&payment("o4", 1_000), "e7", "2026-11-21T19:30:00Z"),
    ];
    let first = analytics::handle(&agg, kinesis_event(&events)).await;
    assert!(
        first.batch_item_failures.is_empty(),
        "{:?}",
        first.batch_item_failures
    );
    // Kinesis redelivers whole batches after a failure: the same events again change nothing.
    let again = analytics::handle(&agg, kinesis_event(&events[..5])).await;
    assert!(again.batch_item_failures.is_empty());

    let count = |status: &str| {
        let sdk = sdk.clone();
        let key = key.clone();
        let status = contracts::analytics::status_key(status);
        async move {
            get_item(&sdk, "analytics", &key, &status)
                .await
                .map(|i| number(&i, "count"))
        }
    };
    assert_eq!(count("PLACED").await, Some(2));
    assert_eq!(count("STOCK_RESERVED").await, Some(1));
    assert_eq!(count("REJECTED").await, Some(1));
    assert_eq!(count("PAID").await, Some(3));
    assert_eq!(count("SHIPPED").await, None);
    let hour = get_item(&sdk, "analytics", &key, "REVENUE#2026-11-21T19")
        .await
        .unwrap();
    assert_eq!(
        (number(&hour, "revenueCents"), number(&hour, "payments")),
        (2_250, 2)
    );
    let next = get_item(&sdk, "analytics", &key, "REVENUE#2026-11-21T20")
        .await
        .unwrap();
    assert_eq!(
        (number(&next, "revenueCents"), number(&next, "payments")),
        (750, 1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn analytics_stops_the_batch_at_a_bad_record_so_lambda_retries_from_it() {
    let t = template("Analytics");
    let key = partition_key(&t, "AnalyticsTable");
    let (_moto, sdk) = start().await;
    create_table(&sdk, "analytics", &key).await;
    let settings = env(
        &t,
        "Aggregator",
        &[(contracts::analytics::ANALYTICS_TABLE, "analytics")],
    );
    let agg = analytics::Aggregator::from_env(&sdk, &settings).unwrap();
    let mut no_time = envelope(&payment("o9", 100), "e9", "");
    no_time.as_object_mut().unwrap().remove("time");
    let events = vec![
        envelope(&payment("o8", 100), "e8", "2026-11-21T10:00:00Z"),
        no_time,
        envelope(&payment("o10", 100), "e10", "2026-11-21T10:00:00Z"),
    ];
    let response = analytics::handle(&agg, kinesis_event(&events)).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, vec![seq(1)]);
    // The record after the failure was not applied: it will come again with the retry.
    let hour = get_item(&sdk, "analytics", &key, "REVENUE#2026-11-21T10")
        .await
        .unwrap();
    assert_eq!(number(&hour, "payments"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_are_rendered_and_recorded_once_per_event_and_channel() {
    let t = template("Notifications");
    let key = partition_key(&t, "NotificationsTable");
    let (_moto, sdk) = start().await;
    create_table(&sdk, "notifications", &key).await;
    let settings = env(
        &t,
        "Sender",
        &[
            (
                contracts::notifications::NOTIFICATIONS_TABLE,
                "notifications",
            ),
            (
                contracts::notifications::SES_CONFIGURATION_SET,
                "platform-emails",
            ),
        ],
    );
    let sender = notifications::Sender::from_env(&sdk, &settings).unwrap();
    let failed = PaymentFailed {
        order_id: "o2".into(),
        customer_id: "c2".into(),
        payment_id: "p2".into(),
        amount_cents: 4_999,
        reason: "card declined".into(),
    };
    let shipped = ShipmentCreated {
        order_id: "o1".into(),
        shipment_id: "s1".into(),
        tracking_number: "TRK123".into(),
    };
    let bodies = vec![
        envelope(&payment("o1", 1_250), "n1", "2026-11-21T19:00:00Z"),
        envelope(&failed, "n2", "2026-11-21T19:00:00Z"),
        envelope(&shipped, "n3", "2026-11-21T19:00:00Z"),
        // Not a notified event: reported as a failure, nothing recorded.
        envelope(
            &StockConfirmation {
                order_id: "o5".into(),
                customer_id: "c5".into(),
                stock_confirmed: true,
                total_cents: 1,
                reason: None,
            },
            "n4",
            "2026-11-21T19:00:00Z",
        ),
    ];
    let response = notifications::handle(&sender, sqs_event(&bodies)).await;
    let failed_ids: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed_ids, vec!["m-3".to_owned()]);

    let email = get_item(&sdk, "notifications", &key, "n1#EMAIL")
        .await
        .unwrap();
    assert_eq!(
        email["subject"].as_s().unwrap(),
        "Your order o1 is confirmed"
    );
    assert!(email["body"].as_s().unwrap().contains("$12.50"));
    assert_eq!(email["recipient"].as_s().unwrap(), "c-o1");
    assert_eq!(email["configurationSet"].as_s().unwrap(), "platform-emails");
    let sms = get_item(&sdk, "notifications", &key, "n2#SMS")
        .await
        .unwrap();
    assert_eq!(
        sms["body"].as_s().unwrap(),
        "Payment of $49.99 for order o2 failed: card declined."
    );
    assert!(!sms.contains_key("subject"));
    let ship = get_item(&sdk, "notifications", &key, "n3#EMAIL")
        .await
        .unwrap();
    assert!(ship["body"].as_s().unwrap().contains("TRK123"));
    assert_eq!(ship["recipient"].as_s().unwrap(), "order:o1");
    let sent_at = email["sentAt"].as_s().unwrap().clone();

    // Delivered again (at-least-once): nothing new is recorded, the first record stands.
    let new = notifications::notify(&sender, &bodies[0].to_string())
        .await
        .unwrap();
    assert_eq!(new, 0);
    let email_again = get_item(&sdk, "notifications", &key, "n1#EMAIL")
        .await
        .unwrap();
    assert_eq!(email_again["sentAt"].as_s().unwrap(), &sent_at);
    let items = aws_sdk_dynamodb::Client::new(&sdk)
        .scan()
        .table_name("notifications")
        .send()
        .await
        .unwrap();
    assert_eq!(
        items.count(),
        6,
        "an email and an SMS for each of the three notified events"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invoice_is_written_to_s3_per_confirmed_payment() {
    let t = template("Jobs");
    let (_moto, sdk) = start().await;
    create_bucket(&sdk, "invoices").await;
    let settings = env(
        &t,
        "InvoiceGenerator",
        &[(contracts::jobs::INVOICE_BUCKET, "invoices")],
    );
    let writer = invoice::InvoiceWriter::from_env(&sdk, &settings).unwrap();
    let body = envelope(&payment("o7", 12_345), "i1", "2026-11-21T19:00:00Z");
    let response = invoice::handle(&writer, sqs_event(&[body.clone(), body])).await;
    assert!(response.batch_item_failures.is_empty());

    let s3 = aws_sdk_s3::Client::new(&sdk);
    let object = s3
        .get_object()
        .bucket("invoices")
        .key("invoices/o7.txt")
        .send()
        .await
        .unwrap();
    let text =
        String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    assert!(text.contains("Order:     o7"), "{text}");
    assert!(text.contains("Amount:    $123.45"), "{text}");
    let listed = s3
        .list_objects_v2()
        .bucket("invoices")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.key_count(),
        Some(1),
        "one invoice per order, however often the event comes"
    );
    // Not a payment confirmation: refused.
    let wrong = envelope(
        &ShipmentCreated {
            order_id: "o7".into(),
            shipment_id: "s".into(),
            tracking_number: "t".into(),
        },
        "i2",
        "2026-11-21T19:00:00Z",
    );
    assert!(invoice::write(&writer, &wrong.to_string()).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_catalog_image_gets_a_thumbnail_and_its_product_the_keys() {
    let t = template("Jobs");
    let key = partition_key(&t, "CatalogTable");
    let (_moto, sdk) = start().await;
    create_bucket(&sdk, "images").await;
    create_table(&sdk, "catalog", &key).await;
    let settings = env(
        &t,
        "ImageResizer",
        &[
            (contracts::jobs::CATALOG_TABLE, "catalog"),
            (contracts::jobs::IMAGE_BUCKET, "images"),
        ],
    );
    let resizer = images::Resizer::from_env(&sdk, &settings).unwrap();

    // A 600x300 gradient PNG.
    let img = image::RgbImage::from_fn(600, 300, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let s3 = aws_sdk_s3::Client::new(&sdk);
    s3.put_object()
        .bucket("images")
        .key("uploads/p-42/front.png")
        .body(png.into_inner().into())
        .send()
        .await
        .unwrap();
    let created = json!({
        "version": "0", "id": "x", "source": "aws.s3", "detail-type": "Object Created",
        "detail": {"bucket": {"name": "images"}, "object": {"key": "uploads/p-42/front.png", "size": 1}}
    });
    let response = images::handle(&resizer, sqs_event(&[created])).await;
    assert!(response.batch_item_failures.is_empty());

    let thumb = s3
        .get_object()
        .bucket("images")
        .key("thumbnails/p-42/front.png")
        .send()
        .await
        .unwrap();
    let bytes = thumb.body.collect().await.unwrap().into_bytes();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (256, 128),
        "fits 256x256, aspect ratio kept"
    );
    let product = get_item(&sdk, "catalog", &key, "p-42").await.unwrap();
    assert_eq!(
        product["thumbnailKey"].as_s().unwrap(),
        "thumbnails/p-42/front.png"
    );

    // A thumbnail never triggers another resize.
    let outside = json!({"detail": {"bucket": {"name": "images"}, "object": {"key": "thumbnails/p-42/front.png"}}});
    assert_eq!(
        images::resize(&resizer, &outside.to_string())
            .await
            .unwrap(),
        None
    );
}
