//! The inventory service: reserves every line of an order at once (a DynamoDB transaction whose
//! conditions keep stock from going below zero) and answers with a StockConfirmation; on
//! PaymentFailed, releases the reservation exactly once.
//!
//! Items of the inventory table: `PRODUCT#<id>` with `stock` (number), and `RESERVATION#<order>`
//! with `status` RESERVED, REJECTED or RELEASED and the reserved `lines` (JSON). The reservation
//! record is written in the same transaction as the stock decrements, so a duplicate OrderPlaced
//! finds it and repeats the decision instead of reserving twice.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use contracts::envelope::parse_event;
use contracts::{env, tables, OrderPlaced, PaymentFailed, StockConfirmation};
use serde::{Deserialize, Serialize};

use crate::EventPublisher;
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{get_n, get_s, is_conditional_check_failed, n, now_rfc3339, s};
use handler_support::{batch, Error};

pub const RESERVED: &str = "RESERVED";
pub const REJECTED: &str = "REJECTED";
pub const RELEASED: &str = "RELEASED";

/// What the inventory functions need.
#[derive(Clone, Debug)]
pub struct InventoryService {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub inventory_table: String,
    pub events: EventPublisher,
}

impl InventoryService {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(InventoryService {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            inventory_table: require(env, env::INVENTORY_TABLE)?,
            events: EventPublisher::new(
                aws_sdk_eventbridge::Client::new(sdk),
                require(env, env::EVENT_BUS_NAME)?,
            ),
        })
    }
}

/// One product's reserved quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reserved {
    pub product_id: String,
    pub quantity: u32,
}

/// The decision about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Every line reserved by this call.
    Reserved,
    /// Not enough stock for these products: nothing reserved.
    Rejected { reason: String },
    /// A duplicate delivery: the order was decided before (`status` of the record).
    AlreadyDecided { status: String },
}

/// Sets a product's stock (an administrative helper; also seeds the tests).
pub async fn put_stock(svc: &InventoryService, product_id: &str, stock: u32) -> Result<(), Error> {
    svc.dynamodb
        .put_item()
        .table_name(&svc.inventory_table)
        .item(tables::PARTITION_KEY, s(tables::product_key(product_id)))
        .item("productId", s(product_id))
        .item("stock", n(stock))
        .send()
        .await?;
    Ok(())
}

/// A product's stock, if the product exists.
pub async fn stock_of(svc: &InventoryService, product_id: &str) -> Result<Option<i64>, Error> {
    let out = svc
        .dynamodb
        .get_item()
        .table_name(&svc.inventory_table)
        .key(tables::PARTITION_KEY, s(tables::product_key(product_id)))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item.and_then(|i| get_n(&i, "stock")))
}

/// The status of an order's reservation record, if any.
pub async fn reservation_status(
    svc: &InventoryService,
    order_id: &str,
) -> Result<Option<String>, Error> {
    Ok(load_reservation(svc, order_id)
        .await?
        .map(|(status, _)| status))
}

async fn load_reservation(
    svc: &InventoryService,
    order_id: &str,
) -> Result<Option<(String, Vec<Reserved>)>, Error> {
    let out = svc
        .dynamodb
        .get_item()
        .table_name(&svc.inventory_table)
        .key(tables::PARTITION_KEY, s(tables::reservation_key(order_id)))
        .consistent_read(true)
        .send()
        .await?;
    let Some(item) = out.item else {
        return Ok(None);
    };
    let status = get_s(&item, "status").unwrap_or_default().to_string();
    let lines = match get_s(&item, "lines") {
        Some(text) => serde_json::from_str(text)?,
        None => Vec::new(),
    };
    Ok(Some((status, lines)))
}

/// Quantities per product (an order may name a product on several lines; a transaction may
/// touch an item only once).
fn aggregate(order: &OrderPlaced) -> Vec<Reserved> {
    let mut per_product: BTreeMap<&str, u32> = BTreeMap::new();
    for line in &order.lines {
        *per_product.entry(&line.product_id).or_default() += line.quantity;
    }
    per_product
        .into_iter()
        .map(|(p, q)| Reserved {
            product_id: p.to_string(),
            quantity: q,
        })
        .collect()
}

/// Reserves all lines of `order` atomically, or none.
pub async fn reserve(svc: &InventoryService, order: &OrderPlaced) -> Result<Reservation, Error> {
    let lines = aggregate(order);
    let now = now_rfc3339();
    let record = Put::builder()
        .table_name(&svc.inventory_table)
        .item(
            tables::PARTITION_KEY,
            s(tables::reservation_key(&order.order_id)),
        )
        .item("orderId", s(&order.order_id))
        .item("status", s(RESERVED))
        .item("lines", s(serde_json::to_string(&lines)?))
        .item("createdAt", s(&now))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", tables::PARTITION_KEY)
        .build()?;
    let mut items = vec![TransactWriteItem::builder().put(record).build()];
    for line in &lines {
        let update = Update::builder()
            .table_name(&svc.inventory_table)
            .key(
                tables::PARTITION_KEY,
                s(tables::product_key(&line.product_id)),
            )
            .update_expression("SET #stock = #stock - :q")
            .condition_expression("attribute_exists(#pk) AND #stock >= :q")
            .expression_attribute_names("#pk", tables::PARTITION_KEY)
            .expression_attribute_names("#stock", "stock")
            .expression_attribute_values(":q", n(line.quantity))
            .build()?;
        items.push(TransactWriteItem::builder().update(update).build());
    }
    let err = match svc
        .dynamodb
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => return Ok(Reservation::Reserved),
        Err(e) => e,
    };
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return Err(err.into());
    };
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("None"))
        .collect();
    if codes
        .iter()
        .any(|c| *c == "TransactionConflict" || *c == "ThrottlingError")
    {
        return Err(format!(
            "reservation of {} conflicted: {codes:?}; retrying",
            order.order_id
        )
        .into());
    }
    let record_exists = codes.first() == Some(&"ConditionalCheckFailed");
    if !record_exists {
        if let Some((status, _)) = load_reservation(svc, &order.order_id).await? {
            // No reasons reported (some emulators), but the record is there: a duplicate.
            return Ok(Reservation::AlreadyDecided { status });
        }
        let short: Vec<&str> = if codes.len() == lines.len() + 1 {
            lines
                .iter()
                .zip(&codes[1..])
                .filter(|(_, c)| **c == "ConditionalCheckFailed")
                .map(|(l, _)| l.product_id.as_str())
                .collect()
        } else {
            lines.iter().map(|l| l.product_id.as_str()).collect()
        };
        let reason = format!("insufficient stock for {}", short.join(", "));
        return reject(svc, order, reason).await;
    }
    let status = load_reservation(svc, &order.order_id)
        .await?
        .map(|(st, _)| st)
        .unwrap_or_default();
    Ok(Reservation::AlreadyDecided { status })
}

/// Records a rejection, so a later duplicate repeats it even if stock has come back meanwhile.
async fn reject(
    svc: &InventoryService,
    order: &OrderPlaced,
    reason: String,
) -> Result<Reservation, Error> {
    let put = svc
        .dynamodb
        .put_item()
        .table_name(&svc.inventory_table)
        .item(
            tables::PARTITION_KEY,
            s(tables::reservation_key(&order.order_id)),
        )
        .item("orderId", s(&order.order_id))
        .item("status", s(REJECTED))
        .item("reason", s(&reason))
        .item("createdAt", s(now_rfc3339()))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", tables::PARTITION_KEY)
        .send()
        .await;
    match put {
        Ok(_) => Ok(Reservation::Rejected { reason }),
        Err(e) if is_conditional_check_failed(&e) => {
            let status = reservation_status(svc, &order.order_id)
                .await?
                .unwrap_or_default();
            Ok(Reservation::AlreadyDecided { status })
        }
        Err(e) => Err(e.into()),
    }
}

async fn stored_reason(svc: &InventoryService, order_id: &str) -> Result<Option<String>, Error> {
    let out = svc
        .dynamodb
        .get_item()
        .table_name(&svc.inventory_table)
        .key(tables::PARTITION_KEY, s(tables::reservation_key(order_id)))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out
        .item
        .and_then(|i| get_s(&i, "reason").map(str::to_string)))
}

/// Handles one OrderPlaced: reserve, then publish the (possibly repeated) decision.
pub async fn on_order_placed(
    svc: &InventoryService,
    order: &OrderPlaced,
) -> Result<Reservation, Error> {
    let decision = reserve(svc, order).await?;
    let (confirmed, reason) = match &decision {
        Reservation::Reserved => (true, None),
        Reservation::Rejected { reason } => (false, Some(reason.clone())),
        Reservation::AlreadyDecided { status } if status == RESERVED => (true, None),
        Reservation::AlreadyDecided { status } if status == REJECTED => {
            (false, stored_reason(svc, &order.order_id).await?)
        }
        // Released: the saga has moved on (payment failed); repeating would restart it.
        Reservation::AlreadyDecided { .. } => return Ok(decision),
    };
    svc.events
        .publish(&StockConfirmation {
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            stock_confirmed: confirmed,
            total_cents: order.total_cents,
            reason,
        })
        .await?;
    Ok(decision)
}

/// The `inventory` function: a batch of OrderPlaced envelopes.
pub async fn handle_reservations(svc: &InventoryService, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let order: OrderPlaced = parse_event(batch::body(&record)?)?;
        let decision = on_order_placed(svc, &order).await?;
        lambda_runtime::tracing::info!(order_id = %order.order_id, ?decision, "reservation");
        Ok(())
    })
    .await
}

/// What compensation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Release {
    /// The reservation was released by this call (stock given back).
    Released,
    /// Nothing to release: released before, rejected, or never reserved.
    Nothing { status: Option<String> },
}

/// Releases the reservation of an order exactly once: the record's RESERVED -> RELEASED change
/// and the stock increments are one transaction conditioned on RESERVED.
pub async fn release(svc: &InventoryService, order_id: &str) -> Result<Release, Error> {
    let Some((status, lines)) = load_reservation(svc, order_id).await? else {
        return Ok(Release::Nothing { status: None });
    };
    if status != RESERVED {
        return Ok(Release::Nothing {
            status: Some(status),
        });
    }
    let record = Update::builder()
        .table_name(&svc.inventory_table)
        .key(tables::PARTITION_KEY, s(tables::reservation_key(order_id)))
        .update_expression("SET #status = :released, #releasedAt = :now")
        .condition_expression("#status = :reserved")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#releasedAt", "releasedAt")
        .expression_attribute_values(":released", s(RELEASED))
        .expression_attribute_values(":reserved", s(RESERVED))
        .expression_attribute_values(":now", s(now_rfc3339()))
        .build()?;
    let mut items = vec![TransactWriteItem::builder().update(record).build()];
    for line in &lines {
        let update = Update::builder()
            .table_name(&svc.inventory_table)
            .key(
                tables::PARTITION_KEY,
                s(tables::product_key(&line.product_id)),
            )
            .update_expression("SET #stock = #stock + :q")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", tables::PARTITION_KEY)
            .expression_attribute_names("#stock", "stock")
            .expression_attribute_values(":q", n(line.quantity))
            .build()?;
        items.push(TransactWriteItem::builder().update(update).build());
    }
    match svc
        .dynamodb
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(Release::Released),
        Err(e) => {
            // Cancelled because a concurrent duplicate released it first?
            let now = reservation_status(svc, order_id).await?;
            if now.as_deref() == Some(RESERVED) {
                Err(e.into())
            } else {
                Ok(Release::Nothing { status: now })
            }
        }
    }
}

/// The `inventory_compensation` function: a batch of PaymentFailed envelopes.
pub async fn handle_compensations(svc: &InventoryService, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let failed: PaymentFailed = parse_event(batch::body(&record)?)?;
        let outcome = release(svc, &failed.order_id).await?;
        lambda_runtime::tracing::info!(order_id = %failed.order_id, ?outcome, "compensation");
        Ok(())
    })
    .await
}
