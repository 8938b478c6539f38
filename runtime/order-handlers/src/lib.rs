//! The order platform's Lambda handlers. Each function is a thin binary in `src/bin/` that builds
//! its clients once and hands events to a plain `async fn` of this library; the tests call those
//! functions directly, against a real AWS API emulator (moto's server).
//!
//! | binary | event | module |
//! | --- | --- | --- |
//! | `order_api` | API Gateway proxy request (REST) | [`order::handle_api`] |
//! | `order_events` | EventBridge event (rule target), or an SQS batch of envelopes | [`order::handle_payload`] |
//! | `inventory` | SQS batch of `OrderPlaced` envelopes | [`inventory::handle_reservations`] |
//! | `inventory_compensation` | SQS batch of `PaymentFailed` envelopes | [`inventory::handle_compensations`] |
//! | `payment` | SQS batch of `StockConfirmation` envelopes | [`payment::handle`] |
//! | `shipping` | SQS batch of `PaymentConfirmation` envelopes | [`shipping::handle`] |
//! | `dlq_processor` | SQS batch from the shipping DLQ | [`dlq::handle`] |

pub mod dlq;
pub mod inventory;
pub mod order;
pub mod payment;
pub mod publish;
pub mod shipping;

pub use publish::EventPublisher;
