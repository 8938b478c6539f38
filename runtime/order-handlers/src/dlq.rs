//! The DLQ processor: takes the dead letters of the shipping queue, re-drives each to the
//! shipping queue a bounded number of times (the count travels in the `redriveCount` message
//! attribute), then parks it (a `PARKED#<message id>` item in the shipments table) and alerts the
//! ops topic, once per dead letter.

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageAttributeValue;
use contracts::env::{self, REDRIVE_COUNT_ATTRIBUTE};
use contracts::tables;
use serde_json::json;

use handler_support::config::{number_or, require, ConfigError, Lookup};
use handler_support::util::{is_conditional_check_failed, n, now_rfc3339, s};
use handler_support::{batch, Error};

/// What the DLQ processor needs.
#[derive(Clone, Debug)]
pub struct DlqProcessor {
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub shipments_table: String,
    pub redrive_queue_url: String,
    pub ops_topic_arn: String,
    pub max_redrives: u32,
}

impl DlqProcessor {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(DlqProcessor {
            sqs: aws_sdk_sqs::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            shipments_table: require(env, env::SHIPMENTS_TABLE)?,
            redrive_queue_url: require(env, env::REDRIVE_QUEUE_URL)?,
            ops_topic_arn: require(env, env::OPS_ALERT_TOPIC_ARN)?,
            max_redrives: number_or(env, env::MAX_REDRIVES, env::DEFAULT_MAX_REDRIVES)?,
        })
    }
}

/// What happened to one dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetter {
    /// Sent back to the source queue; this was re-drive number `attempt`.
    Redriven { attempt: u32 },
    /// Parked (and ops alerted) by this call.
    Parked,
    /// Parked before (a duplicate delivery of the same dead letter).
    AlreadyParked,
}

/// How often a message has been re-driven (its `redriveCount` attribute, 0 when absent).
pub fn redrive_count(record: &SqsMessage) -> u32 {
    record
        .message_attributes
        .get(REDRIVE_COUNT_ATTRIBUTE)
        .and_then(|a| a.string_value.as_deref())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Handles one dead letter.
pub async fn process_dead_letter(
    p: &DlqProcessor,
    record: &SqsMessage,
) -> Result<DeadLetter, Error> {
    let body = batch::body(record)?;
    let count = redrive_count(record);
    if count < p.max_redrives {
        let attempt = count + 1;
        let mut send = p
            .sqs
            .send_message()
            .queue_url(&p.redrive_queue_url)
            .message_body(body);
        for (name, attr) in &record.message_attributes {
            if name == REDRIVE_COUNT_ATTRIBUTE {
                continue;
            }
            if let (Some(ty), Some(v)) = (&attr.data_type, &attr.string_value) {
                send = send.message_attributes(
                    name,
                    MessageAttributeValue::builder()
                        .data_type(ty)
                        .string_value(v)
                        .build()?,
                );
            }
        }
        send.message_attributes(
            REDRIVE_COUNT_ATTRIBUTE,
            MessageAttributeValue::builder()
                .data_type("Number")
                .string_value(attempt.to_string())
                .build()?,
        )
        .send()
        .await?;
        return Ok(DeadLetter::Redriven { attempt });
    }
    let message_id = record
        .message_id
        .clone()
        .unwrap_or_else(|| "unknown".into());
    let put = p
        .dynamodb
        .put_item()
        .table_name(&p.shipments_table)
        .item(tables::PARTITION_KEY, s(tables::parked_key(&message_id)))
        .item("messageId", s(&message_id))
        .item("body", s(body))
        .item("redriveCount", n(count))
        .item(
            "sourceArn",
            s(record.event_source_arn.clone().unwrap_or_default()),
        )
        .item("parkedAt", s(now_rfc3339()))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", tables::PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => {}
        Err(e) if is_conditional_check_failed(&e) => return Ok(DeadLetter::AlreadyParked),
        Err(e) => return Err(e.into()),
    }
    let alert = json!({
        "alert": "shipping message parked",
        "messageId": message_id,
        "redriveCount": count,
        "parkedItem": tables::parked_key(&message_id),
        "body": body,
    });
    let sent = p
        .sns
        .publish()
        .topic_arn(&p.ops_topic_arn)
        .subject("Shipping dead letter parked")
        .message(alert.to_string())
        .send()
        .await;
    if let Err(e) = sent {
        // Undo the parking so the retry alerts.
        let _ = p
            .dynamodb
            .delete_item()
            .table_name(&p.shipments_table)
            .key(tables::PARTITION_KEY, s(tables::parked_key(&message_id)))
            .send()
            .await;
        return Err(e.into());
    }
    Ok(DeadLetter::Parked)
}

/// The `dlq_processor` function: a batch from the shipping DLQ.
pub async fn handle(p: &DlqProcessor, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let outcome = process_dead_letter(p, &record).await?;
        lambda_runtime::tracing::warn!(message_id = ?record.message_id, ?outcome, "dead letter");
        Ok(())
    })
    .await
}
