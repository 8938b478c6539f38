//! Order: the orders table (point-in-time recovery, encrypted with the platform key, retained), the REST API
//! (`POST /orders`, its body validated by API Gateway against the JSON Schema of `contracts::CreateOrderRequest`,
//! and `GET /orders/{id}`, both proxied to the order API function), and the order events function that moves an
//! order through its states on the other services' events (rules on the platform bus targeting the function,
//! with a dead-letter queue for events that fail every attempt, and an alarm to the ops topic on it).
//!
//! The order API function is deployed gradually (seed 004's blue-green): its triggers invoke the `live` alias, and
//! CodeDeploy shifts that alias to a new version as a 10% canary for 5 minutes, rolling back on its error alarm.
//!
//! The API's methods are authorized by the production Cognito user pool (seed 004's users, `ProdIdentity`):
//! a signed-in customer calls them with their ID token in `Authorization`; the stage sits behind the prod WAF
//! web ACL (see `lib.rs`).

use std::collections::BTreeMap;

use cfnkit::constructs::apigateway::{
    Authorization, CloudWatchRole, LambdaIntegration, LambdaIntegrationProps, MethodOptions,
    RestApi, RestApiProps,
};
use cfnkit::constructs::cloudwatch::{Alarm, AlarmProps};
use cfnkit::constructs::codedeploy::{
    DeployGraduallyProps, GradualDeployment, LambdaDeploymentConfig,
};
use cfnkit::constructs::dynamodb::Table;
use cfnkit::constructs::events::{Target, TargetProps};
use cfnkit::constructs::lambda::Function;
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::ConstructError;
use cfnkit::{App, Output, Val};
use contracts::env::{self, Handler};
use contracts::{
    tables, validate, CreateOrderRequest, EventPattern, PaymentConfirmation, PaymentFailed,
    ShipmentCreated, StockConfirmation,
};

use crate::service;
use crate::Base;

/// What the Order stack makes (the REST API in front of `api_function`).
pub struct Order {
    pub table: Table,
    pub api: RestApi,
    /// Invoked through its `live` alias, which CodeDeploy shifts to new versions ([`Order::api_deployment`]).
    pub api_function: Function,
    pub api_deployment: GradualDeployment,
    pub events_function: Function,
}

/// `user_pool_arn`: the Cognito user pool whose signed-in users may call the API.
pub fn stack(app: &App, base: &Base, user_pool_arn: &Val<String>) -> Result<Order, ConstructError> {
    let stack = app.stack("Order");
    stack.set_description("Order platform: orders table, order API and order state machine");
    let scope = stack.scope();
    let table = service::table(&scope, &tables::ORDERS, base)?;
    let environment = || {
        BTreeMap::from([
            (env::ORDERS_TABLE, table.table_name()),
            (env::EVENT_BUS_NAME, base.bus.event_bus_name()),
        ])
    };

    let mut api_function = service::function(
        &scope,
        "OrderApi",
        Handler::OrderApi,
        base,
        environment(),
        None,
    )?;
    // Seed 004's blue-green: a new order API version takes 10% of the requests for 5 minutes first, and a failed
    // request in that time (the error alarm) rolls the alias back and fails the stack update. Before the API's
    // integrations, so that they invoke the alias.
    let api_errors = Alarm::new(
        &scope,
        "OrderApiErrors",
        &api_function.metric_errors(),
        1.0,
        AlarmProps {
            description: Some(
                "The order API function failed: a deployment in progress rolls back; otherwise read its logs."
                    .to_owned(),
            ),
            ..Default::default()
        },
    )?;
    api_errors.add_alarm_action(&base.ops_topic)?;
    let api_deployment = api_function.deploy_gradually(DeployGraduallyProps {
        config: LambdaDeploymentConfig::CANARY_10_PERCENT_5_MINUTES,
        alarms: vec![&api_errors],
        ..Default::default()
    })?;

    // The events function is invoked asynchronously by its rules: an event that fails Lambda's three attempts,
    // or that EventBridge cannot deliver, is kept here instead of being dropped.
    let events_dlq = Queue::new(
        &scope,
        "OrderEventsDlq",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            retention_period: Some(std::time::Duration::from_secs(14 * 86_400)),
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )?;
    let events_function = service::function(
        &scope,
        "OrderEvents",
        Handler::OrderEvents,
        base,
        environment(),
        Some(&events_dlq),
    )?;
    let api = RestApi::new(
        &scope,
        "OrderApiGateway",
        RestApiProps {
            description: Some("Order platform: place orders and read their state".to_owned()),
            access_log_encryption_key: Some(&base.key),
            cloud_watch_role: CloudWatchRole::Use(&base.api_gateway_account),
            ..Default::default()
        },
    )?;
    // The model is the schema the handler validates with too (contracts::validate), so the gateway and the
    // function agree on what a valid order is.
    let model = api.add_model_schema(
        "CreateOrderRequest",
        validate::api_gateway_model_schema::<CreateOrderRequest>(),
    )?;
    let users = api.add_cognito_authorizer("Users", [user_pool_arn.clone()])?;
    let integration = || {
        LambdaIntegration::new(
            &api_function,
            LambdaIntegrationProps {
                timeout: Some(service::FUNCTION_TIMEOUT),
            },
        )
    };
    api.add_method(
        "POST",
        "/orders",
        integration(),
        MethodOptions {
            authorization: Authorization::Authorizer(&users),
            request_model: Some(&model),
            ..Default::default()
        },
    )?;
    api.add_method(
        "GET",
        "/orders/{id}",
        integration(),
        MethodOptions {
            authorization: Authorization::Authorizer(&users),
            ..Default::default()
        },
    )?;
    stack.add_output("OrderApiUrl", Output::new(api.url()));

    for f in [&api_function, &events_function] {
        table.grant_read_write_data(f);
        base.bus.grant_put_events(f);
    }

    let target = || {
        Target::lambda(
            &events_function,
            TargetProps {
                dead_letter_queue: Some(&events_dlq),
                ..Default::default()
            },
        )
    };
    service::rule(
        &scope,
        "StockConfirmationToOrder",
        base,
        EventPattern::of::<StockConfirmation>(),
        target(),
    )?;
    service::rule(
        &scope,
        "PaymentConfirmationToOrder",
        base,
        EventPattern::of::<PaymentConfirmation>(),
        target(),
    )?;
    service::rule(
        &scope,
        "PaymentFailedToOrder",
        base,
        EventPattern::of::<PaymentFailed>(),
        target(),
    )?;
    service::rule(
        &scope,
        "ShipmentCreatedToOrder",
        base,
        EventPattern::of::<ShipmentCreated>(),
        target(),
    )?;
    service::dead_letter_alarm(
        &scope,
        "OrderEventsDlqAlarm",
        &events_dlq,
        base,
        "the order events function (events it failed three times, or that EventBridge could not deliver)",
    )?;
    Ok(Order {
        table,
        api,
        api_function,
        api_deployment,
        events_function,
    })
}
