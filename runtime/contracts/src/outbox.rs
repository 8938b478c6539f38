//! Seed 000, the transactional outbox: `POST /orders` writes the order and its outbox event in one
//! DynamoDB transaction; a relay, fed by the outbox table's stream, publishes every outbox event
//! to four channels ([`Channel`]) exactly once per event id and then marks it published.
//!
//! The seed keeps the order in DynamoDB and the outbox in PostgreSQL "in a single atomic
//! transaction": no transaction spans two databases (that would take two-phase commit, which
//! neither offers), so here both live in DynamoDB and one `TransactWriteItems` writes both.

use serde::{Deserialize, Serialize};

use crate::events::OrderPlaced;

/// Environment: the orders table (the read model the API writes).
pub const OUTBOX_ORDERS_TABLE: &str = "OUTBOX_ORDERS_TABLE";
/// Environment: the outbox table (stream NEW_IMAGE feeds the relay).
pub const OUTBOX_TABLE: &str = "OUTBOX_TABLE";
/// Environment: the publish ledger, one item per (event id, channel) already published.
pub const PUBLISH_LEDGER_TABLE: &str = "PUBLISH_LEDGER_TABLE";
/// Environment: URL of the FIFO queue that buffers events for downstream services.
pub const OUTBOX_QUEUE_URL: &str = "OUTBOX_QUEUE_URL";
/// Environment: ARN of the FIFO topic that fans events out.
pub const OUTBOX_TOPIC_ARN: &str = "OUTBOX_TOPIC_ARN";
/// Environment: bucket of the e-receipt archive.
pub const RECEIPT_BUCKET: &str = "RECEIPT_BUCKET";
/// Environment: name of the function the relay invokes asynchronously.
pub const RECEIPT_FUNCTION_NAME: &str = "RECEIPT_FUNCTION_NAME";
/// Environment: URL of the relay's retry queue (events whose publication failed).
pub const RETRY_QUEUE_URL: &str = "RETRY_QUEUE_URL";
/// Environment: ARN of the outside provider's credentials (Secrets Manager).
pub const PROVIDER_SECRET_ARN: &str = "PROVIDER_SECRET_ARN";
/// Environment (optional): seconds a relay holds an event before another may take it over
/// (default [`DEFAULT_LEASE_SECONDS`]).
pub const LEASE_SECONDS: &str = "RELAY_LEASE_SECONDS";

/// Longer than the relay's timeout, so a lease only lapses when its holder is gone.
pub const DEFAULT_LEASE_SECONDS: u32 = 60;
/// The retry queue delays a failed event by this long before the relay tries again.
pub const RETRY_DELAY_SECONDS: u32 = 60;

/// `event_type` of the events the API writes.
pub const ORDER_ACCEPTED: &str = "OrderAccepted";

/// One outbox record, as stored (attribute `event`, JSON) and as published on every channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEvent {
    /// Unique per event; the deduplication id on every channel.
    pub event_id: String,
    pub event_type: String,
    /// The order the event is about (FIFO message group: one order's events stay in order).
    pub order_id: String,
    /// RFC 3339 timestamp of the transaction that wrote it.
    pub occurred_at: String,
    pub order: OrderPlaced,
}

/// Where the relay publishes. Every event goes to all four, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    /// The FIFO queue (buffer for downstream services).
    Queue,
    /// The FIFO topic (fan-out).
    Topic,
    /// The e-receipt archive in S3.
    Archive,
    /// The receipt function, invoked asynchronously.
    Function,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Queue,
        Channel::Topic,
        Channel::Archive,
        Channel::Function,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Queue => "QUEUE",
            Channel::Topic => "TOPIC",
            Channel::Archive => "ARCHIVE",
            Channel::Function => "FUNCTION",
        }
    }
}

/// State of an outbox item (attribute `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutboxStatus {
    Pending,
    Published,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "PENDING",
            OutboxStatus::Published => "PUBLISHED",
        }
    }
}

/// Body of a retry queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryRequest {
    pub event_id: String,
}

/// The outside provider's credentials, the secret's JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCredentials {
    pub api_key: String,
}

/// Outbox table: key of an event.
pub fn outbox_key(event_id: &str) -> String {
    format!("OUTBOX#{event_id}")
}

/// Publish ledger: key of an event's publication on one channel.
pub fn ledger_key(event_id: &str, channel: Channel) -> String {
    format!("PUBLISHED#{event_id}#{}", channel.as_str())
}

/// Publish ledger: key of the receipt function's record of having handled an event (the async
/// invocation is at-least-once, so the receiver deduplicates).
pub fn received_key(event_id: &str) -> String {
    format!("RECEIVED#{event_id}")
}

/// Archive key of an event's e-receipt: derived from the event alone, so a second attempt writes
/// the same key (and the conditional put refuses it).
pub fn receipt_key(event: &OutboxEvent) -> String {
    format!("receipts/{}/{}.json", event.order_id, event.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_per_channel() {
        let mut keys: Vec<_> = Channel::ALL.iter().map(|c| ledger_key("e1", *c)).collect();
        keys.push(received_key("e1"));
        keys.push(outbox_key("e1"));
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Channel::ALL.len() + 2);
    }

    #[test]
    fn wire_names() {
        for c in Channel::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
        let creds: ProviderCredentials = serde_json::from_str(r#"{"apiKey": "k"}"#).unwrap();
        assert_eq!(creds.api_key, "k");
    }
}
