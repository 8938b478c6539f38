//! Seed 000: the receipt function the relay invokes asynchronously.
use contracts::outbox::OutboxEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, receipt, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = receipt::ReceiptService::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<OutboxEvent>| async move {
            receipt::handle(svc, event.payload)
                .await
                .map(|r| format!("{r:?}"))
        },
    ))
    .await
}
