//! Names of the environment variables the handlers read. The stacks set exactly these on each
//! function (see [`required_by`]), the handlers read exactly these.

/// Name of the orders table.
pub const ORDERS_TABLE: &str = "ORDERS_TABLE";
/// Name of the inventory table (stock per product and reservations per order).
pub const INVENTORY_TABLE: &str = "INVENTORY_TABLE";
/// Name of the payments table.
pub const PAYMENTS_TABLE: &str = "PAYMENTS_TABLE";
/// Name of the shipments table (also holds parked dead letters).
pub const SHIPMENTS_TABLE: &str = "SHIPMENTS_TABLE";
/// Name of the platform's custom EventBridge bus.
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";
/// ARN of the SNS topic customers are notified through (payment failures).
pub const CUSTOMER_NOTIFICATION_TOPIC_ARN: &str = "CUSTOMER_NOTIFICATION_TOPIC_ARN";
/// ARN of the ops alert SNS topic.
pub const OPS_ALERT_TOPIC_ARN: &str = "OPS_ALERT_TOPIC_ARN";
/// URL of the queue the DLQ processor re-drives dead letters to (the shipping queue).
pub const REDRIVE_QUEUE_URL: &str = "REDRIVE_QUEUE_URL";
/// Optional: how many times the DLQ processor re-drives a message before parking it (default
/// [`DEFAULT_MAX_REDRIVES`]).
pub const MAX_REDRIVES: &str = "MAX_REDRIVES";
/// Optional: percentage (0-100) of orders the simulated payment provider declines (default
/// [`DEFAULT_PAYMENT_FAILURE_PERCENT`]). Deterministic per order id.
pub const PAYMENT_FAILURE_PERCENT: &str = "PAYMENT_FAILURE_PERCENT";

pub const DEFAULT_MAX_REDRIVES: u32 = 2;
pub const DEFAULT_PAYMENT_FAILURE_PERCENT: u32 = 10;

/// SQS message attribute (Number) the DLQ processor counts re-drives in.
pub const REDRIVE_COUNT_ATTRIBUTE: &str = "redriveCount";

/// The platform's functions, by binary name (`runtime/order-handlers/src/bin/<name>.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Handler {
    /// REST API: `POST /orders`, `GET /orders/{id}` (API Gateway proxy integration).
    OrderApi,
    /// Order state machine: EventBridge events (rule targets the function directly).
    OrderEvents,
    /// OrderPlaced from the inventory queue (SQS).
    Inventory,
    /// PaymentFailed from the inventory compensation queue (SQS).
    InventoryCompensation,
    /// StockConfirmation (stockConfirmed = true) from the payment queue (SQS).
    Payment,
    /// PaymentConfirmation from the shipping queue (SQS).
    Shipping,
    /// Dead letters of the shipping queue (SQS, the shipping DLQ).
    DlqProcessor,
}

impl Handler {
    pub const ALL: [Handler; 7] = [
        Handler::OrderApi,
        Handler::OrderEvents,
        Handler::Inventory,
        Handler::InventoryCompensation,
        Handler::Payment,
        Handler::Shipping,
        Handler::DlqProcessor,
    ];

    /// The binary's name, also the asset's name.
    pub fn binary_name(self) -> &'static str {
        match self {
            Handler::OrderApi => "order_api",
            Handler::OrderEvents => "order_events",
            Handler::Inventory => "inventory",
            Handler::InventoryCompensation => "inventory_compensation",
            Handler::Payment => "payment",
            Handler::Shipping => "shipping",
            Handler::DlqProcessor => "dlq_processor",
        }
    }
}

/// The environment variables `f` requires.
pub fn required_by(f: Handler) -> &'static [&'static str] {
    match f {
        Handler::OrderApi | Handler::OrderEvents => &[ORDERS_TABLE, EVENT_BUS_NAME],
        Handler::Inventory | Handler::InventoryCompensation => &[INVENTORY_TABLE, EVENT_BUS_NAME],
        Handler::Payment => &[
            PAYMENTS_TABLE,
            EVENT_BUS_NAME,
            CUSTOMER_NOTIFICATION_TOPIC_ARN,
        ],
        Handler::Shipping => &[SHIPMENTS_TABLE, EVENT_BUS_NAME],
        Handler::DlqProcessor => &[SHIPMENTS_TABLE, REDRIVE_QUEUE_URL, OPS_ALERT_TOPIC_ARN],
    }
}

/// The optional environment variables `f` reads (they have defaults).
pub fn optional_for(f: Handler) -> &'static [&'static str] {
    match f {
        Handler::Payment => &[PAYMENT_FAILURE_PERCENT],
        Handler::DlqProcessor => &[MAX_REDRIVES],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_names_are_unique() {
        let mut names: Vec<_> = Handler::ALL.iter().map(|f| f.binary_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Handler::ALL.len());
    }

    #[test]
    fn every_function_needs_something() {
        for f in Handler::ALL {
            assert!(!required_by(f).is_empty());
        }
    }
}
