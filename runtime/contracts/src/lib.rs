//! The order platform's shared contracts: one Rust type per domain event and per API payload,
//! the names of the environment variables handlers read, the DynamoDB key layout, and helpers
//! that derive EventBridge rule patterns and API Gateway request models from those types.
//!
//! The stacks (infrastructure) and the handlers (runtime) both depend on this crate, so a
//! renamed field or event changes both sides at once, or fails to compile / fails a check.
//! Deliberately light: serde, serde_json and schemars only (no AWS SDK, no async runtime).

pub mod analytics;
pub mod api;
pub mod env;
pub mod envelope;
pub mod events;
pub mod ingest;
pub mod jobs;
pub mod notifications;
pub mod outbox;
pub mod pattern;
pub mod stream_orders;
pub mod tables;
pub mod validate;

pub use api::{
    CreateOrderRequest, CreateOrderResponse, ErrorBody, FieldError, OrderLineRequest, OrderStatus,
    OrderView,
};
pub use envelope::{envelope_for, parse_event, EnvelopeError, EventEnvelope};
pub use events::{
    DomainEvent, OrderLine, OrderPlaced, PaymentConfirmation, PaymentFailed, ShipmentCreated,
    StockConfirmation,
};
pub use pattern::{pattern, EventPattern, PatternError};
