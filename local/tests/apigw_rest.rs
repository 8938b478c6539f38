//! REST APIs served locally: a cfnkit `RestApi` synthesized in-process, served on a free port with a fake
//! `Invoke`, called over real HTTP. Payload 1.0 events, path parameters, model validation, unknown routes, IAM
//! without identity, Lambda TOKEN and REQUEST authorizers, Cognito with the local identity, CORS preflights.

mod apigw_iam_support;

use std::time::Duration;

use apigw_iam_support::{local_app, send, FakeInvoke, ACCOUNT, REGION};
use cfnkit::constructs::apigateway::{
    Authorization, Cors, IdentitySource, LambdaIntegration, MethodOptions, RestApi, RestApiProps,
};
use cfnkit::constructs::lambda::{Code, Function, FunctionProps};
use cfnkit::App;
use cfnkit_local::apigw::{serve, ApiKind, ApigwError, LocalIdentity, RunningApi, ServeOptions};
use cfnkit_local::invoke::InvokeError;
use serde_json::{json, Value};

const SHOP: &str = "https://shop.example.com";

/// An order API: GET /orders/{id} behind a TOKEN authorizer, POST /orders (IAM) validated against a model,
/// DELETE /orders/{id} behind a REQUEST authorizer with a required `reason` query string, GET /me behind a
/// Cognito user pool, GET /files/{proxy+} open; CORS preflights for the shop.
fn app() -> App {
    let app = App::new();
    let s = app.stack("Api");
    let scope = s.scope();
    let f = |id: &str| {
        Function::new(
            &scope,
            id,
            Code::asset("order-api"),
            FunctionProps::default(),
        )
        .unwrap()
    };
    let (authorizer_fn, handler) = (f("Authorizer"), f("Handler"));
    let api = RestApi::new(
        &scope,
        "Orders",
        RestApiProps {
            default_cors: Some(Cors {
                max_age: Some(Duration::from_secs(600)),
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
    let users = api
        .add_cognito_authorizer(
            "Users",
            [format!("arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_pool").into()],
        )
        .unwrap();
    let model = api
        .add_model_schema(
            "CreateOrder",
            json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "minItems": 1}}}),
        )
        .unwrap();
    let integration = || LambdaIntegration::new(&handler, Default::default());
    let with = |authorization| MethodOptions {
        authorization,
        ..Default::default()
    };
    api.add_method(
        "GET",
        "/orders/{id}",
        integration(),
        with(Authorization::Authorizer(&token)),
    )
    .unwrap();
    api.add_method(
        "POST",
        "/orders",
        integration(),
        MethodOptions {
            request_model: Some(&model),
            ..Default::default()
        },
    )
    .unwrap();
    api.add_method(
        "DELETE",
        "/orders/{id}",
        integration(),
        MethodOptions {
            authorization: Authorization::Authorizer(&request),
            required_query_strings: vec!["reason".into()],
            ..Default::default()
        },
    )
    .unwrap();
    api.add_method(
        "GET",
        "/me",
        integration(),
        with(Authorization::Authorizer(&users)),
    )
    .unwrap();
    api.add_method(
        "GET",
        "/files/{proxy+}",
        integration(),
        with(Authorization::None),
    )
    .unwrap();
    app
}

/// The authorizer allows the token `allow`, denies `deny`, and says Unauthorized to anything else; the handler
/// echoes its event's path parameters; a token `fail` makes the handler fail.
fn invoker() -> std::sync::Arc<FakeInvoke> {
    FakeInvoke::new(|function, event| {
        if function.logical_id == "Authorizer" {
            let token = event["authorizationToken"]
                .as_str()
                .or_else(|| event["headers"]["authorization"].as_str())
                .unwrap_or_default();
            let effect = match token {
                "allow" | "fail" => "Allow",
                "deny" => "Deny",
                _ => {
                    return Err(InvokeError::Function {
                        function: function.clone(),
                        error_type: "Error".into(),
                        error_message: "Unauthorized".into(),
                    })
                }
            };
            return Ok(json!({
                "principalId": "user-7",
                "policyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]
                }]},
                "context": {"tenant": "acme", "tier": 2}
            }));
        }
        if event["headers"]["authorization"] == "fail" {
            return Err(InvokeError::Function {
                function: function.clone(),
                error_type: "Panic".into(),
                error_message: "boom".into(),
            });
        }
        Ok(json!({
            "statusCode": 201,
            "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"x-seen": ["a", "b"]},
            "body": json!({"params": event["pathParameters"]}).to_string()
        }))
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

#[tokio::test]
async fn a_rest_api_is_served_under_its_stage_with_payload_1_events() {
    let (apis, fake) = start(None).await;
    assert_eq!(apis.len(), 1);
    let api = &apis[0];
    assert_eq!(
        (api.stack.as_str(), api.logical_id.as_str(), api.kind),
        ("Api", "Orders", ApiKind::Rest)
    );
    assert!(
        api.url.starts_with("http://127.0.0.1:") && api.url.ends_with("/prod"),
        "{}",
        api.url
    );
    assert_eq!(
        api.to_string(),
        format!("Api/Orders (REST API) {}", api.url)
    );

    let reply = send(
        "GET",
        &format!("{}/orders/o%201?expand=lines&expand=payments", api.url),
        &[("authorization", "allow")],
        "",
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json(), json!({"params": {"id": "o 1"}}));
    let seen: Vec<&str> = reply
        .headers
        .get_all("x-seen")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(seen, ["a", "b"]);

    let event = fake.events_of("Handler").pop().unwrap();
    assert_eq!(event["resource"], "/orders/{id}");
    assert_eq!(event["path"], "/orders/o%201");
    assert_eq!(event["httpMethod"], "GET");
    assert_eq!(event["pathParameters"], json!({"id": "o 1"}));
    assert_eq!(
        event["queryStringParameters"],
        json!({"expand": "payments"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({"expand": ["lines", "payments"]})
    );
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "prod");
    assert_eq!(context["resourcePath"], "/orders/{id}");
    assert_eq!(context["path"], "/prod/orders/o%201");
    assert_eq!(context["accountId"], ACCOUNT);
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    // The TOKEN authorizer's principal and context, flat as REST APIs put them.
    assert_eq!(context["authorizer"]["principalId"], "user-7");
    assert_eq!(context["authorizer"]["tenant"], "acme");
    assert_eq!(context["authorizer"]["tier"], 2);
    let method_arn = fake.events_of("Authorizer")[0]["methodArn"].clone();
    assert_eq!(
        method_arn,
        format!(
            "arn:aws:execute-api:{REGION}:{ACCOUNT}:{}/prod/GET/orders/o%201",
            context["apiId"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn unknown_routes_and_paths_outside_the_stage_are_missing_authentication_tokens() {
    let (apis, _) = start(None).await;
    let url = &apis[0].url;
    for path in [
        format!("{url}/nope"),
        format!("{url}/orders/1/lines"),
        url.trim_end_matches("/prod").to_owned() + "/orders/1",
    ] {
        let reply = send("GET", &path, &[], "").await;
        assert_eq!(reply.status, 403, "{path}");
        assert_eq!(
            reply.json(),
            json!({"message": "Missing Authentication Token"})
        );
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("MissingAuthenticationTokenException")
        );
        // The API's DEFAULT_4XX gateway response adds its CORS headers.
        assert_eq!(reply.header("access-control-allow-origin"), Some(SHOP));
    }
    // A resource without the method is unknown too.
    let reply = send("PUT", &format!("{url}/orders"), &[], "").await;
    assert_eq!(reply.status, 403);
}

#[tokio::test]
async fn iam_methods_refuse_requests_without_credentials_unless_a_local_identity_is_set() {
    let body = r#"{"items": [{"sku": "a"}]}"#;
    let (apis, _) = start(None).await;
    let reply = send(
        "POST",
        &format!("{}/orders", apis[0].url),
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json(),
        json!({"message": "Missing Authentication Token"})
    );
    // A SigV4-signed request passes (signatures are not verified locally).
    let signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=x";
    let reply = send(
        "POST",
        &format!("{}/orders", apis[0].url),
        &[("authorization", signed)],
        body,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);

    let (apis, fake) = start(Some(LocalIdentity::new(ACCOUNT))).await;
    let reply = send("POST", &format!("{}/orders", apis[0].url), &[], body).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let event = fake.events_of("Handler").pop().unwrap();
    assert_eq!(
        event["requestContext"]["identity"]["userArn"],
        format!("arn:aws:iam::{ACCOUNT}:user/local")
    );
    assert_eq!(event["body"], body);
}

#[tokio::test]
async fn the_body_is_validated_against_the_methods_model_as_api_gateway_does() {
    let (apis, fake) = start(Some(LocalIdentity::new(ACCOUNT))).await;
    let url = format!("{}/orders", apis[0].url);
    for bad in [r#"{"items": []}"#, r#"{"lines": [1]}"#, "not json", ""] {
        let reply = send("POST", &url, &[("content-type", "application/json")], bad).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert_eq!(reply.json(), json!({"message": "Invalid request body"}));
        assert_eq!(
            reply.header("x-amzn-errortype"),
            Some("BadRequestException")
        );
    }
    assert!(
        fake.events_of("Handler").is_empty(),
        "an invalid request never reaches the function"
    );
}

#[tokio::test]
async fn required_query_strings_are_checked_after_the_request_authorizer() {
    let (apis, fake) = start(None).await;
    let url = &apis[0].url;
    // Without the authorizer's identity sources: 401 before any invocation.
    let reply = send(
        "DELETE",
        &format!("{url}/orders/1?reason=dup"),
        &[("authorization", "allow")],
        "",
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json(), json!({"message": "Unauthorized"}));
    assert!(fake.events_of("Authorizer").is_empty());

    let reply = send(
        "DELETE",
        &format!("{url}/orders/1?tenant=acme"),
        &[("authorization", "allow")],
        "",
    )
    .await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!({"message": "Missing required request parameters: [reason]"})
    );
    // A blank parameter is a missing one.
    let reply = send(
        "DELETE",
        &format!("{url}/orders/1?tenant=acme&reason="),
        &[("authorization", "allow")],
        "",
    )
    .await;
    assert_eq!(reply.status, 400);
    let event = fake.events_of("Authorizer").pop().unwrap();
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["queryStringParameters"], json!({"tenant": "acme"}));

    let reply = send(
        "DELETE",
        &format!("{url}/orders/1?tenant=acme&reason=dup"),
        &[("authorization", "allow")],
        "",
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    // The answer was cached for the authorizer's 60 s: one invocation for the two allowed requests.
    assert_eq!(fake.events_of("Authorizer").len(), 1);
}

#[tokio::test]
async fn lambda_authorizers_deny_and_refuse_as_api_gateway_does() {
    let (apis, fake) = start(None).await;
    let url = format!("{}/orders/1", apis[0].url);
    let reply = send("GET", &url, &[("authorization", "deny")], "").await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json(),
        json!({"Message": "User is not authorized to access this resource with an explicit deny"})
    );
    let reply = send("GET", &url, &[("authorization", "who")], "").await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.json(), json!({"message": "Unauthorized"}));
    let reply = send("GET", &url, &[], "").await;
    assert_eq!(
        reply.status, 401,
        "no token: refused without invoking the authorizer"
    );
    assert_eq!(fake.events_of("Authorizer").len(), 2);
    assert!(fake.events_of("Handler").is_empty());
}

#[tokio::test]
async fn a_failing_function_is_a_502() {
    let (apis, _) = start(None).await;
    let reply = send(
        "GET",
        &format!("{}/orders/1", apis[0].url),
        &[("authorization", "fail")],
        "",
    )
    .await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.json(), json!({"message": "Internal server error"}));
}

#[tokio::test]
async fn a_malformed_proxy_result_is_a_502() {
    let fake = FakeInvoke::new(|_, _| Ok(json!({"statusCode": 200, "body": {"not": "a string"}})));
    let apis = serve(&local_app(&app()), fake, ServeOptions::default())
        .await
        .unwrap();
    let reply = send("GET", &format!("{}/files/a/b.txt", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 502);
    assert_eq!(reply.json(), json!({"message": "Internal server error"}));
}

#[tokio::test]
async fn cognito_methods_take_the_local_identitys_claims_or_refuse() {
    let (apis, _) = start(None).await;
    let reply = send("GET", &format!("{}/me", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 401);

    let mut identity = LocalIdentity::new(ACCOUNT);
    identity
        .claims
        .insert("email".into(), "ada@example.com".into());
    let (apis, fake) = start(Some(identity)).await;
    let reply = send("GET", &format!("{}/me", apis[0].url), &[], "").await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let claims =
        fake.events_of("Handler").pop().unwrap()["requestContext"]["authorizer"]["claims"].clone();
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["sub"], "local-user");

    // A bearer token's claims are read (issuer checked against the pool; the signature is not verified).
    let token = |claims: Value| {
        use base64::Engine;
        let b = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", b(&json!({"alg": "none"})), b(&claims))
    };
    let issuer = format!("https://cognito-idp.{REGION}.amazonaws.com/{REGION}_pool");
    let good = token(json!({"iss": issuer, "sub": "u-1", "exp": 4102444800_i64}));
    let reply = send(
        "GET",
        &format!("{}/me", apis[0].url),
        &[("authorization", &good)],
        "",
    )
    .await;
    assert_eq!(reply.status, 201);
    assert_eq!(
        fake.events_of("Handler").pop().unwrap()["requestContext"]["authorizer"]["claims"]["sub"],
        "u-1"
    );
    let other_pool =
        token(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other", "sub": "u-1"}));
    let reply = send(
        "GET",
        &format!("{}/me", apis[0].url),
        &[("authorization", &other_pool)],
        "",
    )
    .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn cors_preflights_answer_from_the_mock_methods() {
    let (apis, fake) = start(None).await;
    let reply = send(
        "OPTIONS",
        &format!("{}/orders/1", apis[0].url),
        &[("origin", SHOP), ("access-control-request-method", "GET")],
        "",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD")
    );
    assert_eq!(reply.header("access-control-max-age"), Some("600"));
    assert!(fake.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_busy_port_is_an_error_naming_it_and_the_option() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = serve(
        &local_app(&app()),
        invoker(),
        ServeOptions {
            base_port: port,
            identity: None,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApigwError::PortBusy { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "port {port} for the API Api/Orders is in use: stop what listens there or choose another first API \
             port (--api-port of cargo cfn local, ServeOptions::base_port in the library; the APIs take \
             consecutive ports from it), or 0 for any free ports"
        )
    );
}

#[tokio::test]
async fn shutting_down_closes_the_port() {
    let (mut apis, _) = start(None).await;
    let api = apis.remove(0);
    let addr = api
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/prod")
        .to_owned();
    api.shutdown().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err());
}
