//! The REST and HTTP APIs of a fixture app through the whole local run: a request reaches the real handler
//! process, a call its role does not allow is denied with the missing grant named, and a body the method's
//! model refuses never reaches the handler.

mod support;

use cfnkit::constructs::apigateway::{LambdaIntegration, MethodOptions, RestApi, RestApiProps};
use cfnkit::constructs::apigatewayv2::{HttpApi, HttpApiProps, RouteOptions};
use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::lambda::{Function, FunctionProps};
use cfnkit::App;
use cfnkit_local::invoke::FunctionRef;
use cfnkit_local::run::LocalRun;
use serde_json::{json, Value};

/// A REST API `Shop` (POST /items validated against a model, POST /unwritten) and an HTTP API `Front`
/// (POST /items), in front of `api_writer` twice: `Writer` may write the table, `NoGrant` may not.
fn app() -> App {
    let app = App::new();
    let s = app.stack("Web");
    let scope = s.scope();
    let table = Table::new(
        &scope,
        "Items",
        Attribute::string("pk"),
        TableProps {
            deletion_protection: false,
            ..TableProps::default()
        },
    )
    .unwrap();
    let writer = |id: &str| {
        Function::new(
            &scope,
            id,
            support::code("api_writer"),
            FunctionProps {
                environment: [("TABLE_NAME".to_owned(), table.table_name())].into(),
                ..FunctionProps::default()
            },
        )
        .unwrap()
    };
    let (granted, not_granted) = (writer("Writer"), writer("NoGrant"));
    table.grant_write_data(&granted);
    let shop = RestApi::new(&scope, "Shop", RestApiProps::default()).unwrap();
    let model = shop
        .add_model_schema(
            "Item",
            json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}),
        )
        .unwrap();
    shop.add_method(
        "POST",
        "/items",
        LambdaIntegration::new(&granted, Default::default()),
        MethodOptions {
            request_model: Some(&model),
            ..Default::default()
        },
    )
    .unwrap();
    shop.add_method(
        "POST",
        "/unwritten",
        LambdaIntegration::new(&not_granted, Default::default()),
        MethodOptions::default(),
    )
    .unwrap();
    let front = HttpApi::new(&scope, "Front", HttpApiProps::default()).unwrap();
    front
        .add_route("POST /items", &granted, RouteOptions::default())
        .unwrap();
    app
}

/// The routes require IAM: a SigV4 Authorization header as `curl --aws-sigv4` sends it (the local APIs read
/// the credential, they do not verify the signature).
const SIGNED: (&str, &str) = (
    "authorization",
    "AWS4-HMAC-SHA256 Credential=AKIALOCAL/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0",
);

fn api_url(run: &LocalRun, label: &str) -> String {
    run.apis
        .iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("no API {label}: {:?}", run.apis))
        .1
        .clone()
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let reply = reqwest_like(url, &body.to_string()).await;
    let json = serde_json::from_str(&reply.1).unwrap_or(Value::String(reply.1));
    (reply.0, json)
}

/// One POST over real HTTP.
async fn reqwest_like(url: &str, body: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let request = http::Request::post(url)
        .header(SIGNED.0, SIGNED.1)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn item_ids(run: &LocalRun) -> Vec<String> {
    let table = &run.app.resource("Web", "Items").unwrap().physical_id;
    let out = run
        .moto()
        .json(
            "dynamodb",
            "DynamoDB_20120810.Scan",
            &json!({"TableName": table}),
        )
        .await
        .unwrap();
    let mut ids: Vec<String> = out["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pk"]["S"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn writer() -> FunctionRef {
    FunctionRef {
        stack: "Web".into(),
        logical_id: "Writer".into(),
    }
}

#[tokio::test]
async fn a_request_to_each_api_reaches_the_real_handler_process_on_the_port_printed_for_it() {
    let (run, _logs) = support::start(&app()).await;
    let rest = api_url(&run, "Web/Shop (REST API)");
    let http = api_url(&run, "Web/Front (HTTP API)");
    assert_ne!(
        rest.split('/').nth(2),
        http.split('/').nth(2),
        "one port per API"
    );
    let report = run.ready_report();
    assert!(
        report.contains(&format!("\n  API Web/Shop (REST API): {rest}"))
            && report.contains(&format!("\n  API Web/Front (HTTP API): {http}")),
        "{report}"
    );
    assert!(
        !report.contains("(AWS::ApiGateway::RestApi)")
            && !report.contains("(AWS::ApiGatewayV2::Api)"),
        "served APIs are not listed as not run: {report}"
    );

    let (status, body) = post(&format!("{rest}/items"), &json!({"id": "rest-1"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["written"], "rest-1");
    let pid = body["pid"].as_u64().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    let (status, body) = post(&format!("{http}/items"), &json!({"id": "http-1"})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(item_ids(&run).await, ["http-1", "rest-1"]);

    let summary = run.stop().await;
    assert_eq!(summary.functions[&writer()].invocations, 2, "{summary}");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the handler process {pid} outlived the run"
    );
}

#[tokio::test]
async fn a_handler_call_its_role_does_not_allow_is_denied_and_the_missing_grant_is_named() {
    let (run, _logs) = support::start(&app()).await;
    let rest = api_url(&run, "Web/Shop (REST API)");
    let (status, body) = post(&format!("{rest}/unwritten"), &json!({"id": "nope"})).await;
    assert_eq!(status, 500, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("AccessDeniedException"), "{error}");
    assert!(
        error.contains("is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/Web-Items-"),
        "{error}"
    );
    let notes = run.notes();
    assert!(
        notes.iter().any(|n| n.starts_with("denied: Web/NoGrant: AccessDenied: Web/NoGrant's role may not dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/Web-Items-")
            && n.contains("table.grant_write_data(&function)")),
        "{notes:?}"
    );
    assert!(
        item_ids(&run).await.is_empty(),
        "the denied write did not reach the emulator"
    );
    run.stop().await;
}

#[tokio::test]
async fn a_body_the_model_refuses_is_answered_400_as_api_gateway_does_and_never_reaches_the_handler(
) {
    let (run, _logs) = support::start(&app()).await;
    let rest = api_url(&run, "Web/Shop (REST API)");
    let (status, body) = post(&format!("{rest}/items"), &json!({"id": 7})).await;
    assert_eq!(
        (status, body),
        (400, json!({"message": "Invalid request body"}))
    );
    let summary = run.stop().await;
    assert!(
        summary
            .functions
            .get(&writer())
            .is_none_or(|c| c.invocations == 0),
        "{summary}"
    );
}
