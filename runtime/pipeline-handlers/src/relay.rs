//! Seed 000, the relay: publishes every outbox event to its four channels exactly once per
//! event id, then marks it PUBLISHED. Fed by the outbox table's stream (new images), and by its
//! own retry queue for events whose publication failed.
//!
//! How "exactly once" holds when the relay dies anywhere:
//! - **One relay at a time per event**: a relay first takes a lease on the outbox item
//!   (conditional update); a second relay (a stream retry, the retry queue) is refused until the
//!   lease lapses, so two relays never publish the same event concurrently.
//! - **Publish ledger**: after each channel's publication the relay writes the item
//!   `PUBLISHED#<event>#<channel>` (conditional put). A relay that died between publishing and
//!   marking is retried; the retry skips every channel the ledger shows and only marks.
//! - **The last gap**, a death between one channel's publication and its ledger item, is closed
//!   on the channel: the queue and the topic are FIFO with the event id as deduplication id, the
//!   archive write is conditional (`If-None-Match: *` on a key derived from the event), and the
//!   receipt function records each event id once (the asynchronous invocation has no
//!   deduplication of its own; see [`crate::receipt`]).
//! - **Nothing lost**: the outbox item stays PENDING until every channel is in the ledger; a
//!   failed attempt goes to the retry queue (delayed past the lease), whose own DLQ and alarm
//!   catch an event that keeps failing.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_lambda_events::dynamodb::Event;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_s3::primitives::ByteStream;
use contracts::outbox::{
    ledger_key, outbox_key, receipt_key, Channel, OutboxEvent, OutboxStatus, RetryRequest,
    DEFAULT_LEASE_SECONDS, LEASE_SECONDS, OUTBOX_QUEUE_URL, OUTBOX_TABLE, OUTBOX_TOPIC_ARN,
    PUBLISH_LEDGER_TABLE, RECEIPT_BUCKET, RECEIPT_FUNCTION_NAME, RETRY_DELAY_SECONDS,
    RETRY_QUEUE_URL,
};
use contracts::tables::PARTITION_KEY;
use futures_util::future::BoxFuture;
use handler_support::batch;
use handler_support::config::{number_or, require, ConfigError, Lookup};
use handler_support::util::{describe, get_s, is_conditional_check_failed, n, now_rfc3339, s};

use crate::{image_s, Error};

/// One channel the relay publishes to.
pub trait Sink: Send + Sync {
    fn channel(&self) -> Channel;
    /// Publishes `event`; safe to call again for the same event (see the module docs for how
    /// each channel deduplicates).
    fn publish<'a>(&'a self, event: &'a OutboxEvent) -> BoxFuture<'a, Result<(), Error>>;
}

/// The FIFO queue: message group = order, deduplication id = event id.
pub struct QueueSink {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl Sink for QueueSink {
    fn channel(&self) -> Channel {
        Channel::Queue
    }
    fn publish<'a>(&'a self, event: &'a OutboxEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.sqs
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(serde_json::to_string(event)?)
                .message_group_id(&event.order_id)
                .message_deduplication_id(&event.event_id)
                .send()
                .await?;
            Ok(())
        })
    }
}

/// The FIFO topic: message group = order, deduplication id = event id.
pub struct TopicSink {
    pub sns: aws_sdk_sns::Client,
    pub topic_arn: String,
}

impl Sink for TopicSink {
    fn channel(&self) -> Channel {
        Channel::Topic
    }
    fn publish<'a>(&'a self, event: &'a OutboxEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.sns
                .publish()
                .topic_arn(&self.topic_arn)
                .message(serde_json::to_string(event)?)
                .message_group_id(&event.order_id)
                .message_deduplication_id(&event.event_id)
                .send()
                .await?;
            Ok(())
        })
    }
}

/// The e-receipt archive: one object per event, written only if absent.
pub struct ArchiveSink {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

impl Sink for ArchiveSink {
    fn channel(&self) -> Channel {
        Channel::Archive
    }
    fn publish<'a>(&'a self, event: &'a OutboxEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let put = self
                .s3
                .put_object()
                .bucket(&self.bucket)
                .key(receipt_key(event))
                .content_type("application/json")
                .if_none_match("*")
                .body(ByteStream::from(serde_json::to_vec(event)?))
                .send()
                .await;
            match put {
                Ok(_) => Ok(()),
                // 412: an earlier attempt archived it already.
                Err(e) if crate::is_precondition_failed(&e) => Ok(()),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// The receipt function, invoked asynchronously (`InvocationType: Event`).
pub struct FunctionSink {
    pub lambda: aws_sdk_lambda::Client,
    pub function_name: String,
}

impl Sink for FunctionSink {
    fn channel(&self) -> Channel {
        Channel::Function
    }
    fn publish<'a>(&'a self, event: &'a OutboxEvent) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let out = self
                .lambda
                .invoke()
                .function_name(&self.function_name)
                .invocation_type(InvocationType::Event)
                .payload(aws_sdk_lambda::primitives::Blob::new(serde_json::to_vec(
                    event,
                )?))
                .send()
                .await?;
            if out.status_code() != 202 {
                return Err(format!(
                    "asynchronous invoke of {} answered {}",
                    self.function_name,
                    out.status_code()
                )
                .into());
            }
            Ok(())
        })
    }
}

/// What the relay needs.
pub struct Relay {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub outbox_table: String,
    pub ledger_table: String,
    pub retry_queue_url: String,
    pub lease_seconds: u32,
    /// How long the retry queue holds a failed event back: at least the lease, so the retry
    /// finds the failed run's lease lapsed.
    pub retry_delay_seconds: u32,
    /// Published in this order.
    pub sinks: Vec<Box<dyn Sink>>,
}

impl Relay {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        let sinks: Vec<Box<dyn Sink>> = vec![
            Box::new(QueueSink {
                sqs: aws_sdk_sqs::Client::new(sdk),
                queue_url: require(env, OUTBOX_QUEUE_URL)?,
            }),
            Box::new(TopicSink {
                sns: aws_sdk_sns::Client::new(sdk),
                topic_arn: require(env, OUTBOX_TOPIC_ARN)?,
            }),
            Box::new(ArchiveSink {
                s3: aws_sdk_s3::Client::new(sdk),
                bucket: require(env, RECEIPT_BUCKET)?,
            }),
            Box::new(FunctionSink {
                lambda: aws_sdk_lambda::Client::new(sdk),
                function_name: require(env, RECEIPT_FUNCTION_NAME)?,
            }),
        ];
        let lease_seconds = number_or(env, LEASE_SECONDS, DEFAULT_LEASE_SECONDS)?;
        Ok(Relay {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            outbox_table: require(env, OUTBOX_TABLE)?,
            ledger_table: require(env, PUBLISH_LEDGER_TABLE)?,
            retry_queue_url: require(env, RETRY_QUEUE_URL)?,
            lease_seconds,
            retry_delay_seconds: RETRY_DELAY_SECONDS.max(lease_seconds),
            sinks,
        })
    }
}

/// What relaying one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relayed {
    /// Marked PUBLISHED now; `published` are the channels this run published to (the others
    /// were in the ledger already).
    Now { published: Vec<Channel> },
    /// It was PUBLISHED already (a duplicate delivery).
    Already,
}

/// A lease on one outbox item, held by one relay run.
#[derive(Debug, Clone)]
pub struct Lease {
    pub event: OutboxEvent,
    owner: String,
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

async fn load_outbox(
    relay: &Relay,
    event_id: &str,
) -> Result<Option<handler_support::util::Item>, Error> {
    crate::get_item(&relay.dynamodb, &relay.outbox_table, outbox_key(event_id)).await
}

fn is_published(item: &handler_support::util::Item) -> bool {
    get_s(item, "status") == Some(OutboxStatus::Published.as_str())
}

/// Takes the lease on a PENDING event: `Ok(None)` when it is PUBLISHED already; an error when
/// another relay holds an unexpired lease (retry later).
pub async fn claim(relay: &Relay, event_id: &str) -> Result<Option<Lease>, Error> {
    let item = load_outbox(relay, event_id)
        .await?
        .ok_or_else(|| format!("outbox event {event_id} does not exist"))?;
    if is_published(&item) {
        return Ok(None);
    }
    let event: OutboxEvent = serde_json::from_str(
        get_s(&item, "event").ok_or_else(|| format!("outbox event {event_id} lacks `event`"))?,
    )?;
    let owner = uuid::Uuid::new_v4().simple().to_string();
    let now = now_millis();
    let until = now + u128::from(relay.lease_seconds) * 1000;
    let update = relay
        .dynamodb
        .update_item()
        .table_name(&relay.outbox_table)
        .key(PARTITION_KEY, s(outbox_key(event_id)))
        .update_expression("SET leaseOwner = :owner, leaseUntil = :until")
        .condition_expression(
            "#status = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":pending", s(OutboxStatus::Pending.as_str()))
        .expression_attribute_values(":owner", s(&owner))
        .expression_attribute_values(":until", n(until))
        .expression_attribute_values(":now", n(now))
        .send()
        .await;
    match update {
        Ok(_) => Ok(Some(Lease { event, owner })),
        Err(e) if is_conditional_check_failed(&e) => match load_outbox(relay, event_id).await? {
            Some(item) if is_published(&item) => Ok(None),
            _ => Err(format!("outbox event {event_id} is leased by another relay").into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Whether the ledger shows `event_id` published on `channel`.
pub async fn in_ledger(relay: &Relay, event_id: &str, channel: Channel) -> Result<bool, Error> {
    Ok(crate::get_item(
        &relay.dynamodb,
        &relay.ledger_table,
        ledger_key(event_id, channel),
    )
    .await?
    .is_some())
}

/// Publishes the leased event on every channel the ledger does not show yet, recording each in
/// the ledger right after its publication. Returns the channels published now.
pub async fn publish_pending(relay: &Relay, lease: &Lease) -> Result<Vec<Channel>, Error> {
    let event = &lease.event;
    let mut published = Vec::new();
    for sink in &relay.sinks {
        let channel = sink.channel();
        if in_ledger(relay, &event.event_id, channel).await? {
            continue;
        }
        sink.publish(event).await.map_err(|e| {
            format!(
                "publishing {} on {}: {}",
                event.event_id,
                channel.as_str(),
                describe(e.as_ref())
            )
        })?;
        let put = relay
            .dynamodb
            .put_item()
            .table_name(&relay.ledger_table)
            .item(PARTITION_KEY, s(ledger_key(&event.event_id, channel)))
            .item("eventId", s(&event.event_id))
            .item("channel", s(channel.as_str()))
            .item("publishedAt", s(now_rfc3339()))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .send()
            .await;
        match put {
            Ok(_) => {}
            Err(e) if is_conditional_check_failed(&e) => {}
            Err(e) => return Err(e.into()),
        }
        published.push(channel);
    }
    Ok(published)
}

/// Marks the leased event PUBLISHED (only while this relay still holds the lease).
pub async fn mark_published(relay: &Relay, lease: &Lease) -> Result<(), Error> {
    let event_id = &lease.event.event_id;
    let update = relay
        .dynamodb
        .update_item()
        .table_name(&relay.outbox_table)
        .key(PARTITION_KEY, s(outbox_key(event_id)))
        .update_expression(
            "SET #status = :published, publishedAt = :now REMOVE leaseOwner, leaseUntil",
        )
        .condition_expression("#status = :pending AND leaseOwner = :owner")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":published", s(OutboxStatus::Published.as_str()))
        .expression_attribute_values(":pending", s(OutboxStatus::Pending.as_str()))
        .expression_attribute_values(":owner", s(&lease.owner))
        .expression_attribute_values(":now", s(now_rfc3339()))
        .send()
        .await;
    match update {
        Ok(_) => Ok(()),
        Err(e) if is_conditional_check_failed(&e) => match load_outbox(relay, event_id).await? {
            // Another relay finished it after this one's lease lapsed: the ledger kept them
            // from publishing twice.
            Some(item) if is_published(&item) => Ok(()),
            _ => Err(format!("lost the lease on outbox event {event_id}").into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Relays one event: claim, publish what the ledger lacks, mark.
pub async fn relay_event(relay: &Relay, event_id: &str) -> Result<Relayed, Error> {
    let Some(lease) = claim(relay, event_id).await? else {
        return Ok(Relayed::Already);
    };
    let published = publish_pending(relay, &lease).await?;
    mark_published(relay, &lease).await?;
    Ok(Relayed::Now { published })
}

/// Hands a failed event to the retry queue, delayed past the lease of the run that failed.
pub async fn schedule_retry(relay: &Relay, event_id: &str) -> Result<(), Error> {
    // SQS delays a message by at most 15 minutes.
    let delay = relay.retry_delay_seconds.min(900);
    relay
        .sqs
        .send_message()
        .queue_url(&relay.retry_queue_url)
        .message_body(serde_json::to_string(&RetryRequest {
            event_id: event_id.to_owned(),
        })?)
        .delay_seconds(delay as i32)
        .send()
        .await?;
    Ok(())
}

/// The relay fed by the outbox table's stream. An event that fails goes to the retry queue, so
/// one bad event does not hold up its shard; only when even that fails is the record reported
/// (and the batch retried from it, bisected, a bounded number of times).
pub async fn handle_stream(relay: &Relay, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        // Only new outbox items start a publication; MODIFY records are the relay's own updates.
        if record.event_name != "INSERT" {
            continue;
        }
        let Some(event_id) = image_s(&record.change.new_image, "eventId") else {
            lambda_runtime::tracing::error!(record = %record.event_id, "outbox record without eventId, skipped");
            continue;
        };
        let result = match relay_event(relay, event_id).await {
            Ok(outcome) => {
                lambda_runtime::tracing::info!(%event_id, ?outcome, "relayed");
                Ok(())
            }
            Err(e) => {
                lambda_runtime::tracing::warn!(%event_id, error = %describe(e.as_ref()), "relay failed, scheduling a retry");
                schedule_retry(relay, event_id).await
            }
        };
        if let Err(e) = result {
            lambda_runtime::tracing::error!(%event_id, error = %describe(e.as_ref()), "cannot schedule a retry");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// The relay fed by its retry queue: failures are reported per message and come back after the
/// visibility timeout, until the queue's DLQ takes them.
pub async fn handle_retries(relay: &Relay, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let r: RetryRequest = serde_json::from_str(batch::body(&record)?)?;
        let outcome = relay_event(relay, &r.event_id).await?;
        lambda_runtime::tracing::info!(event_id = %r.event_id, ?outcome, "relayed on retry");
        Ok(())
    })
    .await
}

/// The `outbox_relay` binary's entry: a stream batch (`eventSource` `aws:dynamodb`) or a retry
/// queue batch (`aws:sqs`), answered with the matching batch-failure response.
pub async fn handle_any(
    relay: &Relay,
    payload: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let source = payload
        .pointer("/Records/0/eventSource")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("aws:dynamodb")
        .to_owned();
    match source.as_str() {
        "aws:sqs" => Ok(serde_json::to_value(
            // Boxed: the relay's future nests deep enough to exceed the compiler's layout depth.
            Box::pin(handle_retries(relay, serde_json::from_value(payload)?)).await,
        )?),
        "aws:dynamodb" => Ok(serde_json::to_value(
            Box::pin(handle_stream(relay, serde_json::from_value(payload)?)).await,
        )?),
        other => Err(format!(
            "outbox_relay takes DynamoDB stream or SQS batches, got eventSource {other}"
        )
        .into()),
    }
}
