//! OpenAPI documents from synthesized templates (`cfnkit::openapi`): every kind of authorization, parameters,
//! models, CORS preflights and `ANY`, for REST and HTTP APIs; written by synth and listed in the manifest.

use std::process::Command;

use cfnkit::constructs::apigateway::{
    Authorization, Cors, IdentitySource, MethodOptions, RestApi, RestApiProps,
};
use cfnkit::constructs::apigatewayv2::{HttpApi, HttpAuthorization, RouteOptions};
use cfnkit::constructs::lambda::Function;
use cfnkit::openapi::{documents, ApiKind};
use cfnkit::synth::output::{render, Format};
use cfnkit::synth::synth;
use cfnkit::App;
use schemars::JsonSchema;
use serde_json::{json, Value};

/// Body of `PUT /carts/{cartId}`.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
struct UpdateCart {
    items: Vec<CartItem>,
    note: Option<String>,
}

#[allow(dead_code)]
#[derive(JsonSchema)]
struct CartItem {
    sku: String,
    quantity: u32,
}

fn app() -> App {
    let app = App::new();
    let scope = app.stack("Shop").scope();
    let f = Function::from_arn(
        "Handler",
        "arn:aws:lambda:eu-west-1:111122223333:function:shop",
    )
    .unwrap();
    let rest = RestApi::new(
        &scope,
        "Carts",
        RestApiProps {
            description: Some("Carts".into()),
            default_cors: Some(Cors::new(["https://shop.example.com"])),
            ..Default::default()
        },
    )
    .unwrap();
    let model = rest.add_model::<UpdateCart>().unwrap();
    let token = rest
        .add_token_authorizer("Token", &f, "X-Token", None)
        .unwrap();
    let tenant = rest
        .add_request_authorizer(
            "Tenant",
            &f,
            &[IdentitySource::QueryString("tenant".into())],
            None,
        )
        .unwrap();
    rest.add_method(
        "PUT",
        "/carts/{cartId}",
        &f,
        MethodOptions {
            authorization: Authorization::Authorizer(&token),
            request_model: Some(&model),
            required_query_strings: vec!["currency".into()],
            ..Default::default()
        },
    )
    .unwrap();
    rest.add_method(
        "GET",
        "/carts/{cartId}",
        &f,
        MethodOptions {
            authorization: Authorization::Authorizer(&tenant),
            ..Default::default()
        },
    )
    .unwrap();
    rest.add_method("ANY", "/admin/{proxy+}", &f, MethodOptions::default())
        .unwrap();
    rest.add_method(
        "GET",
        "/health",
        &f,
        MethodOptions {
            authorization: Authorization::None,
            ..Default::default()
        },
    )
    .unwrap()
    .allow_unauthenticated("a health check");

    let http = HttpApi::new(&scope, "Events", Default::default()).unwrap();
    let users = http
        .add_jwt_authorizer("Users", "https://issuer.example.com", ["client".into()])
        .unwrap();
    http.add_route(
        "POST /events",
        &f,
        RouteOptions {
            authorization: HttpAuthorization::Jwt(&users),
            authorization_scopes: vec!["events/write".into()],
            request_schema: Some(
                cfnkit::constructs::apigateway::model_schema_of::<CartItem>().unwrap(),
            ),
            ..Default::default()
        },
    )
    .unwrap();
    http.add_route("ANY /raw", &f, RouteOptions::default())
        .unwrap();
    app
}

fn docs() -> Vec<(String, ApiKind, Value)> {
    documents(&synth(&app()).unwrap(), &[])
        .into_iter()
        .map(|d| (d.api, d.kind, d.document))
        .collect()
}

#[test]
fn a_rest_api_is_documented_with_its_paths_parameters_models_and_authorizers() {
    let docs = docs();
    let (_, kind, rest) = docs.iter().find(|(api, ..)| api == "Carts").unwrap();
    assert_eq!(*kind, ApiKind::Rest);
    assert_eq!(rest["info"]["description"], "Carts");
    let put = &rest["paths"]["/carts/{cartId}"]["put"];
    assert_eq!(put["security"], json!([{"Token": []}]));
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/UpdateCart"})
    );
    let params: Vec<(&str, &str)> = put["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["in"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    assert_eq!(params, [("path", "cartId"), ("query", "currency")]);
    let cart = &rest["components"]["schemas"]["UpdateCart"];
    assert!(cart.get("$schema").is_none(), "{cart}");
    assert_eq!(
        cart["properties"]["note"],
        json!({"type": "string", "nullable": true})
    );
    assert_eq!(
        rest["paths"]["/carts/{cartId}"]["get"]["security"],
        json!([{"Tenant": []}])
    );
    let schemes = &rest["components"]["securitySchemes"];
    assert_eq!(schemes["Token"]["name"], "X-Token");
    assert_eq!(schemes["Tenant"]["in"], "query");
    assert_eq!(schemes["Tenant"]["name"], "tenant");
    assert_eq!(
        rest["paths"]["/admin/{proxy+}"]["x-amazon-apigateway-any-method"]["security"],
        json!([{"sigv4": []}])
    );
    assert_eq!(rest["paths"]["/health"]["get"]["security"], json!([]));
    // The CORS preflights are there, open, answered by the mock integration.
    assert_eq!(rest["paths"]["/health"]["options"]["security"], json!([]));
}

#[test]
fn an_http_api_is_documented_with_its_jwt_scopes_and_request_schema() {
    let docs = docs();
    let (_, kind, http) = docs.iter().find(|(api, ..)| api == "Events").unwrap();
    assert_eq!(*kind, ApiKind::Http);
    let post = &http["paths"]["/events"]["post"];
    assert_eq!(post["security"], json!([{"Users": ["events/write"]}]));
    assert_eq!(
        http["components"]["securitySchemes"]["Users"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "A JWT from the authorizer's issuer"})
    );
    assert_eq!(
        post["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/CartItem"})
    );
    assert!(http["paths"]["/raw"]
        .get("x-amazon-apigateway-any-method")
        .is_some());
}

#[test]
fn synth_writes_each_document_and_lists_it_in_the_manifest() {
    let rendered = render(&synth(&app()).unwrap(), Format::Yaml, &[]).unwrap();
    let names: Vec<&str> = rendered.files.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"Shop.Carts.openapi.json"), "{names:?}");
    assert!(names.contains(&"Shop.Events.openapi.json"), "{names:?}");
    let manifest = &rendered.files.last().unwrap().1;
    let apis = cfnkit::synth::manifest::Manifest::apis_of(manifest).unwrap();
    assert_eq!(apis, rendered.apis);
    assert_eq!(apis.len(), 2);
    for api in &apis {
        let (_, body) = rendered
            .files
            .iter()
            .find(|(n, _)| *n == api.document)
            .unwrap();
        let digest = sha2_hex(body);
        assert_eq!(api.sha256, digest);
    }
    // The typed manifest still reads a manifest with `apis`.
    let parsed: cfnkit::synth::manifest::Manifest = serde_json::from_str(manifest).unwrap();
    assert_eq!(parsed, rendered.manifest);
}

fn sha2_hex(body: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_documents_are_valid_openapi() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let Some(validator) = [
        std::path::PathBuf::from("openapi-spec-validator"),
        root.join(".ci/venv/bin/openapi-spec-validator"),
    ]
    .into_iter()
    .find(|p| {
        Command::new(p)
            .arg("--help")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "openapi-spec-validator not found and CI=true: install .ci/requirements.txt"
        );
        eprintln!("note: openapi-spec-validator not found: skipping");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (api, _, doc) in docs() {
        let path = dir.path().join(format!("{api}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
        files.push(path);
    }
    let out = Command::new(validator).args(&files).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
