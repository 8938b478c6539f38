//! The platform's OpenAPI documents (seed 004: API documentation and contract tests against the specs): every
//! REST and HTTP API has one, each is a valid OpenAPI 3.0 document (checked by the pinned
//! `openapi-spec-validator`, required when `CI=true`), and the platform's requests, replayed against the
//! documents' schemas, are accepted or refused exactly as the handlers' own validation does.

use std::path::PathBuf;
use std::process::Command;

use cfnkit::openapi::{documents, ApiDocument, ApiKind};
use contracts::validate::{errors_against, errors_for};
use contracts::{CreateOrderRequest, OrderLineRequest};
use serde_json::{json, Value};

fn platform_documents() -> Vec<ApiDocument> {
    let assembly = cfnkit::synth::synth(&stacks::app().unwrap()).unwrap();
    documents(&assembly, &[])
}

fn document<'a>(docs: &'a [ApiDocument], stack: &str) -> &'a Value {
    &docs
        .iter()
        .find(|d| d.stack == stack)
        .unwrap_or_else(|| panic!("no OpenAPI document for a {stack} API"))
        .document
}

/// The request body schema of `method path`, resolved.
fn body_schema<'a>(doc: &'a Value, method: &str, path: &str) -> &'a Value {
    let schema =
        &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"];
    let pointer = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix('#'))
        .unwrap_or_else(|| panic!("{method} {path} has no body schema reference: {schema}"));
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{pointer} does not resolve"))
}

#[test]
fn every_platform_api_has_a_document_with_its_routes_and_security() {
    let docs = platform_documents();
    let apis: Vec<(&str, &str, ApiKind)> = docs
        .iter()
        .map(|d| (d.stack.as_str(), d.api.as_str(), d.kind))
        .collect();
    assert_eq!(
        apis,
        [
            ("Ingest", "IngestHttpApi", ApiKind::Http),
            ("StreamOrders", "OrdersHttpApi", ApiKind::Http),
            ("Outbox", "OutboxApiGateway", ApiKind::Rest),
            ("Order", "OrderApiGateway", ApiKind::Rest),
        ]
    );
    let order = document(&docs, "Order");
    assert_eq!(order["openapi"], "3.0.3");
    assert_eq!(
        order["paths"]["/orders"]["post"]["security"],
        json!([{"Users": []}])
    );
    assert_eq!(
        order["paths"]["/orders/{id}"]["get"]["security"],
        json!([{"Users": []}])
    );
    assert_eq!(
        order["paths"]["/orders/{id}"]["get"]["parameters"][0],
        json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}})
    );
    assert_eq!(
        order["components"]["securitySchemes"]["Users"]["x-amazon-apigateway-authtype"],
        "cognito_user_pools"
    );
    // The seed 000-002 entry points are IAM-signed.
    for stack in ["Outbox", "StreamOrders", "Ingest"] {
        let doc = document(&docs, stack);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert_eq!(
                    op["security"],
                    json!([{"sigv4": []}]),
                    "{stack} {method} {path}"
                );
            }
        }
    }
    // Every security requirement names a scheme the document defines.
    for d in &docs {
        for item in d.document["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for requirement in op["security"].as_array().unwrap() {
                    for scheme in requirement.as_object().unwrap().keys() {
                        assert!(
                            d.document["components"]["securitySchemes"]
                                .get(scheme)
                                .is_some(),
                            "{}: {scheme} is not defined",
                            d.file_name()
                        );
                    }
                }
            }
        }
    }
}

/// The requests the platform's clients send (the order service's `POST /orders`, also the body of the seed 000
/// and 001 APIs), and requests the handlers refuse.
fn order_requests() -> Vec<(&'static str, Value)> {
    let valid = CreateOrderRequest {
        customer_id: "customer-42".into(),
        lines: vec![
            OrderLineRequest {
                product_id: "sku-1".into(),
                quantity: 2,
                unit_price_cents: 1_250,
            },
            OrderLineRequest {
                product_id: "sku-2".into(),
                quantity: 1,
                unit_price_cents: 0,
            },
        ],
    };
    let valid = serde_json::to_value(valid).unwrap();
    let with = |pointer: &str, v: Value| {
        let mut r = valid.clone();
        *r.pointer_mut(pointer).unwrap() = v;
        r
    };
    vec![
        ("a two-line order", valid.clone()),
        ("no customer", json!({"lines": valid["lines"]})),
        ("an empty customer id", with("/customerId", json!(""))),
        ("no lines", with("/lines", json!([]))),
        ("a zero quantity", with("/lines/0/quantity", json!(0))),
        (
            "a quantity over the limit",
            with("/lines/0/quantity", json!(1001)),
        ),
        (
            "a negative price",
            with("/lines/1/unitPriceCents", json!(-1)),
        ),
        ("a string quantity", with("/lines/0/quantity", json!("2"))),
        ("an unknown field", {
            let mut r = valid.clone();
            r["coupon"] = json!("FREE");
            r
        }),
        ("an unknown line field", {
            let mut r = valid.clone();
            r["lines"][0]["discount"] = json!(5);
            r
        }),
        ("not an object", json!(["sku-1"])),
    ]
}

/// The contract test: each request replayed against each document's `POST /orders` body schema gets the verdict
/// the handlers' validation (`contracts::validate`, what `parse_validated` uses) gives it.
#[test]
fn the_platform_requests_meet_the_documents_as_they_meet_the_handlers() {
    let docs = platform_documents();
    let mut replayed = 0;
    for stack in ["Order", "Outbox", "StreamOrders"] {
        let doc = document(&docs, stack);
        let schema = body_schema(doc, "post", "/orders");
        for (what, request) in order_requests() {
            let handler = errors_for::<CreateOrderRequest>(&request);
            let spec = errors_against(doc, schema, &request, "");
            assert_eq!(
                spec.is_empty(),
                handler.is_empty(),
                "{stack}: {what}: the document says {spec:?}, the handler {handler:?}"
            );
            replayed += 1;
        }
    }
    assert_eq!(replayed, 33);
    let valid = order_requests().remove(0).1;
    assert!(errors_for::<CreateOrderRequest>(&valid).is_empty());

    // Ingest takes any event naming its type.
    let ingest = document(&docs, "Ingest");
    let schema = body_schema(ingest, "post", "/events");
    for (event, accepted) in [
        (json!({"eventType": "page_view", "page": "/"}), true),
        (json!({"page": "/"}), false),
        (json!({"eventType": ""}), false),
        (json!({"eventType": "x".repeat(65)}), false),
    ] {
        assert_eq!(
            errors_against(ingest, schema, &event, "").is_empty(),
            accepted,
            "{event}"
        );
    }
}

/// `openapi-spec-validator` (pinned in .ci/requirements.txt): on PATH or in the repository's `.ci/venv`.
fn validator() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let found = [
        PathBuf::from("openapi-spec-validator"),
        root.join(".ci/venv/bin/openapi-spec-validator"),
    ]
    .into_iter()
    .find(|p| {
        Command::new(p)
            .arg("--help")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openapi-spec-validator not found (PATH, .ci/venv/bin) and CI=true: install .ci/requirements.txt"
        );
        eprintln!("note: openapi-spec-validator not found: skipping the validation of the OpenAPI documents");
    }
    found
}

#[test]
fn every_document_is_valid_openapi() {
    let Some(validator) = validator() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let docs = platform_documents();
    let files: Vec<PathBuf> = docs
        .iter()
        .map(|d| {
            let path = dir.path().join(d.file_name());
            std::fs::write(&path, d.to_json()).unwrap();
            path
        })
        .collect();
    let out = Command::new(validator).args(&files).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openapi-spec-validator:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches(": OK").count(), docs.len(), "{stdout}");
}
