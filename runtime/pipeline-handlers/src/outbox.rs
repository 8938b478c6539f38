//! Seed 000, the write side: `POST /orders` validates the order, then writes the order (the read
//! model) and its outbox event in one DynamoDB transaction, so there is never an order without
//! its event, nor an event without its order. The seed keeps the outbox in PostgreSQL beside a
//! DynamoDB read model "in one atomic transaction": that cannot be atomic across two databases,
//! so both tables are DynamoDB here (see `contracts::outbox`).

use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use contracts::outbox::{
    outbox_key, OutboxEvent, OutboxStatus, ORDER_ACCEPTED, OUTBOX_ORDERS_TABLE, OUTBOX_TABLE,
};
use contracts::tables::{order_key, PARTITION_KEY};
use contracts::validate::parse_validated;
use contracts::{CreateOrderRequest, CreateOrderResponse, OrderPlaced, OrderStatus};
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{n, now_rfc3339, s};

use crate::http::{error_body, rest};
use crate::Error;

/// What the API function needs.
#[derive(Clone, Debug)]
pub struct OutboxWriter {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub orders_table: String,
    pub outbox_table: String,
}

impl OutboxWriter {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(OutboxWriter {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            orders_table: require(env, OUTBOX_ORDERS_TABLE)?,
            outbox_table: require(env, OUTBOX_TABLE)?,
        })
    }
}

/// The API function (REST proxy integration): `POST /orders`, answered 201.
pub async fn handle_api(
    svc: &OutboxWriter,
    req: ApiGatewayProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    if req.http_method.as_str() != "POST" {
        return Ok(rest(405, &error_body("use POST /orders", vec![])));
    }
    if req.is_base64_encoded {
        return Ok(rest(
            415,
            &error_body("binary request bodies are not supported", vec![]),
        ));
    }
    let request: CreateOrderRequest = match parse_validated(req.body.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(errors) => return Ok(rest(400, &error_body("invalid order request", errors))),
    };
    let event = place_order(svc, &request).await?;
    Ok(rest(
        201,
        &CreateOrderResponse {
            order_id: event.order_id,
            status: OrderStatus::Pending,
        },
    ))
}

/// Writes the order and its `OrderAccepted` outbox event atomically; returns the event.
pub async fn place_order(
    svc: &OutboxWriter,
    request: &CreateOrderRequest,
) -> Result<OutboxEvent, Error> {
    let order_id = format!("ord-{}", uuid::Uuid::new_v4().simple());
    let now = now_rfc3339();
    let event = OutboxEvent {
        event_id: format!("evt-{}", uuid::Uuid::new_v4().simple()),
        event_type: ORDER_ACCEPTED.to_owned(),
        order_id: order_id.clone(),
        occurred_at: now.clone(),
        order: OrderPlaced {
            order_id: order_id.clone(),
            customer_id: request.customer_id.clone(),
            lines: request.order_lines(),
            total_cents: request.total_cents(),
            placed_at: now.clone(),
        },
    };
    let order = Put::builder()
        .table_name(&svc.orders_table)
        .item(PARTITION_KEY, s(order_key(&order_id)))
        .item("orderId", s(&order_id))
        .item("customerId", s(&request.customer_id))
        .item("status", s(OrderStatus::Pending.as_str()))
        .item("lines", s(serde_json::to_string(&event.order.lines)?))
        .item("totalCents", n(event.order.total_cents))
        .item("createdAt", s(&now))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .build()?;
    let outbox = Put::builder()
        .table_name(&svc.outbox_table)
        .item(PARTITION_KEY, s(outbox_key(&event.event_id)))
        .item("eventId", s(&event.event_id))
        .item("eventType", s(&event.event_type))
        .item("orderId", s(&order_id))
        .item("status", s(OutboxStatus::Pending.as_str()))
        .item("event", s(serde_json::to_string(&event)?))
        .item("createdAt", s(&now))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", PARTITION_KEY)
        .build()?;
    svc.dynamodb
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(order).build())
        .transact_items(TransactWriteItem::builder().put(outbox).build())
        .send()
        .await?;
    lambda_runtime::tracing::info!(order_id = %event.order_id, event_id = %event.event_id, "order and outbox event written");
    Ok(event)
}
