//! Seed 001: `POST /orders` (HTTP API) stores the order PENDING; the table's stream (NEW_IMAGE)
//! drives the process function, which moves each order to PROCESSED exactly once (a conditional
//! update) and logs the outcome. Stream records arrive at least once and a batch is retried
//! from its first failure, so every step is safe to repeat.

use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use contracts::stream_orders::{
    order_key, StreamOrderCreated, StreamOrderStatus, STREAM_ORDERS_TABLE,
};
use contracts::tables::PARTITION_KEY;
use contracts::validate::parse_validated;
use contracts::CreateOrderRequest;
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{get_s, is_conditional_check_failed, n, now_rfc3339, s, Item};

use crate::http::{error_body, v2};
use crate::{image_s, Error};

/// What the two functions need.
#[derive(Clone, Debug)]
pub struct StreamOrders {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub table: String,
}

impl StreamOrders {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(StreamOrders {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            table: require(env, STREAM_ORDERS_TABLE)?,
        })
    }
}

/// The create function: `POST /orders` with a [`CreateOrderRequest`], answered 201.
pub async fn handle_api(
    svc: &StreamOrders,
    req: ApiGatewayV2httpRequest,
) -> Result<ApiGatewayV2httpResponse, Error> {
    let method = req.request_context.http.method.as_str().to_owned();
    if method != "POST" {
        return Ok(v2(
            405,
            &error_body(format!("{method} is not allowed, use POST"), vec![]),
        ));
    }
    if req.is_base64_encoded {
        return Ok(v2(
            415,
            &error_body("binary request bodies are not supported", vec![]),
        ));
    }
    let request: CreateOrderRequest = match parse_validated(req.body.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(errors) => return Ok(v2(400, &error_body("invalid order request", errors))),
    };
    let order_id = create_order(svc, &request).await?;
    Ok(v2(
        201,
        &StreamOrderCreated {
            order_id,
            status: StreamOrderStatus::Pending,
        },
    ))
}

/// Writes a new PENDING order; its stream record starts processing.
pub async fn create_order(
    svc: &StreamOrders,
    request: &CreateOrderRequest,
) -> Result<String, Error> {
    let order_id = format!("ord-{}", uuid::Uuid::new_v4().simple());
    let now = now_rfc3339();
    svc.dynamodb
        .put_item()
        .table_name(&svc.table)
        .item(PARTITION_KEY, s(order_key(&order_id)))
        .item("orderId", s(&order_id))
        .item("customerId", s(&request.customer_id))
        .item("status", s(StreamOrderStatus::Pending.as_str()))
        .item("lines", s(serde_json::to_string(&request.order_lines())?))
        .item("totalCents", n(request.total_cents()))
        .item("createdAt", s(&now))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .send()
        .await?;
    lambda_runtime::tracing::info!(%order_id, "order PENDING");
    Ok(order_id)
}

/// What one stream record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// This record moved the order PENDING -> PROCESSED.
    Processed { order_id: String },
    /// The order was already PROCESSED (the record was delivered again).
    AlreadyProcessed { order_id: String },
    /// Not a PENDING order's new image (our own PROCESSED update, a removal): nothing to do.
    Skipped,
}

/// Handles one stream record.
pub async fn process_record(svc: &StreamOrders, record: &EventRecord) -> Result<Outcome, Error> {
    let image = &record.change.new_image;
    if record.event_name != "INSERT"
        || image_s(image, "status") != Some(StreamOrderStatus::Pending.as_str())
    {
        return Ok(Outcome::Skipped);
    }
    let order_id = image_s(image, "orderId")
        .ok_or("stream record of an order without orderId")?
        .to_owned();
    let update = svc
        .dynamodb
        .update_item()
        .table_name(&svc.table)
        .key(PARTITION_KEY, s(order_key(&order_id)))
        .update_expression("SET #status = :processed, processedAt = :now, streamEventId = :record")
        .condition_expression("#status = :pending")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":processed", s(StreamOrderStatus::Processed.as_str()))
        .expression_attribute_values(":pending", s(StreamOrderStatus::Pending.as_str()))
        .expression_attribute_values(":now", s(now_rfc3339()))
        .expression_attribute_values(":record", s(&record.event_id))
        .send()
        .await;
    match update {
        Ok(_) => Ok(Outcome::Processed { order_id }),
        Err(e) if is_conditional_check_failed(&e) => {
            match load_order(svc, &order_id)
                .await?
                .as_ref()
                .and_then(|i| get_s(i, "status"))
            {
                Some(st) if st == StreamOrderStatus::Processed.as_str() => {
                    Ok(Outcome::AlreadyProcessed { order_id })
                }
                other => Err(format!("order {order_id} has status {other:?}, not PENDING").into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// An order item (strongly consistent).
pub async fn load_order(svc: &StreamOrders, order_id: &str) -> Result<Option<Item>, Error> {
    crate::get_item(&svc.dynamodb, &svc.table, order_key(order_id)).await
}

/// The process function: records in stream order; at the first failure it stops and reports
/// that record's sequence number, so Lambda retries from there (bisecting on repeated errors, a
/// bounded number of times) and the records after it are not skipped.
pub async fn handle_stream(svc: &StreamOrders, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        match process_record(svc, record).await {
            Ok(outcome) => {
                lambda_runtime::tracing::info!(record = %record.event_id, ?outcome, "stream record")
            }
            Err(e) => {
                lambda_runtime::tracing::error!(record = %record.event_id, error = %handler_support::util::describe(e.as_ref()), "stream record failed");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record
                    .change
                    .sequence_number
                    .clone()
                    .or_else(|| Some(record.event_id.clone()));
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    response
}
