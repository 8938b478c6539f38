//! `POST /orders`, `GET /orders/{id}` behind API Gateway (REST, proxy integration).
use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use handler_support::{clients, ProcessEnv};
use lambda_runtime::{service_fn, LambdaEvent};
use order_handlers::order;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let svc = order::OrderService::from_env(&clients::sdk_config().await, &ProcessEnv)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            order::handle_api(svc, event.payload).await
        },
    ))
    .await
}
