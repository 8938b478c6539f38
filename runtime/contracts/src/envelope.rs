//! The EventBridge envelope: what a rule delivers to an SQS queue target (the message body) or
//! to a Lambda target (the invocation payload).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::DomainEvent;

/// `{"version": "0", "id": ..., "source": ..., "detail-type": ..., "detail": {...}, ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope<D = Value> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub source: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub detail: D,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

/// Why a payload is not the expected event.
#[derive(Debug)]
pub enum EnvelopeError {
    /// Not JSON, or not an envelope, or the detail does not fit the event type.
    Malformed(serde_json::Error),
    /// A well-formed envelope of another event.
    Unexpected { source: String, detail_type: String },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::Malformed(e) => write!(f, "malformed event: {e}"),
            EnvelopeError::Unexpected {
                source,
                detail_type,
            } => {
                write!(f, "unexpected event {detail_type} from {source}")
            }
        }
    }
}

impl std::error::Error for EnvelopeError {}

impl EventEnvelope<Value> {
    /// Parses any envelope, keeping the detail as JSON.
    pub fn parse_raw(json: &str) -> Result<Self, EnvelopeError> {
        serde_json::from_str(json).map_err(EnvelopeError::Malformed)
    }

    /// Whether this envelope carries an `E`.
    pub fn is<E: DomainEvent>(&self) -> bool {
        self.source == E::SOURCE && self.detail_type == E::DETAIL_TYPE
    }

    /// The detail as an `E`, if this envelope carries one.
    pub fn into_event<E: DomainEvent>(self) -> Result<E, EnvelopeError> {
        if !self.is::<E>() {
            return Err(EnvelopeError::Unexpected {
                source: self.source,
                detail_type: self.detail_type,
            });
        }
        serde_json::from_value(self.detail).map_err(EnvelopeError::Malformed)
    }
}

/// Parses an envelope that must carry an `E` (checks source and detail-type).
pub fn parse_event<E: DomainEvent>(json: &str) -> Result<E, EnvelopeError> {
    EventEnvelope::parse_raw(json)?.into_event()
}

/// The envelope EventBridge would deliver for `event` (used by tests and local tooling).
pub fn envelope_for<E: DomainEvent>(event: &E) -> EventEnvelope<Value> {
    EventEnvelope {
        id: None,
        source: E::SOURCE.to_string(),
        detail_type: E::DETAIL_TYPE.to_string(),
        detail: serde_json::to_value(event).expect("events serialize"),
        time: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{PaymentConfirmation, ShipmentCreated};
    use serde_json::json;

    #[test]
    fn parses_what_eventbridge_delivers() {
        let body = json!({
            "version": "0", "id": "abc", "detail-type": "ShipmentCreated",
            "source": "ecommerce.shipping", "account": "123456789012",
            "time": "2025-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"orderId": "o", "shipmentId": "s", "trackingNumber": "t"}
        })
        .to_string();
        let e: ShipmentCreated = parse_event(&body).unwrap();
        assert_eq!(e.shipment_id, "s");
        let wrong = parse_event::<PaymentConfirmation>(&body).unwrap_err();
        assert!(matches!(wrong, EnvelopeError::Unexpected { .. }));
        assert!(matches!(
            parse_event::<ShipmentCreated>("{"),
            Err(EnvelopeError::Malformed(_))
        ));
    }

    #[test]
    fn envelope_round_trip() {
        let e = ShipmentCreated {
            order_id: "o".into(),
            shipment_id: "s".into(),
            tracking_number: "t".into(),
        };
        let text = serde_json::to_string(&envelope_for(&e)).unwrap();
        assert!(text.contains("\"detail-type\":\"ShipmentCreated\""));
        assert_eq!(parse_event::<ShipmentCreated>(&text).unwrap(), e);
    }
}
