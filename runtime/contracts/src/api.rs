//! API payloads of the order service (REST API: `POST /orders`, `GET /orders/{id}`).
//!
//! [`CreateOrderRequest`]'s constraints are schemars attributes, so they appear in its JSON
//! Schema: the stacks hand that schema to API Gateway as the request model, and the handler
//! validates against the very same schema (see [`crate::validate`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::events::OrderLine;

/// Most lines one order may have (a DynamoDB transaction holds at most 100 items; the inventory
/// reservation writes one per line plus the reservation record).
pub const MAX_ORDER_LINES: usize = 50;
/// Largest quantity of one line.
pub const MAX_LINE_QUANTITY: u32 = 1000;

/// Body of `POST /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrderRequest {
    #[schemars(length(min = 1, max = 64))]
    pub customer_id: String,
    #[schemars(length(min = 1, max = 50))]
    pub lines: Vec<OrderLineRequest>,
}

/// One line of a [`CreateOrderRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderLineRequest {
    #[schemars(length(min = 1, max = 64))]
    pub product_id: String,
    #[schemars(range(min = 1, max = 1000))]
    pub quantity: u32,
    #[schemars(range(min = 0, max = 100000000))]
    pub unit_price_cents: u64,
}

impl CreateOrderRequest {
    /// The order's lines as carried by events.
    pub fn order_lines(&self) -> Vec<OrderLine> {
        self.lines
            .iter()
            .map(|l| OrderLine {
                product_id: l.product_id.clone(),
                quantity: l.quantity,
                unit_price_cents: l.unit_price_cents,
            })
            .collect()
    }

    /// Sum of quantity x unit price over the lines.
    pub fn total_cents(&self) -> u64 {
        self.lines
            .iter()
            .map(|l| u64::from(l.quantity) * l.unit_price_cents)
            .sum()
    }
}

/// Answer of a successful `POST /orders` (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrderResponse {
    pub order_id: String,
    pub status: OrderStatus,
}

/// Life cycle of an order. Transitions only go forward:
/// `PENDING -> STOCK_RESERVED -> PAID -> SHIPPED`, and `PENDING | STOCK_RESERVED -> CANCELLED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    StockReserved,
    Paid,
    Shipped,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Pending,
        OrderStatus::StockReserved,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Cancelled,
    ];

    /// The wire name (`"STOCK_RESERVED"`, ...), also the value stored in DynamoDB.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "PENDING",
            OrderStatus::StockReserved => "STOCK_RESERVED",
            OrderStatus::Paid => "PAID",
            OrderStatus::Shipped => "SHIPPED",
            OrderStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Final states: nothing moves an order out of them.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Shipped | OrderStatus::Cancelled)
    }

    /// The states from which an order may move to `self` (never backwards). Events may arrive
    /// out of order, so a later state may be reached from any earlier non-terminal state.
    pub fn predecessors(self) -> Vec<OrderStatus> {
        match self {
            OrderStatus::Pending => vec![],
            OrderStatus::StockReserved => vec![OrderStatus::Pending],
            OrderStatus::Paid => vec![OrderStatus::Pending, OrderStatus::StockReserved],
            OrderStatus::Shipped => vec![
                OrderStatus::Pending,
                OrderStatus::StockReserved,
                OrderStatus::Paid,
            ],
            OrderStatus::Cancelled => vec![OrderStatus::Pending, OrderStatus::StockReserved],
        }
    }

    pub fn can_move_to(self, next: OrderStatus) -> bool {
        next.predecessors().contains(&self)
    }
}

/// Body of `GET /orders/{id}` (200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: String,
    pub customer_id: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total_cents: u64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_id: Option<String>,
    /// Why the order was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub field_errors: Vec<FieldError>,
}

/// One failed constraint: `field` is a JSON pointer into the request body (`/lines/0/quantity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn request_round_trip_and_wire_names() {
        let v = json!({
            "customerId": "c-1",
            "lines": [{"productId": "p-1", "quantity": 2, "unitPriceCents": 250}]
        });
        let r: CreateOrderRequest = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.total_cents(), 500);
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }

    #[test]
    fn request_schema_carries_constraints() {
        let schema = serde_json::to_value(schemars::schema_for!(CreateOrderRequest)).unwrap();
        assert_eq!(schema["properties"]["lines"]["minItems"], json!(1));
        assert_eq!(
            schema["properties"]["lines"]["maxItems"],
            json!(MAX_ORDER_LINES)
        );
        assert_eq!(schema["properties"]["customerId"]["minLength"], json!(1));
        assert_eq!(schema["additionalProperties"], json!(false));
        let line = &schema["$defs"]["OrderLineRequest"];
        assert_eq!(line["properties"]["quantity"]["minimum"], json!(1));
        assert_eq!(
            line["properties"]["quantity"]["maximum"],
            json!(MAX_LINE_QUANTITY)
        );
    }

    #[test]
    fn status_wire_names_and_transitions() {
        assert_eq!(
            serde_json::to_value(OrderStatus::StockReserved).unwrap(),
            json!("STOCK_RESERVED")
        );
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
            assert!(!s.can_move_to(s), "{s:?} -> itself is not a transition");
        }
        assert!(OrderStatus::Pending.can_move_to(OrderStatus::StockReserved));
        assert!(OrderStatus::StockReserved.can_move_to(OrderStatus::Cancelled));
        assert!(!OrderStatus::Paid.can_move_to(OrderStatus::StockReserved));
        assert!(!OrderStatus::Paid.can_move_to(OrderStatus::Cancelled));
        assert!(!OrderStatus::Shipped.can_move_to(OrderStatus::Paid));
        assert!(!OrderStatus::Cancelled.can_move_to(OrderStatus::Shipped));
    }

    #[test]
    fn error_body_wire_names() {
        let e = ErrorBody {
            message: "invalid request".into(),
            field_errors: vec![FieldError {
                field: "/lines".into(),
                message: "too few".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"message": "invalid request", "fieldErrors": [{"field": "/lines", "message": "too few"}]})
        );
    }
}
