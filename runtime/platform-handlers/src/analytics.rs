//! Aggregates every domain event from the analytics stream into the analytics table: how many orders reached
//! each status, and confirmed revenue per UTC hour (`contracts::analytics` has the key layout).
//!
//! Each event is applied in one transaction: a seen-marker for its event id (only if absent) and the counter
//! updates. Kinesis delivers a batch again after a failure, so an event may arrive twice; the marker makes the
//! second arrival a no-op. Records of a shard are applied in order and the first failure stops the batch:
//! Lambda retries from that record (`ReportBatchItemFailures` with its sequence number).

use aws_lambda_events::event::kinesis::KinesisEvent;
use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use contracts::analytics as layout;
use contracts::{EventEnvelope, PaymentConfirmation};

use crate::config::{require, ConfigError, Lookup};
use crate::util::{n, s};
use crate::Error;

/// The aggregator's clients and table.
pub struct Aggregator {
    pub dynamodb: Client,
    pub table: String,
}

impl Aggregator {
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(Aggregator {
            dynamodb: Client::new(sdk),
            table: require(env, layout::ANALYTICS_TABLE)?,
        })
    }
}

/// What applying one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Counted: the status it moved an order to, and the revenue hour it added to (payments only).
    Counted {
        status: Option<&'static str>,
        revenue_hour: Option<String>,
    },
    /// Seen before (a redelivery): nothing changed.
    Duplicate,
    /// Not an event the aggregation counts (no status change, no revenue).
    Ignored,
}

/// Applies a batch in order; the first record that fails is reported, and Lambda retries from it.
pub async fn handle(agg: &Aggregator, event: KinesisEvent) -> KinesisEventResponse {
    let mut response = KinesisEventResponse::default();
    for record in event.records {
        let seq = record.kinesis.sequence_number.clone();
        let result = match std::str::from_utf8(&record.kinesis.data.0) {
            Ok(text) => apply(agg, text).await.map(|_| ()),
            Err(e) => Err(format!("record {seq} is not UTF-8: {e}").into()),
        };
        if let Err(e) = result {
            lambda_runtime::tracing::error!(sequence_number = %seq, error = %crate::util::describe(e.as_ref()), "record failed");
            let mut failure = KinesisBatchItemFailure::default();
            failure.item_identifier = Some(seq);
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// Applies one envelope (the JSON EventBridge put on the stream).
pub async fn apply(agg: &Aggregator, json: &str) -> Result<Applied, Error> {
    let envelope = EventEnvelope::parse_raw(json)?;
    let Some(event_id) = envelope.id.clone() else {
        return Err("event without an id: cannot count it exactly once".into());
    };
    let status = layout::status_of(&envelope.detail_type, &envelope.detail);
    let revenue = if envelope.is::<PaymentConfirmation>() {
        let time = envelope.time.clone().unwrap_or_default();
        let hour = layout::revenue_key(&time)
            .ok_or_else(|| format!("event {event_id} has no RFC 3339 time ({time:?})"))?;
        let payment: PaymentConfirmation = envelope.into_event()?;
        Some((hour, payment.amount_cents))
    } else {
        None
    };
    if status.is_none() && revenue.is_none() {
        return Ok(Applied::Ignored);
    }

    let mut items = vec![TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(&agg.table)
                .item(layout::PK, s(layout::event_key(&event_id)))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", layout::PK)
                .build()?,
        )
        .build()];
    if let Some(status) = status {
        items.push(counter(
            &agg.table,
            layout::status_key(status),
            "ADD #c :one",
            &[("#c", "count")],
            &[(":one", 1)],
        )?);
    }
    if let Some((hour, cents)) = &revenue {
        items.push(counter(
            &agg.table,
            hour.clone(),
            "ADD #r :cents, #p :one",
            &[("#r", "revenueCents"), ("#p", "payments")],
            &[(":cents", *cents), (":one", 1)],
        )?);
    }
    match agg
        .dynamodb
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(Applied::Counted {
            status,
            revenue_hour: revenue.map(|(h, _)| h),
        }),
        Err(e) => match e.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c))
                if c.cancellation_reasons().first().and_then(|r| r.code())
                    == Some("ConditionalCheckFailed") =>
            {
                Ok(Applied::Duplicate)
            }
            _ => Err(e.into()),
        },
    }
}

fn counter(
    table: &str,
    key: String,
    expression: &str,
    names: &[(&str, &str)],
    values: &[(&str, u64)],
) -> Result<TransactWriteItem, Error> {
    let mut update = Update::builder()
        .table_name(table)
        .key(layout::PK, s(key))
        .update_expression(expression);
    for (k, v) in names {
        update = update.expression_attribute_names(*k, *v);
    }
    for (k, v) in values {
        update = update.expression_attribute_values(*k, n(v));
    }
    Ok(TransactWriteItem::builder().update(update.build()?).build())
}
