//! The order service: the REST API (`POST /orders`, `GET /orders/{id}`) and the order state
//! machine driven by the other services' events.

use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::http::{header, HeaderMap, HeaderValue, Method};
use aws_lambda_events::sqs::SqsEvent;
use contracts::validate::parse_validated;
use contracts::{
    env, tables, CreateOrderRequest, CreateOrderResponse, ErrorBody, EventEnvelope, FieldError,
    OrderLine, OrderPlaced, OrderStatus, OrderView, PaymentConfirmation, PaymentFailed,
    ShipmentCreated, StockConfirmation,
};
use serde::Serialize;
use serde_json::Value;

use crate::EventPublisher;
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{
    fnv1a64, get_n, get_s, is_conditional_check_failed, n, now_rfc3339, s, Item,
};
use handler_support::{batch, Error};

/// Header a client may send to make `POST /orders` safe to retry: the same key (for the same
/// customer) always names the same order.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// What the order functions need.
#[derive(Clone, Debug)]
pub struct OrderService {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub orders_table: String,
    pub events: EventPublisher,
}

impl OrderService {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(OrderService {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            orders_table: require(env, env::ORDERS_TABLE)?,
            events: EventPublisher::new(
                aws_sdk_eventbridge::Client::new(sdk),
                require(env, env::EVENT_BUS_NAME)?,
            ),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// REST API

fn json_response<T: Serialize>(status: i64, body: &T) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.headers = headers;
    r.body = Some(Body::Text(
        serde_json::to_string(body).expect("response bodies serialize"),
    ));
    r
}

fn error_response(
    status: i64,
    message: &str,
    field_errors: Vec<FieldError>,
) -> ApiGatewayProxyResponse {
    json_response(
        status,
        &ErrorBody {
            message: message.to_string(),
            field_errors,
        },
    )
}

/// Routes an API Gateway (REST, proxy integration) request.
pub async fn handle_api(
    svc: &OrderService,
    req: ApiGatewayProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    let path = req.path.clone().unwrap_or_default();
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    // The last one or two segments decide (a stage prefix may precede them).
    let id_param = req.path_parameters.get("id").cloned();
    let is_collection = segments.last() == Some(&"orders");
    let item_id = id_param.or_else(|| match segments.as_slice() {
        [.., "orders", id] => Some((*id).to_string()),
        _ => None,
    });
    match (&req.http_method, is_collection, item_id) {
        (&Method::POST, true, _) => create_order(svc, &req).await,
        (&Method::GET, false, Some(id)) => get_order(svc, &id).await,
        (_, true, _) | (_, _, Some(_)) => Ok(error_response(405, "method not allowed", vec![])),
        _ => Ok(error_response(404, "no such resource", vec![])),
    }
}

/// The order id a request with idempotency key `key` from `customer_id` gets.
pub fn idempotent_order_id(customer_id: &str, key: &str) -> String {
    let a = fnv1a64(&format!("{customer_id}\u{0}{key}"));
    let b = fnv1a64(&format!("{key}\u{0}{customer_id}\u{0}order"));
    format!("ord-{a:016x}{b:016x}")
}

fn order_id_for(req: &ApiGatewayProxyRequest, customer_id: &str) -> String {
    match req
        .headers
        .get(IDEMPOTENCY_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
    {
        Some(key) => idempotent_order_id(customer_id, key),
        None => format!("ord-{}", uuid::Uuid::new_v4().simple()),
    }
}

/// `POST /orders`: validate, store PENDING, publish OrderPlaced, answer 201.
pub async fn create_order(
    svc: &OrderService,
    req: &ApiGatewayProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    if req.is_base64_encoded {
        return Ok(error_response(
            415,
            "binary request bodies are not supported",
            vec![],
        ));
    }
    let body = req.body.as_deref().unwrap_or("");
    let request: CreateOrderRequest = match parse_validated(body) {
        Ok(r) => r,
        Err(errors) => return Ok(error_response(400, "invalid order request", errors)),
    };
    let order_id = order_id_for(req, &request.customer_id);
    let now = now_rfc3339();
    let placed = OrderPlaced {
        order_id: order_id.clone(),
        customer_id: request.customer_id.clone(),
        lines: request.order_lines(),
        total_cents: request.total_cents(),
        placed_at: now.clone(),
    };
    let put = svc
        .dynamodb
        .put_item()
        .table_name(&svc.orders_table)
        .item(tables::PARTITION_KEY, s(tables::order_key(&order_id)))
        .item("orderId", s(&order_id))
        .item("customerId", s(&placed.customer_id))
        .item("status", s(OrderStatus::Pending.as_str()))
        .item("lines", s(serde_json::to_string(&placed.lines)?))
        .item("totalCents", n(placed.total_cents))
        .item("createdAt", s(&now))
        .item("updatedAt", s(&now))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", tables::PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => {}
        Err(e) if is_conditional_check_failed(&e) => {
            // A retry with the same idempotency key: answer as the first time, re-publishing
            // OrderPlaced while the order is still PENDING (the first publication may have failed).
            let Some(existing) = load_order(svc, &order_id).await? else {
                return Err(format!("order {order_id} vanished").into());
            };
            if existing.customer_id != placed.customer_id || existing.lines != placed.lines {
                return Ok(error_response(
                    409,
                    "idempotency key already used for a different order",
                    vec![],
                ));
            }
            if existing.status == OrderStatus::Pending {
                let again = OrderPlaced {
                    placed_at: existing.created_at.clone(),
                    ..placed
                };
                svc.events.publish(&again).await?;
            }
            return Ok(json_response(
                201,
                &CreateOrderResponse {
                    order_id,
                    status: existing.status,
                },
            ));
        }
        Err(e) => return Err(e.into()),
    }
    svc.events.publish(&placed).await?;
    let mut response = json_response(
        201,
        &CreateOrderResponse {
            order_id: order_id.clone(),
            status: OrderStatus::Pending,
        },
    );
    if let Ok(location) = HeaderValue::from_str(&format!("/orders/{order_id}")) {
        response.headers.insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /orders/{id}`: the order, or 404.
pub async fn get_order(
    svc: &OrderService,
    order_id: &str,
) -> Result<ApiGatewayProxyResponse, Error> {
    Ok(match load_order(svc, order_id).await? {
        Some(view) => json_response(200, &view),
        None => error_response(404, &format!("order {order_id} not found"), vec![]),
    })
}

/// Reads an order (strongly consistent).
pub async fn load_order(svc: &OrderService, order_id: &str) -> Result<Option<OrderView>, Error> {
    let out = svc
        .dynamodb
        .get_item()
        .table_name(&svc.orders_table)
        .key(tables::PARTITION_KEY, s(tables::order_key(order_id)))
        .consistent_read(true)
        .send()
        .await?;
    out.item.as_ref().map(order_view).transpose()
}

fn order_view(item: &Item) -> Result<OrderView, Error> {
    let text = |k: &str| -> Result<String, Error> {
        get_s(item, k)
            .map(str::to_string)
            .ok_or_else(|| format!("order item lacks {k}").into())
    };
    let status = text("status")?;
    let lines: Vec<OrderLine> = serde_json::from_str(&text("lines")?)?;
    Ok(OrderView {
        order_id: text("orderId")?,
        customer_id: text("customerId")?,
        status: OrderStatus::parse(&status).ok_or_else(|| format!("unknown status {status}"))?,
        lines,
        total_cents: get_n(item, "totalCents").unwrap_or(0),
        created_at: text("createdAt")?,
        updated_at: text("updatedAt")?,
        payment_id: get_s(item, "paymentId").map(str::to_string),
        shipment_id: get_s(item, "shipmentId").map(str::to_string),
        reason: get_s(item, "reason").map(str::to_string),
    })
}

// ---------------------------------------------------------------------------------------------
// State machine

/// What an event did to its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The order moved to this state.
    Applied(OrderStatus),
    /// The order was already in this state or past it (duplicate or late event): nothing changed.
    Ignored { current: OrderStatus },
    /// The event is not one the order service reacts to.
    NotForUs,
}

/// Moves `order_id` to `to` if, and only if, it is in one of `to`'s predecessor states, setting
/// `extra` attributes along. A conditional update: concurrent and repeated events cannot move an
/// order backwards or apply twice.
pub async fn transition(
    svc: &OrderService,
    order_id: &str,
    to: OrderStatus,
    extra: &[(&str, String)],
) -> Result<Transition, Error> {
    let mut update = String::from("SET #status = :to, #updatedAt = :now");
    let mut req = svc
        .dynamodb
        .update_item()
        .table_name(&svc.orders_table)
        .key(tables::PARTITION_KEY, s(tables::order_key(order_id)))
        .expression_attribute_names("#pk", tables::PARTITION_KEY)
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#updatedAt", "updatedAt")
        .expression_attribute_values(":to", s(to.as_str()))
        .expression_attribute_values(":now", s(now_rfc3339()));
    for (i, (name, value)) in extra.iter().enumerate() {
        update.push_str(&format!(", #x{i} = :x{i}"));
        req = req
            .expression_attribute_names(format!("#x{i}"), *name)
            .expression_attribute_values(format!(":x{i}"), s(value));
    }
    let preds = to.predecessors();
    let placeholders: Vec<String> = (0..preds.len()).map(|i| format!(":p{i}")).collect();
    for (i, p) in preds.iter().enumerate() {
        req = req.expression_attribute_values(format!(":p{i}"), s(p.as_str()));
    }
    let condition = format!(
        "attribute_exists(#pk) AND #status IN ({})",
        placeholders.join(", ")
    );
    match req
        .update_expression(update)
        .condition_expression(condition)
        .send()
        .await
    {
        Ok(_) => Ok(Transition::Applied(to)),
        Err(e) if is_conditional_check_failed(&e) => match load_order(svc, order_id).await? {
            Some(current) => Ok(Transition::Ignored {
                current: current.status,
            }),
            // An event about an order we do not (yet) know: fail, so it is retried.
            None => Err(format!("order {order_id} not found").into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Applies one envelope to its order.
pub async fn apply_envelope(
    svc: &OrderService,
    envelope: EventEnvelope<Value>,
) -> Result<Transition, Error> {
    if envelope.is::<StockConfirmation>() {
        let e: StockConfirmation = envelope.into_event()?;
        if e.stock_confirmed {
            transition(svc, &e.order_id, OrderStatus::StockReserved, &[]).await
        } else {
            let reason = e.reason.unwrap_or_else(|| "insufficient stock".into());
            transition(
                svc,
                &e.order_id,
                OrderStatus::Cancelled,
                &[("reason", reason)],
            )
            .await
        }
    } else if envelope.is::<PaymentConfirmation>() {
        let e: PaymentConfirmation = envelope.into_event()?;
        transition(
            svc,
            &e.order_id,
            OrderStatus::Paid,
            &[("paymentId", e.payment_id)],
        )
        .await
    } else if envelope.is::<PaymentFailed>() {
        let e: PaymentFailed = envelope.into_event()?;
        let reason = format!("payment failed: {}", e.reason);
        transition(
            svc,
            &e.order_id,
            OrderStatus::Cancelled,
            &[("paymentId", e.payment_id), ("reason", reason)],
        )
        .await
    } else if envelope.is::<ShipmentCreated>() {
        let e: ShipmentCreated = envelope.into_event()?;
        transition(
            svc,
            &e.order_id,
            OrderStatus::Shipped,
            &[("shipmentId", e.shipment_id)],
        )
        .await
    } else {
        lambda_runtime::tracing::warn!(source = %envelope.source, detail_type = %envelope.detail_type, "ignoring event");
        Ok(Transition::NotForUs)
    }
}

/// An EventBridge event delivered to the function (the rule targets it directly).
pub async fn handle_event(
    svc: &OrderService,
    event: EventBridgeEvent<Value>,
) -> Result<Transition, Error> {
    let envelope = EventEnvelope {
        id: event.id,
        source: event.source,
        detail_type: event.detail_type,
        detail: event.detail,
        time: None,
    };
    let outcome = apply_envelope(svc, envelope).await?;
    lambda_runtime::tracing::info!(?outcome, "order event applied");
    Ok(outcome)
}

/// A batch of envelopes from an SQS queue (if the order rules target a queue instead).
pub async fn handle_sqs(
    svc: &OrderService,
    event: SqsEvent,
) -> aws_lambda_events::sqs::SqsBatchResponse {
    batch::process(event, |record| async move {
        let envelope = EventEnvelope::parse_raw(batch::body(&record)?)?;
        apply_envelope(svc, envelope).await.map(|_| ())
    })
    .await
}

/// The `order_events` function's entry point: an EventBridge event, or an SQS batch of them,
/// whichever way the stacks wire the rules.
pub async fn handle_payload(svc: &OrderService, payload: Value) -> Result<Value, Error> {
    if payload.get("Records").is_some() {
        let event: SqsEvent = serde_json::from_value(payload)?;
        Ok(serde_json::to_value(handle_sqs(svc, event).await)?)
    } else {
        let event: EventBridgeEvent<Value> = serde_json::from_value(payload)?;
        let outcome = handle_event(svc, event).await?;
        Ok(serde_json::json!({ "outcome": format!("{outcome:?}") }))
    }
}
