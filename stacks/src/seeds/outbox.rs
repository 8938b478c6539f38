//! Outbox (seed 000, the transactional outbox): `POST /orders` on a REST API (IAM-signed, body validated against
//! `CreateOrderRequest`) -> the API function writes the order and its outbox event in one DynamoDB transaction;
//! the outbox table's stream feeds the relay, which publishes each event once per event id to the FIFO queue,
//! the FIFO topic, the e-receipt archive bucket and the receipt function (invoked asynchronously), recording
//! each channel in the publish ledger, then marks the event PUBLISHED. Failed publications go to the relay's
//! retry queue (and after five attempts to its DLQ). The receipt function reads the outside provider's
//! credentials from a secret that a rotation function rotates every 30 days. A dashboard and alarms watch it all.
//!
//! The seed's outbox is a PostgreSQL table written "in one atomic transaction" with the DynamoDB read model; no
//! transaction spans two databases, so here both are DynamoDB tables and one `TransactWriteItems` writes both.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::apigateway::{
    CloudWatchRole, LambdaIntegration, LambdaIntegrationProps, MethodOptions, RestApi, RestApiProps,
};
use cfnkit::constructs::cloudwatch::{Dashboard, DashboardProps, Metric, Statistic, Widget};
use cfnkit::constructs::dynamodb::{Attribute, StreamViewType, Table, TableProps};
use cfnkit::constructs::lambda::{
    DynamoEventSource, Function, SqsEventSource, SqsEventSourceProps, StartingPosition,
    StreamEventSourceProps,
};
use cfnkit::constructs::s3::{
    Bucket, BucketEncryption, BucketProps, LifecycleRule, StorageClass, Transition,
};
use cfnkit::constructs::secretsmanager::{GenerateSecretString, Secret, SecretProps};
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::Construct;
use cfnkit::constructs::ConstructError;
use cfnkit::{App, Output, Scope};
use contracts::outbox::{
    LEASE_SECONDS, OUTBOX_ORDERS_TABLE, OUTBOX_QUEUE_URL, OUTBOX_TABLE, OUTBOX_TOPIC_ARN,
    PROVIDER_SECRET_ARN, PUBLISH_LEDGER_TABLE, RECEIPT_BUCKET, RECEIPT_FUNCTION_NAME,
    RETRY_QUEUE_URL,
};
use contracts::tables::PARTITION_KEY;
use contracts::CreateOrderRequest;
use serde_json::json;

use super::{alarm, function, QUEUE_VISIBILITY, SQS_MAX_CONCURRENCY};
use crate::Base;

const DAY: u64 = 86_400;

/// Attempts the retry queue makes (each delayed past the relay's lease) before an event waits in its DLQ.
pub const RETRY_MAX_RECEIVE_COUNT: u32 = 5;
/// How often the provider's credentials rotate.
pub const ROTATION_INTERVAL: Duration = Duration::from_secs(30 * DAY);
/// The relay's lease on an event: twice its timeout, so a lease only lapses when its holder is gone.
pub const RELAY_LEASE: Duration = Duration::from_secs(2 * 30);

/// What the Outbox stack makes.
pub struct Outbox {
    pub orders_table: Table,
    pub outbox_table: Table,
    pub ledger_table: Table,
    pub queue: Queue,
    pub topic: Topic,
    pub archive: Bucket,
    pub secret: Secret,
    pub api: RestApi,
    pub api_function: Function,
    pub relay: Function,
    pub receipt: Function,
    pub rotation: Function,
    pub retry_queue: Queue,
    pub dashboard: Dashboard,
}

fn table(
    scope: &Scope,
    id: &str,
    base: &Base,
    stream: Option<StreamViewType>,
) -> Result<Table, ConstructError> {
    Table::new(
        scope,
        id,
        Attribute::string(PARTITION_KEY),
        TableProps {
            encryption_key: Some(&base.key),
            stream,
            ..Default::default()
        },
    )
}

pub fn stack(app: &App, base: &Base) -> Result<Outbox, ConstructError> {
    let stack = app.stack("Outbox");
    stack.set_description(
        "Seed 000: transactional outbox in DynamoDB, relayed once per event to SQS, SNS, S3 and Lambda",
    );
    let scope = stack.scope();

    let orders_table = table(&scope, "OutboxOrdersTable", base, None)?;
    let outbox_table = table(&scope, "OutboxTable", base, Some(StreamViewType::NewImage))?;
    let ledger_table = table(&scope, "PublishLedgerTable", base, None)?;

    // The channels. FIFO queue and topic: the event id is the deduplication id, the order the message group.
    let queue = Queue::new(
        &scope,
        "OutboxEventsQueue",
        QueueProps {
            fifo: true,
            encryption: QueueEncryption::Kms(&base.key),
            visibility_timeout: Some(QUEUE_VISIBILITY),
            dead_letter: DeadLetter::Create {
                max_receive_count: super::MAX_RECEIVE_COUNT,
            },
            ..Default::default()
        },
    )?;
    let topic = Topic::new(
        &scope,
        "OutboxEventsTopic",
        TopicProps {
            fifo: true,
            master_key: Some(&base.key),
            ..Default::default()
        },
    )?;
    // E-receipts: kept (they are transaction records), moved to Glacier Instant Retrieval after 90 days.
    let archive = Bucket::new(
        &scope,
        "ReceiptArchive",
        BucketProps {
            encryption: BucketEncryption::Kms(&base.key),
            lifecycle_rules: vec![LifecycleRule {
                id: Some("ReceiptsToGlacierIr".to_owned()),
                prefix: Some("receipts/".to_owned()),
                transitions: vec![Transition {
                    storage_class: StorageClass::GlacierInstantRetrieval,
                    after: Duration::from_secs(90 * DAY),
                }],
                noncurrent_version_expiration: Some(Duration::from_secs(30 * DAY)),
                abort_incomplete_multipart_upload_after: Some(Duration::from_secs(7 * DAY)),
                ..Default::default()
            }],
            ..Default::default()
        },
    )?;

    // The outside provider's credentials: generated by Secrets Manager (never in the template), rotated.
    let secret = Secret::new(
        &scope,
        "ProviderCredentials",
        SecretProps {
            description: Some(
                "Seed 000: API key of the outside e-receipt provider, rotated every 30 days"
                    .to_owned(),
            ),
            encryption_key: Some(&base.key),
            generate_secret_string: GenerateSecretString {
                exclude_punctuation: true,
                length: Some(40),
                ..GenerateSecretString::json(json!({}), "apiKey")
            },
            ..Default::default()
        },
    )?;
    let rotation = function(
        &scope,
        "ProviderSecretRotation",
        "provider_secret_rotation",
        "Seed 000: rotates the outside provider's API key",
        base,
        BTreeMap::new(),
        None,
    )?;
    secret.grant_rotate(&rotation);
    // GetRandomPassword has no resource: AWS accepts only `*`.
    rotation
        .role()
        .grant(&["secretsmanager:GetRandomPassword"], ["*"]);
    cfnkit::rules::suppress_only(
        rotation.role().handle(),
        &cfnkit::rules::IAM5,
        &["Resource::*"],
        "secretsmanager:GetRandomPassword (the rotation generates the new key with it) has no resource-level \
         permissions: IAM accepts only Resource `*` for it",
    );
    secret.add_rotation_schedule(&rotation, ROTATION_INTERVAL)?;

    // The Lambda channel: invoked asynchronously; what fails Lambda's retries lands in its DLQ.
    let receipt_dlq = Queue::new(
        &scope,
        "ReceiptDlq",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            retention_period: Some(Duration::from_secs(14 * DAY)),
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )?;
    let receipt = function(
        &scope,
        "Receipt",
        "outbox_receipt",
        "Seed 000: hands each outbox event's e-receipt to the outside provider, once per event id",
        base,
        BTreeMap::from([
            (PUBLISH_LEDGER_TABLE, ledger_table.table_name()),
            (PROVIDER_SECRET_ARN, secret.secret_arn()),
        ]),
        Some(&receipt_dlq),
    )?;
    secret.grant_read(&receipt);
    ledger_table.grant_read_write_data(&receipt);

    let api_function = function(
        &scope,
        "OutboxApi",
        "outbox_api",
        "Seed 000: POST /orders, the order and its outbox event in one transaction",
        base,
        BTreeMap::from([
            (OUTBOX_ORDERS_TABLE, orders_table.table_name()),
            (OUTBOX_TABLE, outbox_table.table_name()),
        ]),
        None,
    )?;
    orders_table.grant_write_data(&api_function);
    outbox_table.grant_write_data(&api_function);

    let retry_queue = Queue::new(
        &scope,
        "RelayRetryQueue",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            visibility_timeout: Some(QUEUE_VISIBILITY),
            dead_letter: DeadLetter::Create {
                max_receive_count: RETRY_MAX_RECEIVE_COUNT,
            },
            ..Default::default()
        },
    )?;
    // Where Lambda describes a stream batch that failed every retry (only when even the retry queue refused).
    let stream_failures = Queue::new(
        &scope,
        "RelayStreamFailures",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            retention_period: Some(Duration::from_secs(14 * DAY)),
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )?;
    let relay = function(
        &scope,
        "Relay",
        "outbox_relay",
        "Seed 000: publishes outbox events once per channel, then marks them PUBLISHED",
        base,
        BTreeMap::from([
            (OUTBOX_TABLE, outbox_table.table_name()),
            (PUBLISH_LEDGER_TABLE, ledger_table.table_name()),
            (OUTBOX_QUEUE_URL, queue.queue_url()),
            (OUTBOX_TOPIC_ARN, topic.topic_arn()),
            (RECEIPT_BUCKET, archive.bucket_name()),
            (RECEIPT_FUNCTION_NAME, receipt.function_name()),
            (RETRY_QUEUE_URL, retry_queue.queue_url()),
            (LEASE_SECONDS, RELAY_LEASE.as_secs().to_string().into()),
        ]),
        None,
    )?;
    outbox_table.grant_read_write_data(&relay);
    ledger_table.grant_read_write_data(&relay);
    queue.grant_send_messages(&relay);
    topic.grant_publish(&relay);
    archive.objects("receipts/").grant_put(&relay);
    receipt.grant_invoke(&relay);
    retry_queue.grant_send_messages(&relay);
    let mapping = relay.add_event_source(DynamoEventSource::new(
        &outbox_table,
        StreamEventSourceProps {
            starting_position: StartingPosition::TrimHorizon,
            batch_size: Some(10),
            bisect_batch_on_error: true,
            max_retry_attempts: Some(3),
            on_failure: Some(&stream_failures),
            ..Default::default()
        },
    ))?;
    super::inserts_only(&mapping);
    relay.add_event_source(SqsEventSource::new(
        &retry_queue,
        SqsEventSourceProps {
            max_concurrency: Some(SQS_MAX_CONCURRENCY),
            ..Default::default()
        },
    ))?;

    // API Gateway: the secured entry point (IAM-signed calls), validating the body before the function runs.
    let api = RestApi::new(
        &scope,
        "OutboxApiGateway",
        RestApiProps {
            description: Some("Seed 000: POST /orders into the transactional outbox".to_owned()),
            access_log_encryption_key: Some(&base.key),
            cloud_watch_role: CloudWatchRole::Use(&base.api_gateway_account),
            ..Default::default()
        },
    )?;
    let model = api.add_model::<CreateOrderRequest>()?;
    api.add_method(
        "POST",
        "/orders",
        LambdaIntegration::new(
            &api_function,
            LambdaIntegrationProps {
                timeout: Some(Duration::from_secs(10)),
            },
        ),
        MethodOptions {
            request_model: Some(&model),
            ..Default::default()
        },
    )?;

    // Alarms: anything waiting in a dead-letter or failure queue, relay errors, a relay falling behind.
    let retry_dlq = &retry_queue
        .dead_letter_queue()
        .expect("the retry queue was made with a dead-letter queue")
        .queue;
    let alarms = [
        alarm(
            &scope,
            "RetryDlqAlarm",
            &retry_dlq.metric_approximate_number_of_messages_visible(),
            1.0,
            "Outbox events failed publication five times (they stay PENDING in the outbox table, nothing is lost): \
             read the relay's logs, fix, then redrive the DLQ to the retry queue",
            base,
        )?,
        alarm(
            &scope,
            "RelayStreamFailuresAlarm",
            &stream_failures.metric_approximate_number_of_messages_visible(),
            1.0,
            "The relay could not even schedule retries for an outbox stream batch: the failure queue names the \
             shard and sequence numbers; the events stay PENDING in the outbox table",
            base,
        )?,
        alarm(
            &scope,
            "ReceiptDlqAlarm",
            &receipt_dlq.metric_approximate_number_of_messages_visible(),
            1.0,
            "The receipt function failed an event after Lambda's retries: read its logs",
            base,
        )?,
        alarm(
            &scope,
            "RelayErrorsAlarm",
            &relay.metric_errors(),
            1.0,
            "The relay failed an invocation: see its log group",
            base,
        )?,
        alarm(
            &scope,
            "RelayIteratorAgeAlarm",
            &Metric::new("AWS/Lambda", "IteratorAge")
                .dimension("FunctionName", relay.function_name())
                .statistic(Statistic::Maximum),
            300_000.0,
            "The relay is more than five minutes behind the outbox stream",
            base,
        )?,
        alarm(
            &scope,
            "OutboxApi5xxAlarm",
            &api.metric_5xx_error().statistic(Statistic::Sum),
            1.0,
            "POST /orders answered 5xx: see the API function's logs",
            base,
        )?,
    ];

    let dashboard = Dashboard::new(&scope, "OutboxDashboard", DashboardProps::default())?;
    dashboard.add_widgets([
        Widget::text("# Seed 000: transactional outbox\nAPI -> one transaction -> stream -> relay -> SQS, SNS, S3, Lambda"),
        Widget::graph(
            "API requests and errors",
            [api.metric_count(), api.metric_4xx_error(), api.metric_5xx_error()],
        ),
        Widget::graph(
            "Relay invocations and errors",
            [relay.metric_invocations(), relay.metric_errors(), relay.metric_throttles()],
        ),
        Widget::graph(
            "Relay stream lag (IteratorAge, ms)",
            [Metric::new("AWS/Lambda", "IteratorAge")
                .dimension("FunctionName", relay.function_name())
                .statistic(Statistic::Maximum)],
        ),
        Widget::graph(
            "Retry queue and dead letters",
            [
                retry_queue.metric_approximate_number_of_messages_visible(),
                retry_dlq.metric_approximate_number_of_messages_visible(),
                receipt_dlq.metric_approximate_number_of_messages_visible(),
            ],
        ),
        Widget::graph(
            "Published to the FIFO queue",
            [queue.metric_number_of_messages_sent(), queue.metric_approximate_age_of_oldest_message()],
        ),
        Widget::graph(
            "Receipt function",
            [receipt.metric_invocations(), receipt.metric_errors()],
        ),
        Widget::alarm_status("Outbox alarms", &alarms.iter().collect::<Vec<_>>()),
    ])?;

    stack.add_output("OutboxApiUrl", Output::new(api.url()));
    Ok(Outbox {
        orders_table,
        outbox_table,
        ledger_table,
        queue,
        topic,
        archive,
        secret,
        api,
        api_function,
        relay,
        receipt,
        rotation,
        retry_queue,
        dashboard,
    })
}
