//! DynamoDB key layout: every table has one string partition key named [`PARTITION_KEY`] (no
//! sort key). The stacks create the tables with it; the handlers address items by it.

/// The partition key attribute of every table (type S).
pub const PARTITION_KEY: &str = "pk";

/// A table of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// A name to derive construct ids from.
    pub name: &'static str,
    /// The environment variable carrying its physical name (see [`crate::env`]).
    pub env_var: &'static str,
    pub partition_key: &'static str,
}

pub const ORDERS: TableSpec = TableSpec {
    name: "Orders",
    env_var: crate::env::ORDERS_TABLE,
    partition_key: PARTITION_KEY,
};
pub const INVENTORY: TableSpec = TableSpec {
    name: "Inventory",
    env_var: crate::env::INVENTORY_TABLE,
    partition_key: PARTITION_KEY,
};
pub const PAYMENTS: TableSpec = TableSpec {
    name: "Payments",
    env_var: crate::env::PAYMENTS_TABLE,
    partition_key: PARTITION_KEY,
};
pub const SHIPMENTS: TableSpec = TableSpec {
    name: "Shipments",
    env_var: crate::env::SHIPMENTS_TABLE,
    partition_key: PARTITION_KEY,
};

pub const ALL: [TableSpec; 4] = [ORDERS, INVENTORY, PAYMENTS, SHIPMENTS];

/// Orders table: key of an order.
pub fn order_key(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}
/// Inventory table: key of a product's stock item (attribute `stock`, a number).
pub fn product_key(product_id: &str) -> String {
    format!("PRODUCT#{product_id}")
}
/// Inventory table: key of an order's reservation record.
pub fn reservation_key(order_id: &str) -> String {
    format!("RESERVATION#{order_id}")
}
/// Payments table: key of an order's payment (one per order).
pub fn payment_key(order_id: &str) -> String {
    format!("PAYMENT#{order_id}")
}
/// Shipments table: key of an order's shipment (one per order).
pub fn shipment_key(order_id: &str) -> String {
    format!("SHIPMENT#{order_id}")
}
/// Shipments table: key of a parked dead letter.
pub fn parked_key(message_id: &str) -> String {
    format!("PARKED#{message_id}")
}
