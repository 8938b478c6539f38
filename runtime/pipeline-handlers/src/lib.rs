//! Lambda handlers of seeds 000, 001 and 002, beside the seed-003 platform (`runtime/order-handlers`,
//! whose SDK configuration, SQS batch helper, configuration lookup and DynamoDB helpers they
//! share). Each function is a thin binary in `src/bin/` over a plain `async fn` of this library;
//! the tests call those functions against moto's server.
//!
//! | binary | seed | event | module |
//! | --- | --- | --- | --- |
//! | `ingest_api` | 002 | HTTP API (v2) request, `POST /events` | [`ingest::handle_api`] |
//! | `ingest_worker` | 002 | SQS batch of [`contracts::ingest::IngestMessage`] | [`ingest::handle_queue`] |
//! | `stream_create_order` | 001 | HTTP API (v2) request, `POST /orders` | [`stream::handle_api`] |
//! | `stream_process_order` | 001 | DynamoDB stream batch (NEW_IMAGE) | [`stream::handle_stream`] |
//! | `outbox_api` | 000 | API Gateway proxy request (REST), `POST /orders` | [`outbox::handle_api`] |
//! | `outbox_relay` | 000 | outbox table stream batch, or SQS batch of retries | [`relay::handle_stream`], [`relay::handle_retries`] |
//! | `outbox_receipt` | 000 | asynchronous invocation with an [`contracts::outbox::OutboxEvent`] | [`receipt::handle`] |
//! | `provider_secret_rotation` | 000 | Secrets Manager rotation step | [`rotation::handle`] |

pub mod http;
pub mod ingest;
pub mod outbox;
pub mod receipt;
pub mod relay;
pub mod rotation;
pub mod stream;

pub use handler_support::{clients, Error, ProcessEnv};

/// A string attribute of a stream record's image.
pub fn image_s<'a>(image: &'a serde_dynamo::Item, key: &str) -> Option<&'a str> {
    match image.get(key) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}

/// The item with partition key `key` of `table` (strongly consistent), if any.
pub async fn get_item(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
    key: String,
) -> Result<Option<handler_support::util::Item>, Error> {
    Ok(dynamodb
        .get_item()
        .table_name(table)
        .key(
            contracts::tables::PARTITION_KEY,
            handler_support::util::s(key),
        )
        .consistent_read(true)
        .send()
        .await?
        .item)
}

/// Whether an S3 `PutObject` failed because `If-None-Match: *` found the key taken (412): an
/// earlier attempt wrote it already.
pub fn is_precondition_failed<E>(
    err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    err.raw_response().map(|r| r.status().as_u16()) == Some(412)
}
