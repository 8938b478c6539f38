//! Domain events exchanged on the platform's EventBridge bus.
//!
//! Every event is a `detail` payload; its `source` and `detail-type` are associated constants of
//! [`DomainEvent`]. Wire names are camelCase.

use schemars::JsonSchema;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A domain event: its detail type is `Self`, its envelope fields are the two constants.
pub trait DomainEvent: Serialize + DeserializeOwned + JsonSchema {
    /// The EventBridge `source` this event is published with.
    const SOURCE: &'static str;
    /// The EventBridge `detail-type` this event is published with.
    const DETAIL_TYPE: &'static str;

    /// The order this event is about (every event of the platform is about one order).
    fn order_id(&self) -> &str;
}

/// Source of events published by the order service.
pub const SOURCE_ORDERS: &str = "ecommerce.orders";
/// Source of events published by the inventory service.
pub const SOURCE_INVENTORY: &str = "ecommerce.inventory";
/// Source of events published by the payment service.
pub const SOURCE_PAYMENT: &str = "ecommerce.payment";
/// Source of events published by the shipping service.
pub const SOURCE_SHIPPING: &str = "ecommerce.shipping";

/// One line of a placed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: String,
    pub quantity: u32,
    pub unit_price_cents: u64,
}

/// An order was accepted by the API and stored as PENDING.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPlaced {
    pub order_id: String,
    pub customer_id: String,
    pub lines: Vec<OrderLine>,
    pub total_cents: u64,
    /// RFC 3339 timestamp.
    pub placed_at: String,
}

impl DomainEvent for OrderPlaced {
    const SOURCE: &'static str = SOURCE_ORDERS;
    const DETAIL_TYPE: &'static str = "OrderPlaced";
    fn order_id(&self) -> &str {
        &self.order_id
    }
}

/// The inventory service's answer to an [`OrderPlaced`]: all lines reserved, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockConfirmation {
    pub order_id: String,
    pub customer_id: String,
    /// True when every line was reserved; false when any line lacked stock (nothing reserved).
    pub stock_confirmed: bool,
    pub total_cents: u64,
    /// Why the stock was not confirmed (absent when confirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DomainEvent for StockConfirmation {
    const SOURCE: &'static str = SOURCE_INVENTORY;
    const DETAIL_TYPE: &'static str = "StockConfirmation";
    fn order_id(&self) -> &str {
        &self.order_id
    }
}

/// The payment for an order succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentConfirmation {
    pub order_id: String,
    pub customer_id: String,
    pub payment_id: String,
    pub amount_cents: u64,
}

impl DomainEvent for PaymentConfirmation {
    const SOURCE: &'static str = SOURCE_PAYMENT;
    const DETAIL_TYPE: &'static str = "PaymentConfirmation";
    fn order_id(&self) -> &str {
        &self.order_id
    }
}

/// The payment for an order failed; the reservation must be released and the order cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    pub order_id: String,
    pub customer_id: String,
    pub payment_id: String,
    pub amount_cents: u64,
    pub reason: String,
}

impl DomainEvent for PaymentFailed {
    const SOURCE: &'static str = SOURCE_PAYMENT;
    const DETAIL_TYPE: &'static str = "PaymentFailed";
    fn order_id(&self) -> &str {
        &self.order_id
    }
}

/// A shipment was created for an order (exactly one per order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentCreated {
    pub order_id: String,
    pub shipment_id: String,
    pub tracking_number: String,
}

impl DomainEvent for ShipmentCreated {
    const SOURCE: &'static str = SOURCE_SHIPPING;
    const DETAIL_TYPE: &'static str = "ShipmentCreated";
    fn order_id(&self) -> &str {
        &self.order_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<E: DomainEvent + PartialEq + std::fmt::Debug>(e: &E) -> serde_json::Value {
        let v = serde_json::to_value(e).unwrap();
        let back: E = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(&back, e);
        v
    }

    #[test]
    fn order_placed_wire_names() {
        let e = OrderPlaced {
            order_id: "o-1".into(),
            customer_id: "c-1".into(),
            lines: vec![OrderLine {
                product_id: "p-1".into(),
                quantity: 2,
                unit_price_cents: 150,
            }],
            total_cents: 300,
            placed_at: "2025-01-01T00:00:00Z".into(),
        };
        assert_eq!(
            round_trip(&e),
            json!({
                "orderId": "o-1", "customerId": "c-1", "totalCents": 300,
                "placedAt": "2025-01-01T00:00:00Z",
                "lines": [{"productId": "p-1", "quantity": 2, "unitPriceCents": 150}]
            })
        );
    }

    #[test]
    fn stock_confirmation_wire_names() {
        let e = StockConfirmation {
            order_id: "o-1".into(),
            customer_id: "c-1".into(),
            stock_confirmed: true,
            total_cents: 10,
            reason: None,
        };
        let v = round_trip(&e);
        assert_eq!(v["stockConfirmed"], json!(true));
        assert!(v.get("reason").is_none(), "absent reason is not serialized");
        let rejected = StockConfirmation {
            stock_confirmed: false,
            reason: Some("insufficient stock for p-1".into()),
            ..e
        };
        assert_eq!(
            round_trip(&rejected)["reason"],
            json!("insufficient stock for p-1")
        );
    }

    #[test]
    fn payment_and_shipment_round_trip() {
        let ok = PaymentConfirmation {
            order_id: "o".into(),
            customer_id: "c".into(),
            payment_id: "pay".into(),
            amount_cents: 5,
        };
        assert_eq!(round_trip(&ok)["paymentId"], json!("pay"));
        let failed = PaymentFailed {
            order_id: "o".into(),
            customer_id: "c".into(),
            payment_id: "pay".into(),
            amount_cents: 5,
            reason: "declined".into(),
        };
        assert_eq!(round_trip(&failed)["amountCents"], json!(5));
        let s = ShipmentCreated {
            order_id: "o".into(),
            shipment_id: "s".into(),
            tracking_number: "T".into(),
        };
        assert_eq!(round_trip(&s)["trackingNumber"], json!("T"));
    }

    #[test]
    fn sources_and_detail_types() {
        assert_eq!(OrderPlaced::SOURCE, "ecommerce.orders");
        assert_eq!(StockConfirmation::SOURCE, "ecommerce.inventory");
        assert_eq!(PaymentConfirmation::SOURCE, "ecommerce.payment");
        assert_eq!(PaymentFailed::SOURCE, "ecommerce.payment");
        assert_eq!(ShipmentCreated::SOURCE, "ecommerce.shipping");
        assert_eq!(PaymentFailed::DETAIL_TYPE, "PaymentFailed");
    }
}
