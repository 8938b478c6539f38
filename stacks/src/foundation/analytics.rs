//! `Analytics`: every domain event on the platform bus is copied to an encrypted Kinesis stream (partitioned
//! by order id, so one order's events stay in order), and the analytics function aggregates the stream into
//! a table: orders per status and revenue per hour (`contracts::analytics` has the key layout).

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::events::{EventPattern, Rule, RuleProps, TargetProps};
use cfnkit::constructs::kinesis::{Stream, StreamEncryption, StreamProps};
use cfnkit::constructs::lambda::{KinesisEventSource, StartingPosition, StreamEventSourceProps};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::Construct;
use cfnkit::constructs::ConstructError;
use cfnkit::App;
use contracts::analytics;

use super::serverless;
use crate::Base;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Analytics");
    stack.set_description(
        "Order platform: every domain event to an encrypted Kinesis stream, aggregated into orders per status \
         and revenue per hour",
    );
    let scope = stack.scope();
    let key = serverless::key(&scope, "analytics")?;

    let stream = Stream::new(
        &scope,
        "EventStream",
        StreamProps {
            encryption: StreamEncryption::Kms(&key),
            // A week to replay, should the aggregation need rebuilding.
            retention_period: Some(Duration::from_secs(7 * 24 * 3_600)),
            ..Default::default()
        },
    )?;
    let rule = Rule::new(
        &scope,
        "AllDomainEventsRule",
        RuleProps {
            event_bus: Some(&base.bus),
            event_pattern: Some(EventPattern::new().source(analytics::DOMAIN_EVENT_SOURCES)),
            description: Some(
                "Every domain event of the platform, to the analytics stream".to_owned(),
            ),
            ..Default::default()
        },
    )?;
    // One order's events share a shard, so they are aggregated in the order they happened.
    rule.add_target(stream.rule_target(TargetProps {
        partition_key_path: Some("$.detail.orderId".into()),
        ..Default::default()
    }))?;

    let table = Table::new(
        &scope,
        "AnalyticsTable",
        Attribute::string(analytics::PK),
        TableProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )?;
    let function = serverless::function(
        &scope,
        "Aggregator",
        "analytics",
        "Aggregates domain events from the analytics stream: orders per status, revenue per hour",
        &key,
        BTreeMap::from([(analytics::ANALYTICS_TABLE, table.table_name())]),
    )?;
    table.grant_read_write_data(&function);
    // Records that fail every retry are described here instead of blocking the shard.
    let failures = Queue::new(
        &scope,
        "AggregatorFailures",
        QueueProps {
            encryption: QueueEncryption::Kms(&key),
            retention_period: Some(Duration::from_secs(14 * 86_400)),
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )?;
    function.add_event_source(KinesisEventSource::new(
        &stream,
        StreamEventSourceProps {
            starting_position: StartingPosition::TrimHorizon,
            batch_size: Some(100),
            max_batching_window: Some(Duration::from_secs(5)),
            on_failure: Some(&failures),
            ..Default::default()
        },
    ))?;
    stream.grant_read(&function);
    cfnkit::rules::suppress(
        failures.handle(),
        &cfnkit::rules::SQS3,
        "this queue is the analytics mapping's on-failure destination: it is itself where failed records go",
    );
    Ok(())
}
