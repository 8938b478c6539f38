//! Seed 001, stream-driven processing: `POST /orders` on an HTTP API stores the order PENDING
//! (body: the platform's [`crate::CreateOrderRequest`]); the table's stream (new images) drives a
//! process function that moves the order to PROCESSED once, however often a record is delivered.

use serde::{Deserialize, Serialize};

/// Environment: name of the stream-driven orders table (partition key
/// [`crate::tables::PARTITION_KEY`], stream view NEW_IMAGE).
pub const STREAM_ORDERS_TABLE: &str = "STREAM_ORDERS_TABLE";

/// The HTTP API's one route.
pub const ROUTE: &str = "POST /orders";

/// State of a stream-driven order (attribute `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamOrderStatus {
    /// Written by the create function; the stream record of this image starts processing.
    Pending,
    /// Processed by the stream consumer (final).
    Processed,
}

impl StreamOrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamOrderStatus::Pending => "PENDING",
            StreamOrderStatus::Processed => "PROCESSED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [StreamOrderStatus::Pending, StreamOrderStatus::Processed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// Body of the 201 answer of `POST /orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamOrderCreated {
    pub order_id: String,
    pub status: StreamOrderStatus,
}

/// Key of an order in the stream orders table (same layout as the seed-003 orders table).
pub fn order_key(order_id: &str) -> String {
    crate::tables::order_key(order_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in [StreamOrderStatus::Pending, StreamOrderStatus::Processed] {
            assert_eq!(StreamOrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
    }
}
