//! Seed 001: the orders table's stream (NEW_IMAGE).
use aws_lambda_events::dynamodb::Event;
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, stream, Error, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = stream::StreamOrders::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(stream::handle_stream(svc, event.payload).await)
    }))
    .await
}
