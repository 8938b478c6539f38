//! Seed 004 notifications: order confirmations (a confirmed payment), payment failures and shipments reach
//! the notification function (bus -> SNS -> SQS); it renders an email and an SMS per event and records each
//! as sent in the notifications table, once per event and channel however often the event is delivered.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::events::{DomainEvent, PaymentConfirmation, PaymentFailed, ShipmentCreated};

/// Name of the notifications table.
pub const NOTIFICATIONS_TABLE: &str = "NOTIFICATIONS_TABLE";
/// Name of the SES configuration set sends go through (recorded on each notification).
pub const SES_CONFIGURATION_SET: &str = "SES_CONFIGURATION_SET";

/// The partition key attribute of the notifications table: `<event id>#<channel>`.
pub const PK: &str = "pk";

/// The events customers are notified of, as `(source, detail-type)`: the stacks route exactly these.
pub const NOTIFIED_EVENTS: [(&str, &str); 3] = [
    (
        PaymentConfirmation::SOURCE,
        PaymentConfirmation::DETAIL_TYPE,
    ),
    (PaymentFailed::SOURCE, PaymentFailed::DETAIL_TYPE),
    (ShipmentCreated::SOURCE, ShipmentCreated::DETAIL_TYPE),
];

/// How a notification reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
        }
    }
}

/// One notification as recorded in the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub event_id: String,
    pub order_id: String,
    pub channel: Channel,
    /// Who it is for: the customer id when the event names one, else `order:<order id>` (a shipment event
    /// carries no customer; the sender resolves the order's customer).
    pub recipient: String,
    /// Email subject (absent for SMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub body: String,
}

/// The table key of a notification.
pub fn key(event_id: &str, channel: Channel) -> String {
    format!("{event_id}#{}", channel.as_str())
}
