//! EventBridge rule patterns derived from the event types.
//!
//! ```
//! use contracts::{EventPattern, StockConfirmation};
//! let p = EventPattern::of::<StockConfirmation>().detail_equals("stockConfirmed", true);
//! assert_eq!(
//!     p.to_value(),
//!     serde_json::json!({
//!         "source": ["ecommerce.inventory"],
//!         "detail-type": ["StockConfirmation"],
//!         "detail": {"stockConfirmed": [true]}
//!     })
//! );
//! ```
//!
//! Detail filters name a field by its wire name and are checked against the event's JSON
//! Schema: an unknown field, or a value the field cannot hold, is an error, so renaming a field
//! in the Rust type breaks the rule that filters on it.

use std::fmt;

use serde_json::{json, Map, Value};

use crate::events::DomainEvent;
use crate::validate::{errors_against, schema_of};

/// `{"source": [E::SOURCE], "detail-type": [E::DETAIL_TYPE]}`.
pub fn pattern<E: DomainEvent>() -> Value {
    EventPattern::of::<E>().to_value()
}

/// A rule pattern for one event type, with optional detail filters.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPattern {
    source: &'static str,
    detail_type: &'static str,
    detail: Map<String, Value>,
    schema: Value,
}

/// A detail filter that does not fit the event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The event has no field with this wire name.
    UnknownField {
        detail_type: &'static str,
        field: String,
        known: Vec<String>,
    },
    /// The field exists but cannot hold this value.
    ValueMismatch {
        detail_type: &'static str,
        field: String,
        value: String,
        reason: String,
    },
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::UnknownField {
                detail_type,
                field,
                known,
            } => write!(
                f,
                "event {detail_type} has no field `{field}` (fields: {})",
                known.join(", ")
            ),
            PatternError::ValueMismatch {
                detail_type,
                field,
                value,
                reason,
            } => write!(
                f,
                "field `{field}` of event {detail_type} cannot hold {value}: {reason}"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

impl EventPattern {
    /// Matches every event of type `E`.
    pub fn of<E: DomainEvent>() -> Self {
        EventPattern {
            source: E::SOURCE,
            detail_type: E::DETAIL_TYPE,
            detail: Map::new(),
            schema: schema_of::<E>(),
        }
    }

    pub fn source(&self) -> &'static str {
        self.source
    }

    pub fn detail_type(&self) -> &'static str {
        self.detail_type
    }

    /// Adds `detail.<field> = value`. Panics when the event has no such field or the field
    /// cannot hold `value` (a contract mismatch is a programming error in a stack definition).
    pub fn detail_equals(self, field: &str, value: impl Into<Value>) -> Self {
        self.try_detail_equals(field, value)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Adds `detail.<field> = value`, checked against the event's schema.
    pub fn try_detail_equals(
        self,
        field: &str,
        value: impl Into<Value>,
    ) -> Result<Self, PatternError> {
        self.try_detail_any_of(field, [value.into()])
    }

    /// Adds `detail.<field> in values`, checked against the event's schema.
    pub fn try_detail_any_of(
        mut self,
        field: &str,
        values: impl IntoIterator<Item = Value>,
    ) -> Result<Self, PatternError> {
        let properties = self.schema.get("properties").and_then(Value::as_object);
        let Some(prop) = properties.and_then(|p| p.get(field)) else {
            return Err(PatternError::UnknownField {
                detail_type: self.detail_type,
                field: field.to_string(),
                known: properties
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default(),
            });
        };
        let values: Vec<Value> = values.into_iter().collect();
        for v in &values {
            let errors = errors_against(&self.schema, prop, v, "");
            if let Some(first) = errors.first() {
                return Err(PatternError::ValueMismatch {
                    detail_type: self.detail_type,
                    field: field.to_string(),
                    value: v.to_string(),
                    reason: first.message.clone(),
                });
            }
        }
        self.detail.insert(field.to_string(), Value::Array(values));
        Ok(self)
    }

    /// The pattern as EventBridge takes it (`EventPattern` of `AWS::Events::Rule`).
    pub fn to_value(&self) -> Value {
        let mut p = json!({
            "source": [self.source],
            "detail-type": [self.detail_type],
        });
        if !self.detail.is_empty() {
            p["detail"] = Value::Object(self.detail.clone());
        }
        p
    }
}

impl From<EventPattern> for Value {
    fn from(p: EventPattern) -> Value {
        p.to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{OrderPlaced, PaymentFailed, StockConfirmation};

    #[test]
    fn plain_pattern() {
        assert_eq!(
            pattern::<PaymentFailed>(),
            json!({"source": ["ecommerce.payment"], "detail-type": ["PaymentFailed"]})
        );
    }

    #[test]
    fn detail_filter_by_wire_name() {
        let p = EventPattern::of::<StockConfirmation>().detail_equals("stockConfirmed", true);
        assert_eq!(p.to_value()["detail"], json!({"stockConfirmed": [true]}));
    }

    #[test]
    fn unknown_field_is_rejected() {
        let e = EventPattern::of::<StockConfirmation>()
            .try_detail_equals("stock_confirmed", true)
            .unwrap_err();
        assert!(matches!(e, PatternError::UnknownField { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains("stock_confirmed") && msg.contains("stockConfirmed"),
            "{msg}"
        );
    }

    #[test]
    fn mistyped_value_is_rejected() {
        let e = EventPattern::of::<StockConfirmation>()
            .try_detail_equals("stockConfirmed", "yes")
            .unwrap_err();
        assert!(matches!(e, PatternError::ValueMismatch { .. }), "{e}");
        assert!(EventPattern::of::<OrderPlaced>()
            .try_detail_any_of("customerId", [json!("a"), json!(1)])
            .is_err());
    }

    #[test]
    #[should_panic(expected = "has no field `nope`")]
    fn detail_equals_panics_on_unknown_field() {
        let _ = EventPattern::of::<OrderPlaced>().detail_equals("nope", 1);
    }
}
