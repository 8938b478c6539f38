//! Ingest (seed 002, the raw-event bronze layer): `POST /events` on an HTTP API -> the ingest function, which
//! keeps the raw payload in the bronze bucket (`bronze/<eventType>/<date>/<eventId>.json`), records the event's
//! metadata (ENQUEUED) in the events table and queues it; the worker consumes the queue and marks the event
//! PROCESSED. A message that fails three times moves to the dead-letter queue, and an alarm tells ops.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::lambda::{Function, SqsEventSource, SqsEventSourceProps};
use cfnkit::constructs::s3::{
    Bucket, BucketEncryption, BucketProps, LifecycleRule, StorageClass, Transition,
};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::ConstructError;
use cfnkit::{App, Output};
use contracts::ingest::{
    BRONZE_BUCKET, BRONZE_GLACIER_AFTER_DAYS, BRONZE_INFREQUENT_ACCESS_AFTER_DAYS, BRONZE_PREFIX,
    EVENTS_TABLE, INGEST_QUEUE_URL, MAX_EVENT_TYPE_LEN,
};
use contracts::tables::PARTITION_KEY;

use super::{alarm, function, http_api, MAX_RECEIVE_COUNT, QUEUE_VISIBILITY, SQS_MAX_CONCURRENCY};
use crate::Base;

const DAY: u64 = 86_400;

/// What the Ingest stack makes.
pub struct Ingest {
    pub bucket: Bucket,
    pub table: Table,
    pub queue: Queue,
    pub api_function: Function,
    pub worker: Function,
}

/// The bronze bucket's lifecycle: raw payloads are read rarely once a (future) silver layer has curated them, so
/// they move to cheaper storage; they are never deleted (bronze is the replayable record). Old versions (a
/// re-ingested event overwrites its object) go after 30 days; abandoned multipart uploads after 7.
pub fn bronze_lifecycle() -> Vec<LifecycleRule> {
    vec![LifecycleRule {
        id: Some("BronzeTowardSilver".to_owned()),
        prefix: Some(BRONZE_PREFIX.to_owned()),
        transitions: vec![
            Transition {
                storage_class: StorageClass::InfrequentAccess,
                after: Duration::from_secs(u64::from(BRONZE_INFREQUENT_ACCESS_AFTER_DAYS) * DAY),
            },
            Transition {
                storage_class: StorageClass::GlacierInstantRetrieval,
                after: Duration::from_secs(u64::from(BRONZE_GLACIER_AFTER_DAYS) * DAY),
            },
        ],
        noncurrent_version_expiration: Some(Duration::from_secs(30 * DAY)),
        abort_incomplete_multipart_upload_after: Some(Duration::from_secs(7 * DAY)),
        ..Default::default()
    }]
}

pub fn stack(app: &App, base: &Base) -> Result<Ingest, ConstructError> {
    let stack = app.stack("Ingest");
    stack.set_description(
        "Seed 002: raw events into the S3 bronze layer, their metadata in DynamoDB, processed from SQS",
    );
    let scope = stack.scope();

    // Encrypted with the platform key (with an S3 bucket key), versioned, TLS-only, public access blocked,
    // access-logged, retained.
    let bucket = Bucket::new(
        &scope,
        "BronzeBucket",
        BucketProps {
            encryption: BucketEncryption::Kms(&base.key),
            lifecycle_rules: bronze_lifecycle(),
            ..Default::default()
        },
    )?;
    let table = Table::new(
        &scope,
        "EventsTable",
        Attribute::string(PARTITION_KEY),
        TableProps {
            encryption_key: Some(&base.key),
            ..Default::default()
        },
    )?;
    let queue = Queue::new(
        &scope,
        "IngestQueue",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            visibility_timeout: Some(QUEUE_VISIBILITY),
            dead_letter: DeadLetter::Create {
                max_receive_count: MAX_RECEIVE_COUNT,
            },
            ..Default::default()
        },
    )?;
    let environment = || {
        BTreeMap::from([
            (BRONZE_BUCKET, bucket.bucket_name()),
            (EVENTS_TABLE, table.table_name()),
            (INGEST_QUEUE_URL, queue.queue_url()),
        ])
    };

    let api_function = function(
        &scope,
        "IngestApi",
        "ingest_api",
        "Seed 002: stores a raw event in bronze, records it ENQUEUED and queues it",
        base,
        environment(),
        None,
    )?;
    // Put (and delete: a retry on a later day removes its own second copy) under bronze/ only.
    bucket.objects(BRONZE_PREFIX).grant_write(&api_function);
    table.grant_read_write_data(&api_function);
    queue.grant_send_messages(&api_function);

    let worker = function(
        &scope,
        "IngestWorker",
        "ingest_worker",
        "Seed 002: processes queued events (ENQUEUED -> PROCESSED)",
        base,
        environment(),
        None,
    )?;
    bucket.objects(BRONZE_PREFIX).grant_read(&worker);
    table.grant_read_write_data(&worker);
    worker.add_event_source(SqsEventSource::new(
        &queue,
        SqsEventSourceProps {
            max_concurrency: Some(SQS_MAX_CONCURRENCY),
            ..Default::default()
        },
    ))?;

    let api = http_api(
        &scope,
        "IngestHttpApi",
        "Seed 002: POST /events (IAM-signed), any JSON event with an eventType",
        "POST /events",
        &api_function,
        base,
        // Any JSON object naming its type: no Rust type describes the payload, only this much is checked.
        Some(serde_json::json!({
            "type": "object",
            "title": "IngestEvent",
            "description": "Any JSON event: kept raw in the bronze layer",
            "required": ["eventType"],
            "properties": {"eventType": {"type": "string", "minLength": 1, "maxLength": MAX_EVENT_TYPE_LEN}},
        })),
    )?;

    let dlq = queue
        .dead_letter_queue()
        .expect("the ingest queue was made with a dead-letter queue");
    alarm(
        &scope,
        "IngestDlqAlarm",
        &dlq.queue.metric_approximate_number_of_messages_visible(),
        1.0,
        "Ingested events failed processing three times and wait in the ingest DLQ: read the worker's logs, fix, \
         then redrive the DLQ to the ingest queue",
        base,
    )?;
    alarm(
        &scope,
        "IngestWorkerErrorsAlarm",
        &worker.metric_errors(),
        1.0,
        "The ingest worker failed an invocation: see its log group",
        base,
    )?;

    stack.add_output("IngestApiUrl", Output::new(api.url()));
    stack.add_output("BronzeBucketName", Output::new(bucket.bucket_name()));
    Ok(Ingest {
        bucket,
        table,
        queue,
        api_function,
        worker,
    })
}
