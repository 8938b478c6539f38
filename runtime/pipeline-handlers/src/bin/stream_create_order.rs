//! Seed 001: `POST /orders` behind the HTTP API.
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{service_fn, LambdaEvent};
use pipeline_handlers::{clients, stream, ProcessEnv};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = stream::StreamOrders::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            stream::handle_api(svc, event.payload).await
        },
    ))
    .await
}
