//! Seed 002, the raw-event bronze layer: an ingest API accepts any JSON event that names its
//! `eventType`, keeps the raw payload in S3 under [`bronze_key`], records the event's metadata in
//! DynamoDB and queues it; a worker marks it processed.
//!
//! Both the ingest stack (bucket prefixes, lifecycle rules, environment) and the handlers
//! (`runtime/pipeline-handlers`) read these definitions.

use serde::{Deserialize, Serialize};

/// Environment: name of the event metadata table (partition key [`crate::tables::PARTITION_KEY`]).
pub const EVENTS_TABLE: &str = "INGEST_EVENTS_TABLE";
/// Environment: name of the bronze bucket.
pub const BRONZE_BUCKET: &str = "BRONZE_BUCKET";
/// Environment: URL of the ingest queue the worker consumes.
pub const INGEST_QUEUE_URL: &str = "INGEST_QUEUE_URL";

/// Prefix of every raw payload; the bucket's lifecycle rules apply to it.
pub const BRONZE_PREFIX: &str = "bronze/";
/// Prefix reserved for the curated silver layer (not written yet: seed 002 plans it).
pub const SILVER_PREFIX: &str = "silver/";
/// Raw payloads move to infrequent access after this many days (they are kept for replay and
/// audit, rarely read once the silver layer has them).
pub const BRONZE_INFREQUENT_ACCESS_AFTER_DAYS: u32 = 30;
/// ... and to Glacier Instant Retrieval after this many days.
pub const BRONZE_GLACIER_AFTER_DAYS: u32 = 90;

/// Longest accepted `eventType` (it is a path segment of the bronze key).
pub const MAX_EVENT_TYPE_LEN: usize = 64;
/// Largest accepted payload: SQS's message limit is 256 KiB, and the queue carries metadata only,
/// but a raw event that large belongs in a batch upload rather than this API.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Lifecycle state of an ingested event, stored as `status` in the events table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventStatus {
    /// Stored in bronze and queued.
    Enqueued,
    /// The worker has handled it (final).
    Processed,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Enqueued => "ENQUEUED",
            EventStatus::Processed => "PROCESSED",
        }
    }
}

/// Body of the 202 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestAccepted {
    /// Always `"accepted"`.
    pub status: String,
    pub event_id: String,
}

/// Body of an ingest queue message: where the raw payload is, not the payload itself (the
/// bronze object is the one copy of record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestMessage {
    pub event_id: String,
    pub event_type: String,
    pub bucket: String,
    pub key: String,
    /// RFC 3339 timestamp of acceptance.
    pub received_at: String,
}

/// Events table: key of an event's metadata item.
pub fn event_key(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}

/// `bronze/<eventType>/<YYYY-MM-DD>/<eventId>.json`.
pub fn bronze_key(event_type: &str, date: &str, event_id: &str) -> String {
    format!("{BRONZE_PREFIX}{event_type}/{date}/{event_id}.json")
}

/// Checks an `eventType` before it becomes a key segment: 1 to 64 letters, digits, `.`, `_`, `-`.
pub fn validate_event_type(event_type: &str) -> Result<(), String> {
    let ok_chars = event_type
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if event_type.is_empty()
        || event_type.len() > MAX_EVENT_TYPE_LEN
        || !ok_chars
        || event_type.starts_with('.')
    {
        return Err(format!(
            "eventType must be 1 to {MAX_EVENT_TYPE_LEN} letters, digits, '.', '_' or '-' \
             (not starting with '.'), got {event_type:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bronze_keys_and_event_types() {
        assert_eq!(
            bronze_key("demo", "2026-11-21", "e1"),
            "bronze/demo/2026-11-21/e1.json"
        );
        assert!(validate_event_type("order.created_v2-x").is_ok());
        for bad in ["", "a/b", "..", ".x", "with space", &"x".repeat(65)] {
            let err = validate_event_type(bad).unwrap_err();
            assert!(err.contains("eventType"), "{err}");
        }
    }

    #[test]
    fn wire_names() {
        let m = IngestAccepted {
            status: "accepted".into(),
            event_id: "e1".into(),
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"status": "accepted", "eventId": "e1"})
        );
        assert_eq!(
            serde_json::to_value(EventStatus::Enqueued).unwrap(),
            serde_json::json!(EventStatus::Enqueued.as_str())
        );
    }
}
