//! Test support: moto's server (shared with the seed-003 tests) and small AWS set-up helpers.
#![allow(dead_code)]

#[path = "../../../order-handlers/tests/support/moto.rs"]
pub mod moto;

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use contracts::tables::PARTITION_KEY;

pub use moto::MotoServer;

pub async fn start() -> (MotoServer, SdkConfig) {
    let moto = MotoServer::start();
    let sdk = pipeline_handlers::clients::local_sdk_config(&moto.endpoint).await;
    (moto, sdk)
}

/// A table with the platform's key layout, with a NEW_IMAGE stream when `stream` is set (as the
/// stacks declare them).
pub async fn table(sdk: &SdkConfig, name: &str, stream: bool) -> String {
    let mut req = aws_sdk_dynamodb::Client::new(sdk)
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(PARTITION_KEY)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(PARTITION_KEY)
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        );
    if stream {
        req = req.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .unwrap(),
        );
    }
    req.send().await.expect("create table");
    name.to_owned()
}

/// A queue (FIFO when the name ends in `.fifo`); returns its URL.
pub async fn queue(sdk: &SdkConfig, name: &str) -> String {
    let mut req = aws_sdk_sqs::Client::new(sdk)
        .create_queue()
        .queue_name(name);
    if name.ends_with(".fifo") {
        req = req.attributes(QueueAttributeName::FifoQueue, "true");
    }
    req.send().await.expect("create queue").queue_url.unwrap()
}

pub async fn queue_arn(sdk: &SdkConfig, url: &str) -> String {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone()
}

/// A versioned bucket (every write shows as a version, so a second write is visible).
pub async fn bucket(sdk: &SdkConfig, name: &str) -> String {
    let s3 = aws_sdk_s3::Client::new(sdk);
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("versioning");
    name.to_owned()
}

/// Everything in a queue now (received with a zero visibility wait, then deleted), as Lambda's
/// SQS event records.
pub async fn drain(sdk: &SdkConfig, url: &str) -> Vec<SqsMessage> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return out;
        }
        for m in messages {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.clone().unwrap())
                .send()
                .await
                .unwrap();
            let mut record = SqsMessage::default();
            record.message_id = m.message_id;
            record.body = m.body;
            record.event_source = Some("aws:sqs".into());
            out.push(record);
        }
    }
}

pub fn sqs_event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = records;
    e
}

/// The item's string attributes (for assertions).
pub fn strings(
    item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> HashMap<String, String> {
    item.iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.clone(), s.clone())))
        .collect()
}
