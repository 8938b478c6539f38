//! API Gateway HTTP API construct: the `$default` stage (auto-deploy, access logs, throttling), routes with
//! Lambda proxy integrations (payload 2.0) and scoped permissions, IAM and JWT authorization, CORS, errors, the
//! rule pack, cfn-lint and checkov.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::apigateway::AccessLogFormat;
use cfnkit::constructs::apigatewayv2::{
    Cors, HttpApi, HttpApiProps, HttpAuthorization, HttpLambdaIntegration,
    HttpLambdaIntegrationProps, RouteOptions,
};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Function, FunctionRef};
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::rules;
use cfnkit::synth::synth;
use cfnkit::{App, Stack};
use constructs_support::*;
use serde_json::{json, Value};

fn create_fn() -> FunctionRef {
    Function::from_arn(
        "CreateOrder",
        "arn:aws:lambda:eu-west-1:111122223333:function:create-order",
    )
    .unwrap()
}

fn api(stack: &Stack, props: HttpApiProps<'_>) -> HttpApi {
    HttpApi::new(&stack.scope(), "Orders", props).unwrap()
}

/// Seed 001's front door: POST /orders to the create function, GET /orders/{id} behind a Cognito JWT
/// authorizer, CORS for the shop's origin, an encrypted access log.
fn example(app: &App) -> HttpApi {
    let s = app.stack("Http");
    let scope = s.scope();
    let key = Key::new(&scope, "LogKey", KeyProps::default()).unwrap();
    let api = HttpApi::new(
        &scope,
        "Orders",
        HttpApiProps {
            description: Some("Order intake".into()),
            cors: Some(Cors {
                allow_methods: vec!["GET".into(), "POST".into()],
                allow_headers: vec!["authorization".into(), "content-type".into()],
                max_age: Some(Duration::from_secs(600)),
                ..Cors::new(["https://shop.example.com"])
            }),
            access_log_encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let users = api
        .add_cognito_authorizer(
            "Users",
            cfnkit::fns::sub(
                "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/eu-west-1_example",
            ),
            ["shop-client-id".into()],
        )
        .unwrap();
    let f = create_fn();
    api.add_route(
        "POST /orders",
        HttpLambdaIntegration::new(&f, Default::default()),
        RouteOptions::default(),
    )
    .unwrap();
    api.add_route(
        "GET /orders/{id}",
        HttpLambdaIntegration::new(
            &f,
            HttpLambdaIntegrationProps {
                timeout: Some(Duration::from_secs(10)),
            },
        ),
        RouteOptions {
            authorization: HttpAuthorization::Jwt(&users),
            authorization_scopes: vec!["orders/read".into()],
            ..Default::default()
        },
    )
    .unwrap();
    api
}

#[test]
fn the_default_stage_auto_deploys_logs_json_and_throttles() {
    let app = App::new();
    let stack = app.stack("Http");
    api(&stack, HttpApiProps::default());
    let t = template(&app, "Http");
    let a = &resource(&t, "Orders")["Properties"];
    assert_eq!(a["ProtocolType"], "HTTP");
    assert_eq!(a["Name"], json!({"Fn::Sub": "${AWS::StackName}-Orders"}));
    assert!(a.get("CorsConfiguration").is_none());
    let stage = &resource(&t, "OrdersDefaultStage")["Properties"];
    assert_eq!(stage["StageName"], "$default");
    assert_eq!(stage["AutoDeploy"], true);
    assert_eq!(
        stage["DefaultRouteSettings"],
        json!({"DetailedMetricsEnabled": true, "ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100.0})
    );
    assert_eq!(
        stage["AccessLogSettings"]["DestinationArn"],
        json!({"Fn::GetAtt": ["OrdersAccessLogs", "Arn"]})
    );
    let format: Value =
        serde_json::from_str(stage["AccessLogSettings"]["Format"].as_str().unwrap()).unwrap();
    assert_eq!(format["requestId"], "$context.requestId");
    assert_eq!(format["routeKey"], "$context.routeKey");
    assert_eq!(
        format["integrationErrorMessage"],
        "$context.integrationErrorMessage"
    );
    assert_eq!(
        resource(&t, "OrdersAccessLogs")["Properties"]["RetentionInDays"],
        365
    );
    // No account-wide CloudWatch role: HTTP API access logs are delivered as CloudWatch vended logs.
    assert!(of_type(&t, "AWS::ApiGateway::Account").is_empty());
}

#[test]
fn a_route_proxies_to_lambda_with_payload_2_and_a_scoped_permission() {
    let app = App::new();
    let stack = app.stack("Http");
    let api = api(&stack, HttpApiProps::default());
    let route = api
        .add_route(
            "post /orders/{id}/lines",
            HttpLambdaIntegration::new(&create_fn(), Default::default()),
            RouteOptions::default(),
        )
        .unwrap();
    assert_eq!(route.route_key(), "POST /orders/{id}/lines");
    let t = template(&app, "Http");
    let i = &resource(&t, "OrdersPOSTOrdersIdLinesIntegration")["Properties"];
    assert_eq!(i["IntegrationType"], "AWS_PROXY");
    assert_eq!(i["PayloadFormatVersion"], "2.0");
    assert_eq!(
        i["IntegrationUri"],
        "arn:aws:lambda:eu-west-1:111122223333:function:create-order"
    );
    let r = &resource(&t, "OrdersPOSTOrdersIdLines")["Properties"];
    assert_eq!(r["RouteKey"], "POST /orders/{id}/lines");
    assert_eq!(r["AuthorizationType"], "AWS_IAM");
    assert_eq!(
        r["Target"],
        json!({"Fn::Join": ["/", ["integrations", {"Ref": "OrdersPOSTOrdersIdLinesIntegration"}]]})
    );
    let p = &resource(&t, "OrdersPOSTOrdersIdLinesPermission")["Properties"];
    assert_eq!(p["Principal"], "apigateway.amazonaws.com");
    assert_eq!(
        p["SourceArn"],
        json!({"Fn::Sub": [
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/orders/*/lines",
            {"Api": {"Ref": "Orders"}}
        ]})
    );
}

#[test]
fn jwt_authorizers_for_cognito_and_cors() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Http");
    let a = &resource(&t, "OrdersUsers")["Properties"];
    assert_eq!(a["AuthorizerType"], "JWT");
    assert_eq!(
        a["IdentitySource"],
        json!(["$request.header.Authorization"])
    );
    assert_eq!(a["JwtConfiguration"]["Audience"], json!(["shop-client-id"]));
    assert_eq!(
        a["JwtConfiguration"]["Issuer"]["Fn::Sub"][0],
        "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${PoolId}"
    );
    let r = &resource(&t, "OrdersGETOrdersId")["Properties"];
    assert_eq!(r["AuthorizationType"], "JWT");
    assert_eq!(r["AuthorizerId"], json!({"Ref": "OrdersUsers"}));
    assert_eq!(r["AuthorizationScopes"], json!(["orders/read"]));
    assert_eq!(
        resource(&t, "OrdersGETOrdersIdIntegration")["Properties"]["TimeoutInMillis"],
        10000
    );
    assert_eq!(
        resource(&t, "Orders")["Properties"]["CorsConfiguration"],
        json!({
            "AllowOrigins": ["https://shop.example.com"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["authorization", "content-type"], "MaxAge": 600
        })
    );
}

#[test]
fn an_open_route_fails_apig4_until_suppressed_with_a_reason() {
    let open = |reason: Option<&str>| {
        let app = App::new();
        let stack = app.stack("Http");
        let api = api(&stack, HttpApiProps::default());
        let r = api
            .add_route(
                "POST /events",
                HttpLambdaIntegration::new(&create_fn(), Default::default()),
                RouteOptions {
                    authorization: HttpAuthorization::None,
                    ..Default::default()
                },
            )
            .unwrap();
        if let Some(reason) = reason {
            r.allow_unauthenticated(reason);
        }
        (rules::check(&synth(&app).unwrap()), template(&app, "Http"))
    };
    let (report, _) = open(None);
    let errors: Vec<_> = report
        .errors()
        .map(|f| (f.rule.id(), f.logical_id.clone()))
        .collect();
    assert_eq!(errors, vec![("APIG4", "OrdersPOSTEvents".to_owned())]);
    let (report, t) = open(Some(
        "public webhook, verified by its HMAC signature in the handler",
    ));
    assert!(!report.has_errors(), "{report}");
    assert_eq!(
        resource(&t, "OrdersPOSTEvents")["Metadata"]["cfnkit"]["suppress"],
        json!([{"id": "APIG4", "reason": "public webhook, verified by its HMAC signature in the handler"}])
    );
}

#[test]
fn outputs_grants_and_metrics() {
    let app = App::new();
    let stack = app.stack("Http");
    let api = api(&stack, HttpApiProps::default());
    let role = Role::new(
        &stack.scope(),
        "Caller",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    api.grant_invoke(&role, "POST", "/orders");
    stack.add_output("Url", cfnkit::Output::new(api.url()));
    api.add_route(
        "$default",
        HttpLambdaIntegration::new(&create_fn(), Default::default()),
        RouteOptions::default(),
    )
    .unwrap();
    let t = template(&app, "Http");
    assert_eq!(
        t["Outputs"]["Url"]["Value"]["Fn::Sub"][0],
        "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
    );
    let stmts = role_statements(&t, "Caller");
    assert!(allows(&stmts, "execute-api:Invoke"));
    assert_eq!(
        stmts[0]["Resource"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/POST/orders"
    );
    assert_eq!(
        resource(&t, "OrdersDefaultRoute")["Properties"]["RouteKey"],
        "$default"
    );
    let m = api.metric_5xx_error();
    assert_eq!((m.namespace(), m.metric_name()), ("AWS/ApiGateway", "5xx"));
    let dims: Vec<&str> = m.dimensions().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(dims, ["ApiId", "Stage"]);
}

#[test]
fn bad_input_is_refused_with_the_value_and_the_fix() {
    let app = App::new();
    let stack = app.stack("Http");
    let api = api(&stack, HttpApiProps::default());
    let f = create_fn();
    let add = |key: &str| {
        api.add_route(
            key,
            HttpLambdaIntegration::new(&f, Default::default()),
            RouteOptions::default(),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        add("/orders"),
        "Http/Orders: a route key is `<METHOD> <path>` (`POST /orders/{id}`) or `$default`: no space between \
         method and path, got \"/orders\""
    );
    assert_eq!(
        add("SEND /orders"),
        "Http/Orders: a route key is `<METHOD> <path>` (`POST /orders/{id}`) or `$default`: the method must be \
         one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY, got \"SEND /orders\""
    );
    assert!(add("GET /files/{key+}/meta")
        .contains("greedy path parameter \"{key+}\" must be the last part"));
    api.add_route(
        "POST /orders",
        HttpLambdaIntegration::new(&f, Default::default()),
        RouteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        add("POST /orders"),
        "Http/Orders: route POST /orders already exists: each route key is routed once"
    );
    let e = api
        .add_route(
            "GET /orders",
            HttpLambdaIntegration::new(
                &f,
                HttpLambdaIntegrationProps {
                    timeout: Some(Duration::from_secs(31)),
                },
            ),
            RouteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Http/Orders: the integration timeout must be from 50 milliseconds to 30 seconds, got 31 seconds"
    );
    assert_eq!(
        api.add_jwt_authorizer("Idp", "http://idp.example.com", ["client".into()])
            .map(|_| ())
            .unwrap_err()
            .to_string(),
        "Http/Orders: a JWT issuer is an https:// URL, got \"http://idp.example.com\""
    );
    let other = app.stack("Other");
    let new = |props: HttpApiProps<'_>| {
        HttpApi::new(&other.scope(), "Bad", props)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        new(HttpApiProps {
            cors: Some(Cors {
                allow_credentials: true,
                ..Cors::new(["*"])
            }),
            ..Default::default()
        }),
        "Other/Bad: cors.allow_credentials cannot be used with the `*` origin in cors.allow_origins (browsers \
         refuse credentials for a wildcard origin): list the origins allowed instead of `*`, or turn \
         allow_credentials off"
    );
    assert_eq!(
        new(HttpApiProps {
            cors: Some(Cors::new(Vec::<String>::new())),
            ..Default::default()
        }),
        "Other/Bad: cors.allow_origins needs at least one origin: list the origins of the web pages that call \
         the API (`https://shop.example.com`), or `*` to let every origin call"
    );
    assert!(new(HttpApiProps {
        access_log_format: AccessLogFormat::Custom("$context.status".into()),
        ..Default::default()
    })
    .contains("must contain $context.requestId"));
}

#[test]
fn the_example_passes_the_rule_pack() {
    let app = App::new();
    example(&app);
    let report = rules::check(&synth(&app).unwrap());
    assert!(report.findings.is_empty(), "{report}");
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Http");
    insta::assert_snapshot!(
        "apigatewayv2_example",
        serde_json::to_string_pretty(&t).unwrap()
    );
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    lint_or_skip(&app);
}

#[test]
fn example_stack_passes_checkov() {
    let app = App::new();
    example(&app);
    checkov_or_skip(&app);
}
