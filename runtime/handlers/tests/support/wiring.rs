//! The platform's wiring as plain data: tables, topics, queues (with their DLQs), the bus's rules
//! (pattern + target), the functions' environments and the event source mappings. Written by
//! hand from `order-contracts` today; meant to be loaded from the synthesized CloudFormation
//! templates later, so the tests exercise the deployed wiring.

use contracts::env::{self, Function};
use contracts::{
    tables, EventPattern, OrderPlaced, PaymentConfirmation, PaymentFailed, ShipmentCreated,
    StockConfirmation,
};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Wiring {
    pub tables: Vec<TableDecl>,
    pub topics: Vec<String>,
    pub queues: Vec<QueueDecl>,
    pub rules: Vec<RuleDecl>,
    pub functions: Vec<FunctionDecl>,
    pub event_sources: Vec<EventSource>,
    /// SNS topic -> SQS queue subscriptions (how the tests observe notifications).
    pub subscriptions: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct TableDecl {
    pub id: String,
    pub partition_key: String,
}

#[derive(Debug, Clone)]
pub struct QueueDecl {
    pub id: String,
    /// Dead-letter queue id and maxReceiveCount.
    pub redrive: Option<(String, u32)>,
}

#[derive(Debug, Clone)]
pub enum Target {
    /// The rule's target is a queue.
    Queue(String),
    /// The rule's target is the function (asynchronous invocation with the event).
    Function(Function),
}

#[derive(Debug, Clone)]
pub struct RuleDecl {
    pub id: String,
    pub pattern: Value,
    pub target: Target,
}

#[derive(Debug, Clone)]
pub enum EnvValue {
    TableName(String),
    QueueUrl(String),
    TopicArn(String),
    BusName,
    Literal(String),
}

#[derive(Debug, Clone)]
pub struct FunctionDecl {
    pub function: Function,
    pub env: Vec<(String, EnvValue)>,
}

/// An SQS event source mapping (ReportBatchItemFailures on).
#[derive(Debug, Clone)]
pub struct EventSource {
    pub queue: String,
    pub function: Function,
    pub batch_size: usize,
}

fn q(id: &str, redrive: Option<(&str, u32)>) -> QueueDecl {
    QueueDecl {
        id: id.into(),
        redrive: redrive.map(|(d, n)| (d.into(), n)),
    }
}

fn e(key: &str, v: EnvValue) -> (String, EnvValue) {
    (key.to_string(), v)
}

/// The order platform as issue 5 describes it.
pub fn platform(payment_failure_percent: u32) -> Wiring {
    use EnvValue::*;
    let table = |t: &tables::TableSpec| TableName(t.name.to_string());
    Wiring {
        tables: tables::ALL
            .iter()
            .map(|t| TableDecl {
                id: t.name.into(),
                partition_key: t.partition_key.into(),
            })
            .collect(),
        topics: vec!["OpsAlertTopic".into(), "CustomerNotificationTopic".into()],
        queues: vec![
            q("InventoryDlq", None),
            q("InventoryQueue", Some(("InventoryDlq", 3))),
            q("CompensationDlq", None),
            q("CompensationQueue", Some(("CompensationDlq", 3))),
            q("PaymentDlq", None),
            q("PaymentQueue", Some(("PaymentDlq", 3))),
            q("ShippingDlq", None),
            q("ShippingQueue", Some(("ShippingDlq", 3))),
            q("CustomerInbox", None),
            q("OpsInbox", None),
        ],
        rules: vec![
            RuleDecl {
                id: "OrderPlacedToInventory".into(),
                pattern: EventPattern::of::<OrderPlaced>().to_value(),
                target: Target::Queue("InventoryQueue".into()),
            },
            RuleDecl {
                id: "PaymentFailedToCompensation".into(),
                pattern: EventPattern::of::<PaymentFailed>().to_value(),
                target: Target::Queue("CompensationQueue".into()),
            },
            RuleDecl {
                id: "StockConfirmedToPayment".into(),
                pattern: EventPattern::of::<StockConfirmation>()
                    .detail_equals("stockConfirmed", true)
                    .to_value(),
                target: Target::Queue("PaymentQueue".into()),
            },
            RuleDecl {
                id: "PaymentConfirmedToShipping".into(),
                pattern: EventPattern::of::<PaymentConfirmation>().to_value(),
                target: Target::Queue("ShippingQueue".into()),
            },
            RuleDecl {
                id: "StockConfirmationToOrder".into(),
                pattern: EventPattern::of::<StockConfirmation>().to_value(),
                target: Target::Function(Function::OrderEvents),
            },
            RuleDecl {
                id: "PaymentConfirmationToOrder".into(),
                pattern: EventPattern::of::<PaymentConfirmation>().to_value(),
                target: Target::Function(Function::OrderEvents),
            },
            RuleDecl {
                id: "PaymentFailedToOrder".into(),
                pattern: EventPattern::of::<PaymentFailed>().to_value(),
                target: Target::Function(Function::OrderEvents),
            },
            RuleDecl {
                id: "ShipmentCreatedToOrder".into(),
                pattern: EventPattern::of::<ShipmentCreated>().to_value(),
                target: Target::Function(Function::OrderEvents),
            },
        ],
        functions: vec![
            FunctionDecl {
                function: Function::OrderApi,
                env: vec![
                    e(env::ORDERS_TABLE, table(&tables::ORDERS)),
                    e(env::EVENT_BUS_NAME, BusName),
                ],
            },
            FunctionDecl {
                function: Function::OrderEvents,
                env: vec![
                    e(env::ORDERS_TABLE, table(&tables::ORDERS)),
                    e(env::EVENT_BUS_NAME, BusName),
                ],
            },
            FunctionDecl {
                function: Function::Inventory,
                env: vec![
                    e(env::INVENTORY_TABLE, table(&tables::INVENTORY)),
                    e(env::EVENT_BUS_NAME, BusName),
                ],
            },
            FunctionDecl {
                function: Function::InventoryCompensation,
                env: vec![
                    e(env::INVENTORY_TABLE, table(&tables::INVENTORY)),
                    e(env::EVENT_BUS_NAME, BusName),
                ],
            },
            FunctionDecl {
                function: Function::Payment,
                env: vec![
                    e(env::PAYMENTS_TABLE, table(&tables::PAYMENTS)),
                    e(env::EVENT_BUS_NAME, BusName),
                    e(
                        env::CUSTOMER_NOTIFICATION_TOPIC_ARN,
                        TopicArn("CustomerNotificationTopic".into()),
                    ),
                    e(
                        env::PAYMENT_FAILURE_PERCENT,
                        Literal(payment_failure_percent.to_string()),
                    ),
                ],
            },
            FunctionDecl {
                function: Function::Shipping,
                env: vec![
                    e(env::SHIPMENTS_TABLE, table(&tables::SHIPMENTS)),
                    e(env::EVENT_BUS_NAME, BusName),
                ],
            },
            FunctionDecl {
                function: Function::DlqProcessor,
                env: vec![
                    e(env::SHIPMENTS_TABLE, table(&tables::SHIPMENTS)),
                    e(env::REDRIVE_QUEUE_URL, QueueUrl("ShippingQueue".into())),
                    e(env::OPS_ALERT_TOPIC_ARN, TopicArn("OpsAlertTopic".into())),
                    e(env::MAX_REDRIVES, Literal("2".into())),
                ],
            },
        ],
        event_sources: vec![
            EventSource {
                queue: "InventoryQueue".into(),
                function: Function::Inventory,
                batch_size: 5,
            },
            EventSource {
                queue: "CompensationQueue".into(),
                function: Function::InventoryCompensation,
                batch_size: 5,
            },
            EventSource {
                queue: "PaymentQueue".into(),
                function: Function::Payment,
                batch_size: 5,
            },
            EventSource {
                queue: "ShippingQueue".into(),
                function: Function::Shipping,
                batch_size: 5,
            },
            EventSource {
                queue: "ShippingDlq".into(),
                function: Function::DlqProcessor,
                batch_size: 5,
            },
        ],
        subscriptions: vec![
            ("CustomerNotificationTopic".into(), "CustomerInbox".into()),
            ("OpsAlertTopic".into(), "OpsInbox".into()),
        ],
    }
}
