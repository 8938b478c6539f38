//! Creates shipments for paid orders (shipping queue).
use aws_lambda_events::sqs::SqsEvent;
use handler_support::{clients, Error, ProcessEnv};
use lambda_runtime::{service_fn, LambdaEvent};
use order_handlers::shipping;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = shipping::ShippingService::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(shipping::handle(svc, event.payload).await)
    }))
    .await
}
