//! Seed 004 analytics: every domain event on the bus flows to a Kinesis stream; the analytics function
//! aggregates it into one table. The stacks build the rule from [`DOMAIN_EVENT_SOURCES`]; the handler reads
//! [`ANALYTICS_TABLE`] and writes the key layout below.
//!
//! Key layout of the analytics table (partition key `pk` only):
//! - `STATUS#<status>`: `count`, how many orders reached that status ([`status_of`]).
//! - `REVENUE#<yyyy-mm-ddThh>`: `revenueCents` and `payments`, confirmed payments in that UTC hour.
//! - `EVENT#<event id>`: a marker written in the same transaction as the counters, so an event delivered
//!   twice (Kinesis retries whole batches) is counted once.

use crate::events::{
    DomainEvent, OrderPlaced, PaymentConfirmation, PaymentFailed, ShipmentCreated,
    StockConfirmation, SOURCE_INVENTORY, SOURCE_ORDERS, SOURCE_PAYMENT, SOURCE_SHIPPING,
};

/// Name of the analytics table.
pub const ANALYTICS_TABLE: &str = "ANALYTICS_TABLE";

/// The partition key attribute of the analytics table.
pub const PK: &str = "pk";

/// The sources of every domain event: the rule that copies events to the stream matches these.
pub const DOMAIN_EVENT_SOURCES: [&str; 4] = [
    SOURCE_ORDERS,
    SOURCE_INVENTORY,
    SOURCE_PAYMENT,
    SOURCE_SHIPPING,
];

/// The order status an event moves its order to, from its detail type and (for stock confirmations) its
/// detail. `None` for an event that does not change an order's status (or an unknown one).
pub fn status_of(detail_type: &str, detail: &serde_json::Value) -> Option<&'static str> {
    match detail_type {
        t if t == OrderPlaced::DETAIL_TYPE => Some("PLACED"),
        t if t == StockConfirmation::DETAIL_TYPE => {
            match detail.get("stockConfirmed").and_then(|v| v.as_bool()) {
                Some(true) => Some("STOCK_RESERVED"),
                Some(false) => Some("REJECTED"),
                None => None,
            }
        }
        t if t == PaymentConfirmation::DETAIL_TYPE => Some("PAID"),
        t if t == PaymentFailed::DETAIL_TYPE => Some("PAYMENT_FAILED"),
        t if t == ShipmentCreated::DETAIL_TYPE => Some("SHIPPED"),
        _ => None,
    }
}

/// The key of a status counter.
pub fn status_key(status: &str) -> String {
    format!("STATUS#{status}")
}

/// The key of an hour's revenue, from an RFC 3339 time (`2026-11-21T19:05:00Z` -> `REVENUE#2026-11-21T19`).
/// `None` when the time is not RFC 3339.
pub fn revenue_key(time: &str) -> Option<String> {
    let hour = time.get(..13)?;
    let b = hour.as_bytes();
    let shape = b.len() == 13
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    shape.then(|| format!("REVENUE#{hour}"))
}

/// The key of an event's seen-marker.
pub fn event_key(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stock_confirmation_status_depends_on_the_detail() {
        let st = StockConfirmation::DETAIL_TYPE;
        assert_eq!(
            status_of(st, &json!({"stockConfirmed": true})),
            Some("STOCK_RESERVED")
        );
        assert_eq!(
            status_of(st, &json!({"stockConfirmed": false})),
            Some("REJECTED")
        );
        assert_eq!(status_of(st, &json!({})), None);
        assert_eq!(status_of("SomethingElse", &json!({})), None);
    }

    #[test]
    fn revenue_is_bucketed_by_utc_hour() {
        assert_eq!(
            revenue_key("2026-11-21T19:05:00Z").as_deref(),
            Some("REVENUE#2026-11-21T19")
        );
        assert_eq!(revenue_key("yesterday"), None);
        assert_eq!(revenue_key("2026-11-21 19:05"), None);
    }
}
