//! The Lambda handlers of seed 004. Each function is a thin binary in `src/bin/` that builds its clients once
//! and hands events to a plain `async fn` of this library; the tests call those functions directly, against
//! moto's server.
//!
//! | binary | event | module |
//! | --- | --- | --- |
//! | `analytics` | Kinesis batch of EventBridge envelopes (every domain event) | [`analytics::handle`] |
//! | `notifications` | SQS batch of envelopes (SNS raw delivery) | [`notifications::handle`] |
//! | `invoice` | SQS batch of `PaymentConfirmation` envelopes | [`invoice::handle`] |
//! | `image_resize` | SQS batch of S3 `Object Created` events (EventBridge) | [`images::handle`] |
//!
//! The SDK configuration, the SQS batch helper and the configuration lookup come from `order-handlers`.

pub mod analytics;
pub mod images;
pub mod invoice;
pub mod notifications;

pub use handler_support::{batch, clients, config, util, Error, Lookup, ProcessEnv};
