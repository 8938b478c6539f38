//! Seed 000: `POST /orders` (REST, proxy integration): order and outbox event in one transaction.
use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, outbox, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = outbox::OutboxWriter::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            outbox::handle_api(svc, event.payload).await
        },
    ))
    .await
}
