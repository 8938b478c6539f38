//! API Gateway CORS (REST: preflight OPTIONS methods with MOCK integrations and CORS gateway responses; HTTP:
//! `CorsConfiguration`) and Lambda TOKEN / REQUEST authorizers of REST APIs: the templates, the errors, the rule
//! pack, cfn-lint and checkov.

mod constructs_support;

use std::time::Duration;

use cfnkit::constructs::apigateway::{
    Authorization, Cors, IdentitySource, LambdaIntegration, MethodOptions, RestApi, RestApiProps,
    PREFLIGHT_OPEN_REASON,
};
use cfnkit::constructs::apigatewayv2::{HttpApi, HttpApiProps};
use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::constructs::Construct;
use cfnkit::rules;
use cfnkit::synth::synth;
use cfnkit::{App, Scope};
use constructs_support::*;
use serde_json::{json, Value};

const SHOP: &str = "https://shop.example.com";

/// A function set up the way the platform's are, so that the templates here pass checkov and the rule pack on
/// their own: reserved concurrency, an encrypted log group, and the checks it does not meet skipped with reasons.
fn function(scope: &Scope, id: &str) -> Function {
    let key = Key::new(scope, &format!("{id}LogKey"), KeyProps::default()).unwrap();
    let f = Function::new(
        scope,
        id,
        Code::asset("order-api"),
        FunctionProps {
            reserved_concurrency: Some(5),
            log_encryption_key: Some(&key),
            ..Default::default()
        },
    )
    .unwrap();
    let h = f.handle();
    rules::skip_checkov(
        h,
        "CKV_AWS_117",
        "calls only AWS APIs: no VPC resources to reach",
    );
    rules::skip_checkov(
        h,
        "CKV_AWS_116",
        "invoked synchronously by API Gateway: the caller sees the error",
    );
    rules::suppress(
        f.role().handle(),
        &rules::IAM5,
        "X-Ray's PutTraceSegments and PutTelemetryRecords accept only `*`",
    );
    f
}

/// An order API called from the shop's pages: CORS on every resource, a TOKEN authorizer on GET /orders/{id},
/// a REQUEST authorizer (header and query string) on POST /orders, both backed by one cfnkit Lambda function.
fn example(app: &App) -> RestApi {
    let s = app.stack("Api");
    let scope = s.scope();
    let authorizer_fn = function(&scope, "Authorizer");
    let handler = function(&scope, "Handler");
    let log_key = Key::new(&scope, "ApiLogKey", KeyProps::default()).unwrap();
    let api = RestApi::new(
        &scope,
        "Orders",
        RestApiProps {
            access_log_encryption_key: Some(&log_key),
            default_cors: Some(Cors {
                allow_credentials: true,
                max_age: Some(Duration::from_secs(600)),
                expose_headers: vec!["X-Request-Id".into()],
                ..Cors::new([SHOP])
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let token = api
        .add_token_authorizer("Token", &authorizer_fn, "Authorization", None)
        .unwrap();
    let request = api
        .add_request_authorizer(
            "Request",
            &authorizer_fn,
            &[
                IdentitySource::Header("Authorization".into()),
                IdentitySource::QueryString("tenant".into()),
            ],
            Some(Duration::from_secs(60)),
        )
        .unwrap();
    api.add_method(
        "GET",
        "/orders/{id}",
        LambdaIntegration::new(&handler, Default::default()),
        MethodOptions {
            authorization: Authorization::Authorizer(&token),
            ..Default::default()
        },
    )
    .unwrap();
    api.add_method(
        "POST",
        "/orders",
        LambdaIntegration::new(&handler, Default::default()),
        MethodOptions {
            authorization: Authorization::Authorizer(&request),
            ..Default::default()
        },
    )
    .unwrap();
    api
}

/// An API without CORS in the stack `Api`.
fn plain_api(app: &App) -> (cfnkit::Stack, RestApi) {
    let s = app.stack("Api");
    let api = RestApi::new(&s.scope(), "Orders", RestApiProps::default()).unwrap();
    (s, api)
}

/// The logical IDs of the template's OPTIONS methods, sorted.
fn preflights(t: &Value) -> Vec<String> {
    let mut ids: Vec<String> = of_type(t, "AWS::ApiGateway::Method")
        .into_iter()
        .filter(|id| props(t, id)["HttpMethod"] == "OPTIONS")
        .collect();
    ids.sort();
    ids
}

fn props(t: &Value, id: &str) -> Value {
    resource(t, id)["Properties"].clone()
}

#[test]
fn default_cors_gives_every_resource_a_mock_preflight_with_the_headers() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Api");
    let preflights = preflights(&t);
    // The root and each resource, including /orders made on the way to /orders/{id}.
    assert_eq!(
        preflights,
        [
            "OrdersOPTIONS",
            "OrdersOrdersIdOPTIONS",
            "OrdersOrdersOPTIONS"
        ]
    );
    let m = props(&t, "OrdersOrdersIdOPTIONS");
    assert_eq!(m["AuthorizationType"], "NONE");
    assert_eq!(m["ResourceId"], json!({"Ref": "OrdersOrdersId"}));
    assert_eq!(m["Integration"]["Type"], "MOCK");
    assert_eq!(
        m["Integration"]["RequestTemplates"],
        json!({"application/json": "{ statusCode: 200 }"})
    );
    let h = "method.response.header.";
    assert_eq!(
        m["Integration"]["IntegrationResponses"],
        json!([{
            "StatusCode": "204",
            "ResponseParameters": {
                format!("{h}Access-Control-Allow-Origin"): "'https://shop.example.com'",
                format!("{h}Access-Control-Allow-Credentials"): "'true'",
                format!("{h}Access-Control-Allow-Headers"):
                    "'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token,X-Amz-User-Agent'",
                format!("{h}Access-Control-Allow-Methods"): "'OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD'",
                format!("{h}Access-Control-Expose-Headers"): "'X-Request-Id'",
                format!("{h}Access-Control-Max-Age"): "'600'",
                format!("{h}Vary"): "'Origin'",
            }
        }])
    );
    let declared = &m["MethodResponses"][0];
    assert_eq!(declared["StatusCode"], "204");
    assert_eq!(declared["ResponseParameters"].as_object().unwrap().len(), 7);
    assert!(declared["ResponseParameters"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| v == true));
    // Open on purpose, with the reason where the rule pack and checkov read it.
    assert_eq!(
        resource(&t, "OrdersOrdersIdOPTIONS")["Metadata"]["checkov"]["skip"],
        json!([{"id": "CKV_AWS_59", "comment": PREFLIGHT_OPEN_REASON}])
    );
    // No Lambda permission for a MOCK integration; the deployment waits for every preflight.
    assert!(of_type(&t, "AWS::Lambda::Permission")
        .iter()
        .all(|p| !p.contains("OPTIONS")));
    let deployment = of_type(&t, "AWS::ApiGateway::Deployment").remove(0);
    let depends = &resource(&t, &deployment)["DependsOn"];
    for p in &preflights {
        assert!(
            depends.as_array().unwrap().contains(&json!(p)),
            "{p} not in {depends}"
        );
    }
}

#[test]
fn gateway_responses_carry_the_cors_headers_for_4xx_and_5xx() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Api");
    let mut ids = of_type(&t, "AWS::ApiGateway::GatewayResponse");
    ids.sort();
    assert_eq!(
        ids,
        ["OrdersDefault4XXResponse", "OrdersDefault5XXResponse"]
    );
    for (id, kind) in [
        ("OrdersDefault4XXResponse", "DEFAULT_4XX"),
        ("OrdersDefault5XXResponse", "DEFAULT_5XX"),
    ] {
        let g = props(&t, id);
        assert_eq!(g["ResponseType"], kind);
        assert_eq!(g["RestApiId"], json!({"Ref": "Orders"}));
        assert_eq!(
            g["ResponseParameters"],
            json!({
                "gatewayresponse.header.Access-Control-Allow-Origin": "'https://shop.example.com'",
                "gatewayresponse.header.Access-Control-Allow-Credentials": "'true'",
                "gatewayresponse.header.Access-Control-Expose-Headers": "'X-Request-Id'",
                "gatewayresponse.header.Vary": "'Origin'",
            })
        );
    }
}

#[test]
fn token_and_request_authorizers_are_backed_by_the_function_with_a_scoped_permission() {
    let app = App::new();
    example(&app);
    let t = template(&app, "Api");
    let uri = json!({"Fn::Sub": [
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function}/invocations",
        {"Function": {"Fn::GetAtt": ["Authorizer", "Arn"]}}
    ]});
    let token = props(&t, "OrdersToken");
    assert_eq!(token["Type"], "TOKEN");
    assert_eq!(
        token["IdentitySource"],
        "method.request.header.Authorization"
    );
    assert_eq!(token["AuthorizerResultTtlInSeconds"], 300);
    assert_eq!(token["AuthorizerUri"], uri);
    let request = props(&t, "OrdersRequest");
    assert_eq!(request["Type"], "REQUEST");
    assert_eq!(
        request["IdentitySource"],
        "method.request.header.Authorization,method.request.querystring.tenant"
    );
    assert_eq!(request["AuthorizerResultTtlInSeconds"], 60);
    assert_eq!(request["AuthorizerUri"], uri);
    for (authorizer, permission) in [
        ("OrdersToken", "OrdersTokenPermission"),
        ("OrdersRequest", "OrdersRequestPermission"),
    ] {
        let p = props(&t, permission);
        assert_eq!(p["Principal"], "apigateway.amazonaws.com");
        assert_eq!(p["Action"], "lambda:InvokeFunction");
        assert_eq!(
            p["FunctionName"],
            json!({"Fn::GetAtt": ["Authorizer", "Arn"]})
        );
        assert_eq!(
            p["SourceArn"],
            json!({"Fn::Sub": [
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}",
                {"Api": {"Ref": "Orders"}, "Authorizer": {"Ref": authorizer}}
            ]})
        );
    }
    for (method, authorizer) in [
        ("OrdersOrdersIdGET", "OrdersToken"),
        ("OrdersOrdersPOST", "OrdersRequest"),
    ] {
        let m = props(&t, method);
        assert_eq!(m["AuthorizationType"], "CUSTOM");
        assert_eq!(m["AuthorizerId"], json!({"Ref": authorizer}));
    }
}

#[test]
fn a_request_authorizer_without_caching_needs_no_identity_source() {
    let app = App::new();
    let (s, api) = plain_api(&app);
    let f = function(&s.scope(), "Authorizer");
    api.add_request_authorizer("Open", &f, &[], Some(Duration::ZERO))
        .unwrap();
    let a = props(&template(&app, "Api"), "OrdersOpen");
    assert_eq!(a["AuthorizerResultTtlInSeconds"], 0);
    assert!(a.get("IdentitySource").is_none(), "{a}");
}

#[test]
fn the_example_passes_the_rule_pack_with_the_preflights_suppressed_by_reason() {
    let app = App::new();
    example(&app);
    assert_rules_clean(&app);
    let report = rules::check(&synth(&app).unwrap());
    let mut apig4: Vec<_> = report
        .suppressed()
        .filter(|f| f.rule == &rules::APIG4)
        .map(|f| f.logical_id.clone())
        .collect();
    apig4.sort();
    assert_eq!(
        apig4,
        [
            "OrdersOPTIONS",
            "OrdersOrdersIdOPTIONS",
            "OrdersOrdersOPTIONS"
        ]
    );
}

#[test]
fn an_options_method_made_by_hand_still_fails_apig4() {
    let app = App::new();
    let (s, api) = plain_api(&app);
    let f = function(&s.scope(), "Handler");
    api.add_method(
        "OPTIONS",
        "/orders",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions {
            authorization: Authorization::None,
            ..Default::default()
        },
    )
    .unwrap();
    let report = rules::check(&synth(&app).unwrap());
    let errors: Vec<_> = report
        .errors()
        .map(|f| (f.rule.id(), f.logical_id.clone(), f.to_string()))
        .collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0].0, "APIG4");
    assert_eq!(errors[0].1, "OrdersOrdersOPTIONS");
    assert!(
        errors[0].2.contains("add_cors_preflight"),
        "{}",
        errors[0].2
    );
}

#[test]
fn cors_on_one_resource_with_several_origins_answers_the_callers_origin() {
    let app = App::new();
    let (s, api) = plain_api(&app);
    let f = function(&s.scope(), "Handler");
    api.add_method(
        "GET",
        "/orders",
        LambdaIntegration::new(&f, Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    let orders = api.resource_for_path("/orders").unwrap();
    let m = orders
        .add_cors_preflight(Cors {
            allow_methods: vec!["GET".into()],
            allow_headers: vec!["Content-Type".into()],
            ..Cors::new([SHOP, "http://localhost:3000"])
        })
        .unwrap();
    assert_eq!(m.http_method(), "OPTIONS");
    assert_eq!(m.resource_path(), "/orders");
    let t = template(&app, "Api");
    // Only the resource asked for: the root has no preflight.
    assert_eq!(preflights(&t), ["OrdersOrdersOPTIONS"]);
    let response = &props(&t, "OrdersOrdersOPTIONS")["Integration"]["IntegrationResponses"][0];
    assert_eq!(
        response["ResponseParameters"]["method.response.header.Access-Control-Allow-Methods"],
        "'GET'"
    );
    let template_text = response["ResponseTemplates"]["application/json"]
        .as_str()
        .unwrap();
    assert!(
        template_text.contains(
            "#if($origin == \"https://shop.example.com\" || $origin == \"http://localhost:3000\")"
        ),
        "{template_text}"
    );
    assert!(template_text
        .contains("#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)"));
    // Gateway responses cannot choose per request: the first origin.
    assert_eq!(
        props(&t, "OrdersDefault4XXResponse")["ResponseParameters"]
            ["gatewayresponse.header.Access-Control-Allow-Origin"],
        "'https://shop.example.com'"
    );
    lint_or_skip(&app);
    assert_rules_clean(&app);
}

#[test]
fn cors_errors_name_the_value_and_the_fix() {
    let app = App::new();
    let s = app.stack("Api");
    let err = |id: &str, cors: Cors| {
        RestApi::new(
            &s.scope(),
            id,
            RestApiProps {
                default_cors: Some(cors),
                ..Default::default()
            },
        )
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        err(
            "Wild",
            Cors {
                allow_credentials: true,
                ..Cors::new(["*"])
            }
        ),
        "Api/Wild: cors.allow_credentials cannot be used with the `*` origin in cors.allow_origins (browsers \
         refuse credentials for a wildcard origin): list the origins allowed instead of `*`, or turn \
         allow_credentials off"
    );
    assert_eq!(
        err("Empty", Cors::new(Vec::<String>::new())),
        "Api/Empty: cors.allow_origins needs at least one origin: list the origins of the web pages that call \
         the API (`https://shop.example.com`), or `*` to let every origin call"
    );

    // One preflight per resource, and gateway responses are API-wide.
    let api = RestApi::new(
        &s.scope(),
        "Orders",
        RestApiProps {
            default_cors: Some(Cors::new([SHOP])),
            ..Default::default()
        },
    )
    .unwrap();
    let e = api
        .root()
        .add_cors_preflight(Cors::new([SHOP]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Api/Orders: / already has an OPTIONS method"),
        "{e}"
    );
    let plain = RestApi::new(&s.scope(), "Plain", RestApiProps::default()).unwrap();
    plain
        .resource_for_path("/x")
        .unwrap()
        .add_cors_preflight(Cors::new([SHOP]))
        .unwrap();
    let e = plain
        .resource_for_path("/y")
        .unwrap()
        .add_cors_preflight(Cors::new(["https://admin.example.com"]))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Api/Plain: the API's gateway responses already carry the CORS headers"),
        "{e}"
    );
    assert!(e.contains("'https://admin.example.com'"), "{e}");
    assert!(
        e.contains("give every resource the same allow_origins"),
        "{e}"
    );
}

#[test]
fn authorizer_errors_name_the_value_and_the_fix() {
    let app = App::new();
    let (s, api) = plain_api(&app);
    let f = function(&s.scope(), "Authorizer");
    let e = api
        .add_request_authorizer("Req", &f, &[], None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Api/Orders: request authorizer Req caches results for 5 minutes but has no identity_sources: API \
         Gateway keys the cache on them, so give at least one (IdentitySource::Header(\"Authorization\".into())) \
         or set results_cache_ttl to Some(Duration::ZERO)"
    );
    let e = api
        .add_request_authorizer(
            "Req",
            &f,
            &[IdentitySource::QueryString("ten ant".into())],
            None,
        )
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Api/Orders: identity_sources of Req: QueryString(\"ten ant\") must name a query string parameter of \
         letters, digits and `-_.` (`token`), got \"ten ant\""
    );
    let e = api
        .add_token_authorizer("Tok", &f, "Auth header", None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Api/Orders: identity_header: Header(\"Auth header\") must name a header"),
        "{e}"
    );
    let e = api
        .add_token_authorizer("Tok", &f, "Authorization", Some(Duration::from_secs(7_200)))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Api/Orders: results_cache_ttl must be a whole number of seconds between 0 seconds and 1 hour, got 2 hours"
    );
    api.add_token_authorizer("Tok", &f, "Authorization", None)
        .unwrap();
    let e = api
        .add_request_authorizer(
            "Tok",
            &f,
            &[IdentitySource::Header("Authorization".into())],
            None,
        )
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Api/Orders: an authorizer Tok already exists: give the second one another id"
    );
}

#[test]
fn the_example_passes_cfn_lint() {
    let app = App::new();
    example(&app);
    lint_or_skip(&app);
}

#[test]
fn the_example_passes_checkov() {
    let app = App::new();
    example(&app);
    checkov_or_skip(&app);
}

/// A small API with CORS and a TOKEN authorizer, whole.
#[test]
fn cors_and_token_authorizer_snapshot() {
    let app = App::new();
    let s = app.stack("Small");
    let scope = s.scope();
    let auth = function(&scope, "Authorizer");
    let api = RestApi::new(
        &scope,
        "Api",
        RestApiProps {
            default_cors: Some(Cors::new([SHOP])),
            ..Default::default()
        },
    )
    .unwrap();
    let token = api
        .add_token_authorizer("Token", &auth, "Authorization", None)
        .unwrap();
    api.add_method(
        "GET",
        "/orders",
        LambdaIntegration::new(&auth, Default::default()),
        MethodOptions {
            authorization: Authorization::Authorizer(&token),
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Small");
    insta::assert_snapshot!(
        "apigateway_cors_token_authorizer",
        serde_json::to_string_pretty(&t).unwrap()
    );
}

#[test]
fn http_api_cors_configuration_from_the_shared_options() {
    let app = App::new();
    let s = app.stack("Http");
    HttpApi::new(
        &s.scope(),
        "Orders",
        HttpApiProps {
            cors: Some(Cors {
                expose_headers: vec!["X-Request-Id".into()],
                allow_credentials: true,
                max_age: Some(Duration::from_secs(3_600)),
                ..Cors::new([SHOP])
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let t = template(&app, "Http");
    assert_eq!(
        props(&t, "Orders")["CorsConfiguration"],
        json!({
            "AllowOrigins": [SHOP],
            "AllowMethods": ["OPTIONS", "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"],
            "AllowHeaders": [
                "Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key", "X-Amz-Security-Token",
                "X-Amz-User-Agent"
            ],
            "ExposeHeaders": ["X-Request-Id"],
            "AllowCredentials": true,
            "MaxAge": 3600
        })
    );
    lint_or_skip(&app);
    let e = HttpApi::new(
        &s.scope(),
        "Bad",
        HttpApiProps {
            cors: Some(Cors::new(["https://shop.example.com/app"])),
            ..Default::default()
        },
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(
            "Http/Bad: cors.allow_origins: \"https://shop.example.com/app\" is not an origin"
        ),
        "{e}"
    );
}
