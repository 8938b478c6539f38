//! Seed 002: the ingest API keeps every raw event in the S3 bronze layer, records its metadata
//! (ENQUEUED) and queues it; the worker marks it PROCESSED, once, however often it is delivered.

use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::primitives::ByteStream;
use contracts::ingest::{
    bronze_key, event_key, validate_event_type, EventStatus, IngestAccepted, IngestMessage,
    BRONZE_BUCKET, EVENTS_TABLE, INGEST_QUEUE_URL, MAX_PAYLOAD_BYTES,
};
use contracts::tables::PARTITION_KEY;
use contracts::FieldError;
use handler_support::batch;
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{get_s, is_conditional_check_failed, now_rfc3339, s, Item};
use serde_json::Value;

use crate::http::{error_body, v2};
use crate::Error;

/// What the ingest functions need.
#[derive(Clone, Debug)]
pub struct IngestService {
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub bucket: String,
    pub events_table: String,
    pub queue_url: String,
}

impl IngestService {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(IngestService {
            s3: aws_sdk_s3::Client::new(sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            bucket: require(env, BRONZE_BUCKET)?,
            events_table: require(env, EVENTS_TABLE)?,
            queue_url: require(env, INGEST_QUEUE_URL)?,
        })
    }
}

fn bad_request(field: &str, message: String) -> ApiGatewayV2httpResponse {
    v2(
        400,
        &error_body(
            "invalid event",
            vec![FieldError {
                field: field.into(),
                message,
            }],
        ),
    )
}

/// The event id: the payload's own `eventId` when it has one (so a client's retry stores the
/// event once), a fresh one otherwise.
fn event_id_of(payload: &serde_json::Map<String, Value>) -> Result<String, String> {
    match payload.get("eventId") {
        None => Ok(format!("evt-{}", uuid::Uuid::new_v4().simple())),
        Some(Value::String(id))
            if !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) =>
        {
            Ok(id.clone())
        }
        Some(other) => Err(format!(
            "eventId must be 1 to 128 letters, digits, '-' or '_', got {other}"
        )),
    }
}

/// The API function (HTTP API, payload format 2.0): validates, stores the raw body in bronze, writes the metadata (ENQUEUED),
/// queues the event and answers 202 with its id.
pub async fn handle_api(
    svc: &IngestService,
    req: ApiGatewayV2httpRequest,
) -> Result<ApiGatewayV2httpResponse, Error> {
    if req.is_base64_encoded {
        return Ok(v2(
            415,
            &error_body("binary request bodies are not supported", vec![]),
        ));
    }
    let raw = req.body.unwrap_or_default();
    if raw.len() > MAX_PAYLOAD_BYTES {
        return Ok(v2(
            413,
            &error_body(
                format!(
                    "payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
                    raw.len()
                ),
                vec![],
            ),
        ));
    }
    let payload = match serde_json::from_str::<Value>(&raw) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Ok(bad_request("", "the body must be a JSON object".into())),
        Err(e) => return Ok(bad_request("", format!("the body is not JSON: {e}"))),
    };
    let event_type = match payload.get("eventType") {
        Some(Value::String(t)) => t.clone(),
        _ => {
            return Ok(bad_request(
                "/eventType",
                "eventType (a string) is required".into(),
            ))
        }
    };
    if let Err(message) = validate_event_type(&event_type) {
        return Ok(bad_request("/eventType", message));
    }
    let event_id = match event_id_of(&payload) {
        Ok(id) => id,
        Err(message) => return Ok(bad_request("/eventId", message)),
    };
    let message = ingest(svc, &event_id, &event_type, raw).await?;
    lambda_runtime::tracing::info!(event_id = %message.event_id, key = %message.key, "ingested");
    Ok(v2(
        202,
        &IngestAccepted {
            status: "accepted".into(),
            event_id: message.event_id,
        },
    ))
}

/// Stores, records and queues one event, in the seed's order: the raw payload lands in bronze
/// first, so whatever fails later, the raw event is kept (an object without metadata is replayable;
/// metadata without its object would not be). A second call with the same id (a client's retry)
/// keeps the first record and queues it again, which the worker absorbs.
pub async fn ingest(
    svc: &IngestService,
    event_id: &str,
    event_type: &str,
    raw: String,
) -> Result<IngestMessage, Error> {
    let received_at = now_rfc3339();
    let mut message = IngestMessage {
        event_id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        bucket: svc.bucket.clone(),
        key: bronze_key(event_type, &received_at[..10], event_id),
        received_at: received_at.clone(),
    };
    let stored = svc
        .s3
        .put_object()
        .bucket(&svc.bucket)
        .key(&message.key)
        .content_type("application/json")
        // Bronze objects are immutable: a retry finds the first copy and keeps it.
        .if_none_match("*")
        .body(ByteStream::from(raw.into_bytes()))
        .send()
        .await;
    match stored {
        Ok(_) => {}
        Err(e) if crate::is_precondition_failed(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let put = svc
        .dynamodb
        .put_item()
        .table_name(&svc.events_table)
        .item(PARTITION_KEY, s(event_key(event_id)))
        .item("eventId", s(event_id))
        .item("eventType", s(event_type))
        .item("status", s(EventStatus::Enqueued.as_str()))
        .item("bucket", s(&message.bucket))
        .item("key", s(&message.key))
        .item("receivedAt", s(&received_at))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => {}
        Err(e) if is_conditional_check_failed(&e) => {
            let existing = load_event(svc, event_id)
                .await?
                .ok_or_else(|| format!("event {event_id} vanished"))?;
            if get_s(&existing, "eventType") != Some(event_type) {
                return Err(format!(
                    "event id {event_id} was already used for eventType {:?}",
                    get_s(&existing, "eventType")
                )
                .into());
            }
            let first_key = get_s(&existing, "key").unwrap_or_default().to_owned();
            if first_key != message.key {
                // A retry on a later day wrote a second copy under another date: the first
                // attempt's object is the event's one copy of record.
                svc.s3
                    .delete_object()
                    .bucket(&svc.bucket)
                    .key(&message.key)
                    .send()
                    .await?;
            }
            message.key = first_key;
            message.received_at = get_s(&existing, "receivedAt")
                .unwrap_or_default()
                .to_owned();
        }
        Err(e) => return Err(e.into()),
    }
    svc.sqs
        .send_message()
        .queue_url(&svc.queue_url)
        .message_body(serde_json::to_string(&message)?)
        .send()
        .await?;
    Ok(message)
}

/// The metadata item of an event (strongly consistent).
pub async fn load_event(svc: &IngestService, event_id: &str) -> Result<Option<Item>, Error> {
    crate::get_item(&svc.dynamodb, &svc.events_table, event_key(event_id)).await
}

/// What the worker did with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Processed {
    /// This delivery moved the event to PROCESSED.
    Now,
    /// It already was (a duplicate delivery).
    Already,
}

/// Processes one event: reads its raw payload back from bronze (it must be there and be JSON),
/// then moves its metadata from ENQUEUED to PROCESSED with a conditional update.
pub async fn process(svc: &IngestService, m: &IngestMessage) -> Result<Processed, Error> {
    let object = svc
        .s3
        .get_object()
        .bucket(&m.bucket)
        .key(&m.key)
        .send()
        .await?;
    let bytes = object.body.collect().await?.into_bytes();
    let payload: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("bronze object {} is not JSON: {e}", m.key))?;
    if payload.get("eventType").and_then(Value::as_str) != Some(m.event_type.as_str()) {
        return Err(format!("bronze object {} is not a {} event", m.key, m.event_type).into());
    }
    let update = svc
        .dynamodb
        .update_item()
        .table_name(&svc.events_table)
        .key(PARTITION_KEY, s(event_key(&m.event_id)))
        .update_expression("SET #status = :processed, processedAt = :now")
        .condition_expression("#status = :enqueued")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":processed", s(EventStatus::Processed.as_str()))
        .expression_attribute_values(":enqueued", s(EventStatus::Enqueued.as_str()))
        .expression_attribute_values(":now", s(now_rfc3339()))
        .send()
        .await;
    match update {
        Ok(_) => Ok(Processed::Now),
        Err(e) if is_conditional_check_failed(&e) => {
            let item = load_event(svc, &m.event_id).await?;
            match item.as_ref().and_then(|i| get_s(i, "status")) {
                Some(st) if st == EventStatus::Processed.as_str() => Ok(Processed::Already),
                other => Err(format!("event {} has status {other:?}", m.event_id).into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// The worker function: a batch of ingest messages, failures reported per message.
pub async fn handle_queue(svc: &IngestService, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let m: IngestMessage = serde_json::from_str(batch::body(&record)?)?;
        let outcome = process(svc, &m).await?;
        lambda_runtime::tracing::info!(event_id = %m.event_id, ?outcome, "processed");
        Ok(())
    })
    .await
}
