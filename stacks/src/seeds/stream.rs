//! StreamOrders (seed 001, stream-driven processing): `POST /orders` on an HTTP API -> the create function
//! writes the order PENDING; the table's stream (new images) drives the process function: batch item failures
//! reported, batches bisected on error, three retries, records older than a day skipped, and what still fails
//! described on a failure queue that an alarm watches.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::cloudwatch::{Metric, Statistic};
use cfnkit::constructs::dynamodb::{Attribute, StreamViewType, Table, TableProps};
use cfnkit::constructs::lambda::{
    DynamoEventSource, Function, StartingPosition, StreamEventSourceProps,
};
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::ConstructError;
use cfnkit::{App, Output};
use contracts::stream_orders::STREAM_ORDERS_TABLE;
use contracts::tables::PARTITION_KEY;

use super::{alarm, function, http_api};
use crate::Base;

/// Retries of a failing stream batch (each bisected) before it is described on the failure queue.
pub const STREAM_MAX_RETRIES: i32 = 3;
/// Records older than this are not sent any more (and are described on the failure queue).
pub const STREAM_MAX_RECORD_AGE: Duration = Duration::from_secs(86_400);
/// Records per invocation.
pub const STREAM_BATCH_SIZE: u32 = 25;

/// What the StreamOrders stack makes.
pub struct StreamOrders {
    pub table: Table,
    pub create_function: Function,
    pub process_function: Function,
    pub failures: Queue,
}

pub fn stack(app: &App, base: &Base) -> Result<StreamOrders, ConstructError> {
    let stack = app.stack("StreamOrders");
    stack.set_description(
        "Seed 001: orders written through an HTTP API, processed from the table's DynamoDB stream",
    );
    let scope = stack.scope();

    let table = Table::new(
        &scope,
        "StreamOrdersTable",
        Attribute::string(PARTITION_KEY),
        TableProps {
            encryption_key: Some(&base.key),
            stream: Some(StreamViewType::NewImage),
            ..Default::default()
        },
    )?;
    let environment = || BTreeMap::from([(STREAM_ORDERS_TABLE, table.table_name())]);

    let create_function = function(
        &scope,
        "CreateOrder",
        "stream_create_order",
        "Seed 001: POST /orders, writes the order PENDING",
        base,
        environment(),
        None,
    )?;
    table.grant_write_data(&create_function);

    let process_function = function(
        &scope,
        "ProcessOrder",
        "stream_process_order",
        "Seed 001: moves PENDING orders to PROCESSED from the table's stream",
        base,
        environment(),
        None,
    )?;
    table.grant_read_write_data(&process_function);
    // Where Lambda describes (shard, sequence numbers) a batch that failed every retry.
    let failures = Queue::new(
        &scope,
        "ProcessFailures",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            retention_period: Some(Duration::from_secs(14 * 86_400)),
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )?;
    let mapping = process_function.add_event_source(DynamoEventSource::new(
        &table,
        StreamEventSourceProps {
            starting_position: StartingPosition::TrimHorizon,
            batch_size: Some(STREAM_BATCH_SIZE),
            bisect_batch_on_error: true,
            max_retry_attempts: Some(STREAM_MAX_RETRIES),
            max_record_age: Some(STREAM_MAX_RECORD_AGE),
            on_failure: Some(&failures),
            ..Default::default()
        },
    ))?;
    super::inserts_only(&mapping);

    let api = http_api(
        &scope,
        "OrdersHttpApi",
        "Seed 001: POST /orders (IAM-signed)",
        "POST /orders",
        &create_function,
        base,
        // The body the create function parses (contracts::validate), for the OpenAPI document.
        Some(contracts::validate::api_gateway_model_schema::<
            contracts::CreateOrderRequest,
        >()),
    )?;

    alarm(
        &scope,
        "ProcessFailuresAlarm",
        &failures.metric_approximate_number_of_messages_visible(),
        1.0,
        "Stream records failed processing after every retry: the failure queue names their shard and sequence \
         numbers; read the process function's logs",
        base,
    )?;
    alarm(
        &scope,
        "ProcessIteratorAgeAlarm",
        &Metric::new("AWS/Lambda", "IteratorAge")
            .dimension("FunctionName", process_function.function_name())
            .statistic(Statistic::Maximum),
        300_000.0,
        "The process function is more than five minutes behind the orders stream",
        base,
    )?;
    stack.add_output("OrdersApiUrl", Output::new(api.url()));
    Ok(StreamOrders {
        table,
        create_function,
        process_function,
        failures,
    })
}
