//! The order state machine: EventBridge events (or SQS batches of them) from the other services.
use handler_support::{clients, ProcessEnv};
use lambda_runtime::{service_fn, LambdaEvent};
use order_handlers::order;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = order::OrderService::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        order::handle_payload(svc, event.payload).await
    }))
    .await
}
