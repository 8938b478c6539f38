//! HTTP APIs served locally: a cfnkit `HttpApi` synthesized in-process, served with a fake `Invoke`, called
//! over real HTTP. Payload 2.0 events, path parameters, unknown routes, IAM and JWT authorization, CORS, the
//! simple response form; and the platform's own order API (Cognito, its model from the contracts).

mod apigw_iam_support;

use std::time::Duration;

use apigw_iam_support::{local_app, send, FakeInvoke, ACCOUNT};
use cfnkit::constructs::apigatewayv2::{
    Cors, HttpApi, HttpApiProps, HttpAuthorization, RouteOptions,
};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::App;
use cfnkit_local::apigw::{serve, ApiKind, LocalIdentity, RunningApi, ServeOptions};
use cfnkit_local::invoke::InvokeError;
use serde_json::{json, Value};

const SHOP: &str = "https://shop.example.com";

/// Seed 001's front door: POST /orders (IAM), GET /orders/{id} behind a JWT authorizer needing `orders/read`,
/// GET /health open, CORS for the shop.
fn app() -> App {
    let app = App::new();
    let s = app.stack("Http");
    let scope = s.scope();
    let f = Function::new(
        &scope,
        "Handler",
        Code::asset("order-api"),
        FunctionProps::default(),
    )
    .unwrap();
    let api = HttpApi::new(
        &scope,
        "Orders",
        HttpApiProps {
            cors: Some(Cors {
                allow_methods: vec!["GET".into(), "POST".into()],
                allow_headers: vec!["authorization".into(), "content-type".into()],
                max_age: Some(Duration::from_secs(600)),
                ..Cors::new([SHOP])
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let users = api
        .add_jwt_authorizer(
            "Users",
            "https://issuer.example.com",
            ["shop-client".into()],
        )
        .unwrap();
    api.add_route("POST /orders", &f, RouteOptions::default())
        .unwrap();
    api.add_route(
        "GET /orders/{id}",
        &f,
        RouteOptions {
            authorization: HttpAuthorization::Jwt(&users),
            authorization_scopes: vec!["orders/read".into()],
            ..Default::default()
        },
    )
    .unwrap();
    api.add_route(
        "GET /health",
        &f,
        RouteOptions {
            authorization: HttpAuthorization::None,
            ..Default::default()
        },
    )
    .unwrap();
    app
}

/// Answers the simple form (a JSON value without statusCode) for /health, the full form otherwise; fails on a
/// body `fail`.
fn invoker() -> std::sync::Arc<FakeInvoke> {
    FakeInvoke::new(|function, event| {
        if event["body"] == "fail" {
            return Err(InvokeError::Function {
                function: function.clone(),
                error_type: "Panic".into(),
                error_message: "boom".into(),
            });
        }
        if event["rawPath"] == "/health" {
            return Ok(json!({"ok": true}));
        }
        Ok(
            json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "cookies": ["s=1; Path=/"],
                  "body": json!({"id": event["pathParameters"]["id"]}).to_string()}),
        )
    })
}

async fn start(identity: Option<LocalIdentity>) -> (Vec<RunningApi>, std::sync::Arc<FakeInvoke>) {
    let fake = invoker();
    let apis = serve(
        &local_app(&app()),
        fake.clone(),
        ServeOptions {
            base_port: 0,
            identity,
        },
    )
    .await
    .unwrap();
    (apis, fake)
}

fn reader() -> LocalIdentity {
    let mut identity = LocalIdentity::new(ACCOUNT);
    identity.scopes = vec!["orders/read".into()];
    identity
}

#[tokio::test]
async fn an_http_api_is_served_at_the_root_of_its_default_stage_with_payload_2_events() {
    let (apis, fake) = start(Some(reader())).await;
    let api = &apis[0];
    assert_eq!(api.kind, ApiKind::Http);
    assert!(
        !api.url.ends_with('/') && api.url.matches('/').count() == 2,
        "no stage in the URL: {}",
        api.url
    );

    let reply = send(
        "GET",
        &format!("{}/orders/o-1?a=1&a=2", api.url),
        &[("cookie", "x=1; y=2"), ("x-multi", "p")],
        "",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json(), json!({"id": "o-1"}));
    assert_eq!(reply.header("set-cookie"), Some("s=1; Path=/"));

    let event = fake.events_of("Handler").pop().unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /orders/{id}");
    assert_eq!(event["rawPath"], "/orders/o-1");
    assert_eq!(event["rawQueryString"], "a=1&a=2");
    assert_eq!(event["queryStringParameters"], json!({"a": "1,2"}));
    assert_eq!(event["pathParameters"], json!({"id": "o-1"}));
    assert_eq!(event["cookies"], json!(["x=1", "y=2"]));
    assert_eq!(event["headers"]["x-multi"], "p");
    let context = &event["requestContext"];
    assert_eq!(context["routeKey"], "GET /orders/{id}");
    assert_eq!(context["stage"], "$default");
    assert_eq!(context["http"]["method"], "GET");
    assert_eq!(context["http"]["path"], "/orders/o-1");
    assert_eq!(
        context["authorizer"]["jwt"]["scopes"],
        json!(["orders/read"])
    );
    assert_eq!(context["authorizer"]["jwt"]["claims"]["sub"], "local-user");
}

#[tokio::test]
async fn an_unknown_route_is_not_found() {
    let (apis, _) = start(None).await;
    let reply = send("GET", &format!("{}/nope", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), json!({"message": "Not Found"}));
    let reply = send("DELETE", &format!("{}/orders/1", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 404);
}

#[tokio::test]
async fn iam_and_jwt_routes_refuse_requests_without_identity_and_check_scopes() {
    let (apis, fake) = start(None).await;
    let url = &apis[0].url;
    let reply = send("POST", &format!("{url}/orders"), &[], "{}").await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json(), json!({"message": "Forbidden"}));
    let reply = send("GET", &format!("{url}/orders/1"), &[], "").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json(), json!({"message": "Unauthorized"}));
    assert!(fake.calls.lock().unwrap().is_empty());

    // An identity without the route's scope is forbidden.
    let (apis, _) = start(Some(LocalIdentity::new(ACCOUNT))).await;
    let reply = send("GET", &format!("{}/orders/1", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 403);
    let reply = send("POST", &format!("{}/orders", apis[0].url), &[], "{}").await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn jwt_tokens_are_checked_for_issuer_audience_and_expiry() {
    use base64::Engine;
    let token = |claims: Value| {
        let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("Bearer {}.{}.sig", b(&json!({"alg": "RS256"})), b(&claims))
    };
    let (apis, fake) = start(None).await;
    let url = format!("{}/orders/1", apis[0].url);
    let claims = json!({"iss": "https://issuer.example.com", "aud": "shop-client", "scope": "orders/read", "sub": "u-9"});
    let reply = send(
        "GET",
        &url,
        &[("authorization", &token(claims.clone()))],
        "",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        fake.events_of("Handler").pop().unwrap()["requestContext"]["authorizer"]["jwt"]["claims"]
            ["sub"],
        "u-9"
    );
    for (field, value) in [
        ("iss", json!("https://evil.example.com")),
        ("aud", json!("other")),
        ("exp", json!(1)),
    ] {
        let mut bad = claims.clone();
        bad[field] = value;
        let reply = send("GET", &url, &[("authorization", &token(bad))], "").await;
        assert_eq!(reply.status, 401, "{field}");
    }
}

#[tokio::test]
async fn cors_preflights_are_answered_from_the_cors_configuration() {
    let (apis, fake) = start(None).await;
    let url = format!("{}/orders/1", apis[0].url);
    let reply = send(
        "OPTIONS",
        &url,
        &[("origin", SHOP), ("access-control-request-method", "GET")],
        "",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("GET,POST")
    );
    assert_eq!(
        reply.header("access-control-allow-headers"),
        Some("authorization,content-type")
    );
    assert_eq!(reply.header("access-control-max-age"), Some("600"));
    assert!(fake.calls.lock().unwrap().is_empty());
    let reply = send(
        "OPTIONS",
        &url,
        &[
            ("origin", "https://evil.example.com"),
            ("access-control-request-method", "GET"),
        ],
        "",
    )
    .await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
    // Answers to the allowed origin carry its CORS headers.
    let reply = send(
        "GET",
        &format!("{}/health", apis[0].url),
        &[("origin", SHOP)],
        "",
    )
    .await;
    assert_eq!(reply.header("access-control-allow-origin"), Some(SHOP));
}

#[tokio::test]
async fn the_simple_response_form_is_a_200_json_body_and_a_failure_a_500() {
    let (apis, _) = start(None).await;
    let reply = send("GET", &format!("{}/health", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.json(), json!({"ok": true}));
    let (apis, _) = start(Some(reader())).await;
    let reply = send("POST", &format!("{}/orders", apis[0].url), &[], "fail").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json(), json!({"message": "Internal Server Error"}));
}

#[tokio::test]
async fn the_platform_order_api_validates_orders_with_the_contracts_model_behind_cognito() {
    let app = local_app(&stacks::app().unwrap());
    let fake = FakeInvoke::new(|_, _| Ok(json!({"statusCode": 202, "body": "{}"})));
    let apis = serve(
        &app,
        fake.clone(),
        ServeOptions {
            base_port: 0,
            identity: Some(LocalIdentity::new(ACCOUNT)),
        },
    )
    .await
    .unwrap();
    let order_api = apis
        .iter()
        .find(|a| a.stack == "Order")
        .expect("the Order stack's REST API is served");
    let url = format!("{}/orders", order_api.url);
    let reply = send(
        "POST",
        &url,
        &[("content-type", "application/json")],
        r#"{"nope": 1}"#,
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json(), json!({"message": "Invalid request body"}));
    assert!(fake.calls.lock().unwrap().is_empty());
    let reply = send("GET", &format!("{url}/o-1"), &[], "").await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let event = fake
        .events_of("OrderApi")
        .pop()
        .expect("the order API function is invoked");
    assert_eq!(event["pathParameters"], json!({"id": "o-1"}));
    assert_eq!(
        event["requestContext"]["authorizer"]["claims"]["sub"],
        "local-user"
    );
}

#[tokio::test]
async fn each_api_serves_its_openapi_document_at_openapi_json() {
    let (apis, fake) = start(None).await;
    let reply = send("GET", &format!("{}/openapi.json", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let document = reply.json();
    // The document synth writes for this API, with this server as its only server.
    let synthesized = cfnkit::openapi::documents(&cfnkit::synth::synth(&app()).unwrap(), &[])
        .pop()
        .unwrap();
    let mut expected = synthesized.document;
    expected["servers"] = json!([{ "url": apis[0].url }]);
    assert_eq!(document, expected);
    assert!(
        document["paths"]["/orders/{id}"]["get"].is_object(),
        "{document}"
    );
    assert!(
        fake.calls.lock().unwrap().is_empty(),
        "no function is invoked"
    );

    // The platform's REST API serves its document outside its stage; its routes stay under the stage.
    let app = local_app(&stacks::app().unwrap());
    let platform = serve(&app, invoker(), ServeOptions::default())
        .await
        .unwrap();
    let order_api = platform.iter().find(|a| a.stack == "Order").unwrap();
    let root = order_api.url.trim_end_matches("/prod");
    let reply = send("GET", &format!("{root}/openapi.json"), &[], "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let document = reply.json();
    assert_eq!(document["servers"][0]["url"], order_api.url.as_str());
    assert!(
        document["paths"]["/orders"]["post"]["requestBody"].is_object(),
        "{document}"
    );
}
