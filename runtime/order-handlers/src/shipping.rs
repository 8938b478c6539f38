//! The shipping service: one shipment per order however often PaymentConfirmation arrives
//! (conditional put keyed by order), and ShipmentCreated on the bus.

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use contracts::envelope::parse_event;
use contracts::{env, tables, PaymentConfirmation, ShipmentCreated};

use crate::EventPublisher;
use handler_support::config::{require, ConfigError, Lookup};
use handler_support::util::{fnv1a64, get_s, is_conditional_check_failed, now_rfc3339, s};
use handler_support::{batch, Error};

/// What the shipping function needs.
#[derive(Clone, Debug)]
pub struct ShippingService {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub shipments_table: String,
    pub events: EventPublisher,
}

impl ShippingService {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(ShippingService {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            shipments_table: require(env, env::SHIPMENTS_TABLE)?,
            events: EventPublisher::new(
                aws_sdk_eventbridge::Client::new(sdk),
                require(env, env::EVENT_BUS_NAME)?,
            ),
        })
    }
}

/// Whether this call created the shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub event: ShipmentCreated,
    pub created_now: bool,
}

/// Reads the shipment of an order.
pub async fn load_shipment(
    svc: &ShippingService,
    order_id: &str,
) -> Result<Option<ShipmentCreated>, Error> {
    let out = svc
        .dynamodb
        .get_item()
        .table_name(&svc.shipments_table)
        .key(tables::PARTITION_KEY, s(tables::shipment_key(order_id)))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item.map(|i| ShipmentCreated {
        order_id: get_s(&i, "orderId").unwrap_or_default().into(),
        shipment_id: get_s(&i, "shipmentId").unwrap_or_default().into(),
        tracking_number: get_s(&i, "trackingNumber").unwrap_or_default().into(),
    }))
}

/// Creates the order's shipment unless it exists, then publishes ShipmentCreated (again, on a
/// duplicate, with the stored ids).
pub async fn on_payment_confirmation(
    svc: &ShippingService,
    p: &PaymentConfirmation,
) -> Result<Shipment, Error> {
    let candidate = ShipmentCreated {
        order_id: p.order_id.clone(),
        shipment_id: format!("shp-{}", uuid::Uuid::new_v4().simple()),
        tracking_number: format!("TRK{:012}", fnv1a64(&p.order_id) % 1_000_000_000_000),
    };
    let put = svc
        .dynamodb
        .put_item()
        .table_name(&svc.shipments_table)
        .item(tables::PARTITION_KEY, s(tables::shipment_key(&p.order_id)))
        .item("orderId", s(&candidate.order_id))
        .item("shipmentId", s(&candidate.shipment_id))
        .item("trackingNumber", s(&candidate.tracking_number))
        .item("paymentId", s(&p.payment_id))
        .item("createdAt", s(now_rfc3339()))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", tables::PARTITION_KEY)
        .send()
        .await;
    let shipment = match put {
        Ok(_) => Shipment {
            event: candidate,
            created_now: true,
        },
        Err(e) if is_conditional_check_failed(&e) => Shipment {
            event: load_shipment(svc, &p.order_id)
                .await?
                .ok_or_else(|| format!("shipment of {} vanished", p.order_id))?,
            created_now: false,
        },
        Err(e) => return Err(e.into()),
    };
    svc.events.publish(&shipment.event).await?;
    Ok(shipment)
}

/// The `shipping` function: a batch of PaymentConfirmation envelopes.
pub async fn handle(svc: &ShippingService, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let p: PaymentConfirmation = parse_event(batch::body(&record)?)?;
        let shipment = on_payment_confirmation(svc, &p).await?;
        lambda_runtime::tracing::info!(order_id = %p.order_id, created_now = shipment.created_now, "shipment");
        Ok(())
    })
    .await
}
