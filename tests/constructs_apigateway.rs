//! API Gateway REST API construct: defaults (validation, logs, tracing, throttling), models from Rust types,
//! scoped permissions, authorizers, the deployment hash, errors, the rule pack, cfn-lint and checkov.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::apigateway::{
    AccessLogFormat, ApiGatewayAccount, Authorization, CloudWatchRole, LambdaIntegration,
    LambdaIntegrationProps, MethodOptions, RestApi, RestApiProps, StageCache, DRAFT_04,
};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Function, FunctionRef};
use cfnkit::constructs::Construct;
use cfnkit::constructs::{Principal, Role, RoleProps};
use cfnkit::rules;
use cfnkit::synth::synth;
use cfnkit::{App, Stack};
use constructs_support::*;
use serde_json::{json, Value};

/// The body of `POST /orders` in the example: its JSON Schema becomes the request model.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CreateOrder {
    #[schemars(length(min = 1, max = 64))]
    customer_id: String,
    #[schemars(length(min = 1, max = 50))]
    lines: Vec<OrderLine>,
}

#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct OrderLine {
    product_id: String,
    #[schemars(range(min = 1, max = 1000))]
    quantity: u32,
}

fn handler() -> FunctionRef {
    Function::from_arn(
        "OrderApi",
        "arn:aws:lambda:eu-west-1:111122223333:function:order-api",
    )
    .unwrap()
}

fn api(stack: &Stack, props: RestApiProps<'_>) -> RestApi {
    RestApi::new(&stack.scope(), "Orders", props).unwrap()
}

/// The order API as the platform builds it: a function behind POST /orders (validated against the model of a
/// Rust type) and GET /orders/{id}, a Cognito authorizer, an encrypted access log.
fn example(app: &App) -> RestApi {
    let s = app.stack("Api");
    let scope = s.scope();
    let key = Key::new(&scope, "LogKey", KeyProps::default()).unwrap();
    // The handler is made in another stack (the order service's): the API only needs its ARN.
    let f = handler();
    let api = RestApi::new(
        &scope,
        "Orders",
        RestApiProps {
            description: Some("Order API".into()),
            access_log_encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let users = api
        .add_cognito_authorizer(
            "Users",
            [cfnkit::fns::sub(
                "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/eu-west-1_example",
            )],
        )
        .unwrap();
    let model = api.add_model::<CreateOrder>().unwrap();
    api.add_method(
        "POST",
        "/orders",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions {
            authorization: Authorization::Authorizer(&users),
            request_model: Some(&model),
            operation_name: Some("CreateOrder".into()),
            ..Default::default()
        },
    )
    .unwrap();
    api.add_method(
        "GET",
        "/orders/{id}",
        LambdaIntegration::new(
            &f,
            LambdaIntegrationProps {
                timeout: Some(Duration::from_secs(10)),
            },
        ),
        MethodOptions::default(),
    )
    .unwrap();
    api
}

fn deployment_id(t: &Value) -> String {
    let ids = of_type(t, "AWS::ApiGateway::Deployment");
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}

#[test]
fn defaults_log_trace_throttle_and_validate() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    api.add_method(
        "GET",
        "/orders",
        LambdaIntegration::new(&handler(), Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    let t = template(&app, "Api");
    let rest = &resource(&t, "Orders")["Properties"];
    assert_eq!(rest["Name"], json!({"Fn::Sub": "${AWS::StackName}-Orders"}));
    assert_eq!(
        rest["EndpointConfiguration"],
        json!({"Types": ["REGIONAL"]})
    );

    let stage = resource(&t, "OrdersStage");
    let p = &stage["Properties"];
    assert_eq!(p["StageName"], "prod");
    assert_eq!(p["TracingEnabled"], true);
    assert_eq!(p["DeploymentId"], json!({"Ref": deployment_id(&t)}));
    assert_eq!(
        p["MethodSettings"],
        json!([{
            "HttpMethod": "*", "ResourcePath": "/*", "LoggingLevel": "INFO", "MetricsEnabled": true,
            "DataTraceEnabled": false, "ThrottlingRateLimit": 100.0, "ThrottlingBurstLimit": 200
        }])
    );
    assert_eq!(
        p["AccessLogSetting"]["DestinationArn"],
        json!({"Fn::GetAtt": ["OrdersAccessLogs", "Arn"]})
    );
    let format: Value =
        serde_json::from_str(p["AccessLogSetting"]["Format"].as_str().unwrap()).unwrap();
    assert_eq!(format["requestId"], "$context.requestId");
    assert_eq!(format["status"], "$context.status");
    assert_eq!(format["xrayTraceId"], "$context.xrayTraceId");
    assert!(p.get("CacheClusterEnabled").is_none());
    assert_eq!(stage["Metadata"]["checkov"]["skip"][0]["id"], "CKV_AWS_120");
    assert_eq!(
        resource(&t, "OrdersAccessLogs")["Properties"]["RetentionInDays"],
        365
    );
    // The account's CloudWatch role is made, and the stage waits for it.
    assert_eq!(stage["DependsOn"], json!(["OrdersCloudWatchAccount"]));
    assert_eq!(
        resource(&t, "OrdersCloudWatchAccount")["Properties"]["CloudWatchRoleArn"],
        json!({"Fn::GetAtt": ["OrdersCloudWatchAccountRole", "Arn"]})
    );
    let role = &resource(&t, "OrdersCloudWatchAccountRole");
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
    assert_eq!(role["DeletionPolicy"], "Retain");

    let validator = &resource(&t, "OrdersValidator")["Properties"];
    assert_eq!(validator["ValidateRequestBody"], true);
    assert_eq!(validator["ValidateRequestParameters"], true);
    let method = &resource(&t, "OrdersOrdersGET")["Properties"];
    assert_eq!(
        method["RequestValidatorId"],
        json!({"Ref": "OrdersValidator"})
    );
    assert_eq!(method["AuthorizationType"], "AWS_IAM");
    assert_eq!(method["Integration"]["Type"], "AWS_PROXY");
    assert_eq!(method["Integration"]["IntegrationHttpMethod"], "POST");
    assert_eq!(method["ResourceId"], json!({"Ref": "OrdersOrders"}));
}

#[test]
fn the_model_is_draft_04_from_the_rust_type_and_validates_the_body() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    let model = api.add_model::<CreateOrder>().unwrap();
    assert_eq!(model.name(), "CreateOrder");
    api.add_method(
        "POST",
        "/orders",
        LambdaIntegration::new(&handler(), Default::default()),
        MethodOptions {
            request_model: Some(&model),
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Api");
    let m = &resource(&t, "OrdersCreateOrderModel")["Properties"];
    assert_eq!(m["Name"], "CreateOrder");
    assert_eq!(m["ContentType"], "application/json");
    let schema = &m["Schema"];
    assert_eq!(schema["$schema"], DRAFT_04);
    assert_eq!(schema["required"], json!(["customerId", "lines"]));
    assert_eq!(schema["properties"]["lines"]["maxItems"], 50);
    // The line type is inlined (no `$ref`, no definitions) and its u32 format is gone.
    assert_eq!(
        schema["properties"]["lines"]["items"]["properties"]["quantity"],
        json!({"type": "integer", "minimum": 1, "maximum": 1000})
    );
    assert!(!schema.to_string().contains("$ref"));
    assert_eq!(
        resource(&t, "OrdersOrdersPOST")["Properties"]["RequestModels"],
        json!({"application/json": {"Ref": "OrdersCreateOrderModel"}})
    );
}

#[test]
fn a_json_schema_value_is_converted_to_draft_04() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    let m = api
        .add_model_schema(
            "Ping",
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                   "properties": {"kind": {"const": "ping"}}}),
        )
        .unwrap();
    assert_eq!(
        m.schema(),
        &json!({"$schema": DRAFT_04, "type": "object", "properties": {"kind": {"enum": ["ping"]}}})
    );
}

#[test]
fn permissions_are_scoped_to_the_method_and_path_and_path_parameters_are_required() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    let f = handler();
    api.add_method(
        "POST",
        "/orders",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    api.add_method(
        "GET",
        "/orders/{id}",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    let t = template(&app, "Api");
    let post = &resource(&t, "OrdersOrdersPOSTPermission")["Properties"];
    assert_eq!(post["Principal"], "apigateway.amazonaws.com");
    assert_eq!(post["Action"], "lambda:InvokeFunction");
    assert_eq!(
        post["FunctionName"],
        "arn:aws:lambda:eu-west-1:111122223333:function:order-api"
    );
    assert_eq!(
        post["SourceArn"],
        json!({"Fn::Sub": [
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/prod/POST/orders",
            {"Api": {"Ref": "Orders"}}
        ]})
    );
    let get = &resource(&t, "OrdersOrdersIdGETPermission")["Properties"];
    assert_eq!(
        get["SourceArn"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/prod/GET/orders/*"
    );
    let method = &resource(&t, "OrdersOrdersIdGET")["Properties"];
    assert_eq!(
        method["RequestParameters"],
        json!({"method.request.path.id": true})
    );
    assert_eq!(method["ResourceId"], json!({"Ref": "OrdersOrdersId"}));
    let res = &resource(&t, "OrdersOrdersId")["Properties"];
    assert_eq!(res["PathPart"], "{id}");
    assert_eq!(res["ParentId"], json!({"Ref": "OrdersOrders"}));
    assert_eq!(
        resource(&t, "OrdersOrders")["Properties"]["ParentId"],
        json!({"Fn::GetAtt": ["Orders", "RootResourceId"]})
    );
}

#[test]
fn the_deployment_is_renamed_when_the_api_changes_and_waits_for_its_methods() {
    let build = |extra: bool| {
        let app = App::new();
        let stack = app.stack("Api");
        let api = api(&stack, RestApiProps::default());
        api.add_method(
            "GET",
            "/orders",
            LambdaIntegration::new(&handler(), Default::default()),
            MethodOptions::default(),
        )
        .unwrap();
        if extra {
            api.add_method(
                "DELETE",
                "/orders",
                LambdaIntegration::new(&handler(), Default::default()),
                MethodOptions::default(),
            )
            .unwrap();
        }
        template(&app, "Api")
    };
    let one = build(false);
    let again = build(false);
    let two = build(true);
    let id = deployment_id(&one);
    assert!(
        id.starts_with("OrdersDeployment") && id.len() == "OrdersDeployment".len() + 16,
        "{id}"
    );
    assert_eq!(id, deployment_id(&again), "the hash is deterministic");
    assert_ne!(
        id,
        deployment_id(&two),
        "a new method makes a new deployment"
    );
    assert_eq!(
        resource(&two, &deployment_id(&two))["DependsOn"],
        json!(["OrdersOrdersDELETE", "OrdersOrdersGET"])
    );
}

#[test]
fn authorizers_cognito_with_scopes_and_lambda_token() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    let pool = stack.add_raw("Pool", cfnkit::RawResource::new("AWS::Cognito::UserPool"));
    let users = api
        .add_cognito_authorizer("Users", [pool.get_att::<String>("Arn")])
        .unwrap();
    let auth_fn = Function::from_arn(
        "Auth",
        "arn:aws:lambda:eu-west-1:111122223333:function:auth",
    )
    .unwrap();
    let token = api
        .add_token_authorizer("Token", &auth_fn, "Authorization", None)
        .unwrap();
    api.add_method(
        "GET",
        "/me",
        LambdaIntegration::new(&handler(), Default::default()),
        MethodOptions {
            authorization: Authorization::Authorizer(&users),
            authorization_scopes: vec!["orders/read".into()],
            ..Default::default()
        },
    )
    .unwrap();
    api.add_method(
        "GET",
        "/admin",
        LambdaIntegration::new(&handler(), Default::default()),
        MethodOptions {
            authorization: Authorization::Authorizer(&token),
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Api");
    let a = &resource(&t, "OrdersUsers")["Properties"];
    assert_eq!(a["Type"], "COGNITO_USER_POOLS");
    assert_eq!(a["ProviderARNs"], json!([{"Fn::GetAtt": ["Pool", "Arn"]}]));
    assert_eq!(a["IdentitySource"], "method.request.header.Authorization");
    let me = &resource(&t, "OrdersMeGET")["Properties"];
    assert_eq!(me["AuthorizationType"], "COGNITO_USER_POOLS");
    assert_eq!(me["AuthorizerId"], json!({"Ref": "OrdersUsers"}));
    assert_eq!(me["AuthorizationScopes"], json!(["orders/read"]));
    let tk = &resource(&t, "OrdersToken")["Properties"];
    assert_eq!(tk["Type"], "TOKEN");
    assert_eq!(tk["AuthorizerResultTtlInSeconds"], 300);
    assert_eq!(
        resource(&t, "OrdersAdminGET")["Properties"]["AuthorizationType"],
        "CUSTOM"
    );
    assert_eq!(
        resource(&t, "OrdersTokenPermission")["Properties"]["SourceArn"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}"
    );
}

#[test]
fn an_open_method_fails_apig4_until_suppressed_with_a_reason() {
    let open = |reason: Option<&str>| {
        let app = App::new();
        let stack = app.stack("Api");
        let api = api(&stack, RestApiProps::default());
        let m = api
            .add_method(
                "GET",
                "/health",
                LambdaIntegration::new(&handler(), Default::default()),
                MethodOptions {
                    authorization: Authorization::None,
                    ..Default::default()
                },
            )
            .unwrap();
        if let Some(r) = reason {
            m.allow_unauthenticated(r);
        }
        let report = rules::check(&synth(&app).unwrap());
        (report, template(&app, "Api"))
    };
    let (report, _) = open(None);
    let errors: Vec<_> = report
        .errors()
        .map(|f| (f.rule.id(), f.logical_id.clone()))
        .collect();
    assert_eq!(errors, vec![("APIG4", "OrdersHealthGET".to_owned())]);

    let (report, t) = open(Some("load balancer health checks carry no credentials"));
    assert!(!report.has_errors(), "{report}");
    let suppressed: Vec<_> = report.suppressed().map(|f| f.rule.id()).collect();
    assert!(suppressed.contains(&"APIG4"), "{report}");
    assert_eq!(
        resource(&t, "OrdersHealthGET")["Metadata"]["checkov"]["skip"],
        json!([{"id": "CKV_AWS_59", "comment": "load balancer health checks carry no credentials"}])
    );
}

#[test]
fn outputs_url_execute_api_arns_stage_arn_and_metrics() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(
        &stack,
        RestApiProps {
            stage_name: Some("v1".into()),
            ..Default::default()
        },
    );
    let s = &stack;
    s.add_output("Url", cfnkit::Output::new(api.url()));
    s.add_output(
        "Arn",
        cfnkit::Output::new(api.arn_for_execute_api("ANY", "/orders/{id}")),
    );
    s.add_output(
        "StageArn",
        cfnkit::Output::new(api.deployment_stage().stage_arn()),
    );
    api.add_method(
        "GET",
        "/",
        LambdaIntegration::new(&handler(), Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    let t = template(&app, "Api");
    assert_eq!(
        t["Outputs"]["Url"]["Value"],
        json!({"Fn::Sub": ["https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/",
                           {"Api": {"Ref": "Orders"}, "Stage": {"Ref": "OrdersStage"}}]})
    );
    assert_eq!(
        t["Outputs"]["Arn"]["Value"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/v1/*/orders/*"
    );
    assert_eq!(
        t["Outputs"]["StageArn"]["Value"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}"
    );
    // The root method's permission names the root path.
    assert_eq!(
        resource(&t, "OrdersGETPermission")["Properties"]["SourceArn"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/v1/GET/"
    );
    let m = api.metric_5xx_error();
    assert_eq!(
        (m.namespace(), m.metric_name()),
        ("AWS/ApiGateway", "5XXError")
    );
    let dims: Vec<&str> = m.dimensions().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(dims, ["ApiName", "Stage"]);
    assert_eq!(api.metric_latency().metric_name(), "Latency");
    assert_eq!(api.metric_count().metric_name(), "Count");
}

#[test]
fn grant_invoke_allows_execute_api_on_the_method() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    let role = Role::new(
        &stack.scope(),
        "Caller",
        Principal::service("lambda.amazonaws.com"),
        RoleProps::default(),
    )
    .unwrap();
    api.grant_invoke(&role, "GET", "/orders/{id}");
    let t = template(&app, "Api");
    let stmts = role_statements(&t, "Caller");
    assert!(allows(&stmts, "execute-api:Invoke"));
    assert_eq!(
        stmts[0]["Resource"]["Fn::Sub"][0],
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/prod/GET/orders/*"
    );
}

#[test]
fn a_shared_account_or_a_configured_one_makes_no_role_and_caching_is_encrypted() {
    let app = App::new();
    let s = app.stack("Api");
    let account = ApiGatewayAccount::new(&s.scope(), "ApiGatewayAccount").unwrap();
    RestApi::new(
        &s.scope(),
        "A",
        RestApiProps {
            cloud_watch_role: CloudWatchRole::Use(&account),
            cache: Some(StageCache {
                size_gb: 0.5,
                ttl: Duration::from_secs(60),
            }),
            ..Default::default()
        },
    )
    .unwrap();
    RestApi::new(
        &s.scope(),
        "B",
        RestApiProps {
            cloud_watch_role: CloudWatchRole::AccountConfigured,
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Api");
    assert_eq!(
        of_type(&t, "AWS::ApiGateway::Account"),
        ["ApiGatewayAccount"]
    );
    assert_eq!(
        resource(&t, "AStage")["DependsOn"],
        json!(["ApiGatewayAccount"])
    );
    assert!(resource(&t, "BStage").get("DependsOn").is_none());
    let a = &resource(&t, "AStage")["Properties"];
    assert_eq!(a["CacheClusterEnabled"], true);
    assert_eq!(a["CacheClusterSize"], "0.5");
    assert_eq!(a["MethodSettings"][0]["CachingEnabled"], true);
    assert_eq!(a["MethodSettings"][0]["CacheDataEncrypted"], true);
    assert_eq!(a["MethodSettings"][0]["CacheTtlInSeconds"], 60);
    assert!(resource(&t, "AStage").get("Metadata").is_none());
}

#[test]
fn bad_input_is_refused_with_the_value_and_the_fix() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    let f = handler();
    let add = |m: &str, p: &str| {
        api.add_method(
            m,
            p,
            LambdaIntegration::new(&f, Default::default()),
            MethodOptions::default(),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        add("GET", "orders"),
        "Api/Orders: a resource path starts with `/` and has no empty part (`/orders/{id}`), got \"orders\""
    );
    assert_eq!(
        add("GET", "/orders/{id"),
        "Api/Orders: path part \"{id\" must be letters, digits, `.`, `_`, `-` or a parameter `{name}` in path \
         \"/orders/{id\""
    );
    assert_eq!(
        add("FETCH", "/orders"),
        "Api/Orders: http_method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY, got \"FETCH\""
    );
    api.add_method(
        "POST",
        "/orders",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    assert_eq!(
        add("post", "/orders"),
        "Api/Orders: method POST /orders already exists: each resource has one method per HTTP method"
    );
    api.add_method(
        "GET",
        "/orders/{id}",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    assert_eq!(
        add("GET", "/orders/{orderId}"),
        "Api/Orders: /orders/{orderId} and /orders/{id} are both path parameters under /orders: API Gateway \
         allows one, so use the same parameter name"
    );
    assert_eq!(
        add("GET", "/files/{path+}/meta"),
        "Api/Orders: greedy path parameter \"{path+}\" must be the last part in path \"/files/{path+}/meta\""
    );
    let model = api
        .add_model_schema("Order", json!({"type": "object"}))
        .unwrap();
    assert_eq!(
        api.add_model_schema("Order", json!({"type": "object"}))
            .unwrap_err()
            .to_string(),
        "Api/Orders: a model named Order already exists: give the second one another name"
    );
    assert_eq!(
        api.add_model_schema("order-v2", json!({})).unwrap_err().to_string(),
        "Api/Orders: a model name must be letters and digits (API Gateway's rule), got \"order-v2\""
    );
    let e = api
        .add_method(
            "GET",
            "/list",
            LambdaIntegration::new(&f, Default::default()),
            MethodOptions {
                request_model: Some(&model),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Api/Orders: GET /list has no body to validate: drop request_model"
    );
    let e = api
        .add_method(
            "PUT",
            "/list",
            LambdaIntegration::new(
                &f,
                LambdaIntegrationProps {
                    timeout: Some(Duration::from_secs(30)),
                },
            ),
            MethodOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Api/Orders: the integration timeout must be from 50 milliseconds to 29 seconds, got 30 seconds"
    );
    let e = api
        .add_method(
            "PUT",
            "/list",
            LambdaIntegration::new(&f, Default::default()),
            MethodOptions {
                authorization_scopes: vec!["orders/write".into()],
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("authorization_scopes of PUT /list need a Cognito authorizer"),
        "{e}"
    );

    let s = app.stack("Other");
    let new = |props: RestApiProps<'_>| {
        RestApi::new(&s.scope(), "Bad", props)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        new(RestApiProps {
            stage_name: Some("prod stage".into()),
            ..Default::default()
        }),
        "Other/Bad: stage_name must be 1 to 128 letters, digits, `-` or `_`, got \"prod stage\""
    );
    assert_eq!(
        new(RestApiProps {
            access_log_format: AccessLogFormat::Custom("$context.status".into()),
            ..Default::default()
        }),
        "Other/Bad: the access log format must contain $context.requestId (API Gateway requires it), got \
         \"$context.status\""
    );
    assert_eq!(
        new(RestApiProps {
            cache: Some(StageCache {
                size_gb: 2.0,
                ttl: Duration::from_secs(60)
            }),
            ..Default::default()
        }),
        "Other/Bad: cache.size_gb must be one of 0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237 GB, got 2"
    );
    assert!(new(RestApiProps {
        throttling: cfnkit::constructs::apigateway::Throttling {
            rate_limit: 0.0,
            burst_limit: 10
        },
        ..Default::default()
    })
    .contains("got rate_limit 0 and burst_limit 10"));
}

#[test]
fn the_example_passes_the_rule_pack() {
    let app = App::new();
    example(&app);
    let report = rules::check(&synth(&app).unwrap());
    assert!(!report.has_errors(), "{report}");
    // The one suppression is the CloudWatch role's log-group wildcard, with its reason.
    let suppressed: Vec<_> = report
        .suppressed()
        .map(|f| (f.rule.id(), f.logical_id.as_str()))
        .collect();
    assert_eq!(suppressed, [("IAM5", "OrdersCloudWatchAccountRole")]);
}

#[test]
fn example_stack_snapshot() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Api");
    insta::assert_snapshot!(
        "apigateway_example",
        serde_json::to_string_pretty(&t).unwrap()
    );
}

#[test]
fn example_stack_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    // The functions are imported by literal `arn:aws:` ARNs, whose hardcoded partition cfn-lint's I3042 flags
    // in the integration URIs: the test's input, not the construct's output.
    lint_ignoring_or_skip(&app, &["I3042"]);
}

#[test]
fn example_stack_passes_checkov() {
    let app = App::new();
    example(&app);
    checkov_or_skip(&app);
}

#[test]
fn a_web_acl_is_associated_with_the_stage() {
    let app = App::new();
    let stack = app.stack("Api");
    let api = api(&stack, RestApiProps::default());
    api.add_method(
        "GET",
        "/orders",
        LambdaIntegration::new(&handler(), Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    let acl = stack.add_raw(
        "Acl",
        cfnkit::RawResource::new("AWS::WAFv2::WebACL")
            .prop("Scope", "REGIONAL")
            .prop("DefaultAction", json!({"Allow": {}}))
            .prop(
                "VisibilityConfig",
                json!({"CloudWatchMetricsEnabled": true, "MetricName": "orders", "SampledRequestsEnabled": true}),
            )
            .prop("Rules", json!([])),
    );
    api.deployment_stage()
        .associate_web_acl(acl.get_att::<String>("Arn"));
    let t = template(&app, "Api");
    let a = &resource(&t, "OrdersWebAcl")["Properties"];
    assert_eq!(a["WebACLArn"], json!({"Fn::GetAtt": ["Acl", "Arn"]}));
    assert_eq!(
        a["ResourceArn"],
        json!({"Fn::Sub": [
            "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}",
            {"Api": {"Ref": "Orders"}, "Stage": {"Ref": "OrdersStage"}}
        ]})
    );
    // The functions are imported by literal `arn:aws:` ARNs, whose hardcoded partition cfn-lint's I3042 flags
    // in the integration URIs: the test's input, not the construct's output.
    lint_ignoring_or_skip(&app, &["I3042"]);
}

#[test]
fn a_changed_model_or_an_escape_hatch_change_with_redeploy_makes_a_new_deployment() {
    let build = |max_len: u32, hatch: bool| {
        let app = App::new();
        let stack = app.stack("Api");
        let api = api(&stack, RestApiProps::default());
        let model = api
            .add_model_schema(
                "Order",
                json!({"type": "object", "properties": {"id": {"type": "string", "maxLength": max_len}}}),
            )
            .unwrap();
        let m = api
            .add_method(
                "POST",
                "/orders",
                LambdaIntegration::new(&handler(), Default::default()),
                MethodOptions {
                    request_model: Some(&model),
                    ..Default::default()
                },
            )
            .unwrap();
        if hatch {
            m.resource_mut().api_key_required = Some(true.into());
            api.redeploy();
        }
        deployment_id(&template(&app, "Api"))
    };
    let base = build(64, false);
    assert_ne!(base, build(32, false), "a stricter model is deployed");
    assert_ne!(
        base,
        build(64, true),
        "redeploy() sees escape-hatch changes"
    );
    assert_eq!(base, build(64, false));
}

#[test]
fn required_parameters_without_the_request_validator_are_an_error_not_a_silent_no_op() {
    let app = App::new();
    let s = app.stack("Api");
    let api = api(&s, RestApiProps::default());
    let e = api
        .add_method(
            "GET",
            "/orders",
            LambdaIntegration::new(&handler(), Default::default()),
            MethodOptions {
                required_query_strings: vec!["status".to_owned()],
                validate_request: false,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Api/Orders: GET /orders sets required_query_strings but MethodOptions::validate_request is off, so nothing \
         would check them: turn validate_request on (the default) or drop them"
    );
}
