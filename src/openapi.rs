//! OpenAPI 3 documents of the APIs a synthesized stack defines: one per REST API (`AWS::ApiGateway::RestApi`) and
//! HTTP API (`AWS::ApiGatewayV2::Api`), written by synth as `<Stack>.<Api>.openapi.json` beside the templates and
//! listed in `manifest.json` (`apis`).
//!
//! The documents are read off the final template, not the constructs, so what they say is what API Gateway
//! serves (raw and L1 resources included):
//! - paths and methods from the REST resources' `PathPart` chains and methods, or the HTTP routes' keys (`ANY` is
//!   API Gateway's `x-amazon-apigateway-any-method`; an HTTP API's `$default` route has no path and is left out);
//! - path parameters from `{name}` segments, query and header parameters from a REST method's
//!   `RequestParameters`;
//! - request bodies from the REST models the methods validate with, which are the JSON Schemas of the Rust
//!   request types (schemars, [`crate::constructs::apigateway::model_schema_of`]), as `components.schemas`;
//!   an HTTP route's from [`REQUEST_SCHEMA_METADATA`] (HTTP APIs have no models);
//! - responses from a REST method's `MethodResponses` (with their models), otherwise `default`: the function's
//!   own answer through the Lambda proxy;
//! - security schemes from the authorizers (Cognito, JWT, Lambda TOKEN/REQUEST) and IAM (`sigv4`), and each
//!   operation's `security` from its authorization (`[]` for an open one).
//!
//! Model schemas are draft-04 (what API Gateway takes); OpenAPI 3.0's schema object is that dialect's subset, so
//! they carry over with `$schema` dropped, `type: [T, "null"]` written `nullable`, `const` as a one-value `enum`,
//! and local definitions moved to `components.schemas`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::synth::Assembly;

/// The OpenAPI version the documents follow.
pub const OPENAPI_VERSION: &str = "3.0.3";

/// A route resource's metadata entry holding the JSON Schema of its request body (an HTTP API route has no
/// model to read it from); set by `RouteOptions::request_schema`.
pub const REQUEST_SCHEMA_METADATA: &str = "cfnkit:requestSchema";

/// Which kind of API a document describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiKind {
    /// API Gateway REST API (v1).
    Rest,
    /// API Gateway HTTP API (v2).
    Http,
}

/// The OpenAPI document of one API of a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiDocument {
    /// The stack that defines the API.
    pub stack: String,
    /// The API's logical ID.
    pub api: String,
    /// REST or HTTP API.
    pub kind: ApiKind,
    /// The OpenAPI 3.0 document.
    pub document: Value,
}

impl ApiDocument {
    /// The document's file name in the synth output: `<Stack>.<Api>.openapi.json`.
    pub fn file_name(&self) -> String {
        format!("{}.{}.openapi.json", self.stack, self.api)
    }
    /// The document as written: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.document).expect("a document serializes");
        s.push('\n');
        s
    }
}

/// The documents of every API of the chosen stacks (all when `selection` is empty), in stack order, then by
/// the API's logical ID.
pub fn documents(assembly: &Assembly, selection: &[String]) -> Vec<ApiDocument> {
    assembly
        .stacks
        .iter()
        .filter(|s| selection.is_empty() || selection.contains(&s.name))
        .flat_map(|s| {
            let template: Value =
                serde_json::from_str(&s.template.to_json()).expect("a template is JSON");
            documents_of_template(&s.name, &template)
        })
        .collect()
}

/// The documents of every API in one template (as JSON): what [`documents`] does per stack, for tools that read
/// templates from disk (the local run serving `/openapi.json`).
pub fn documents_of_template(stack: &str, template: &Value) -> Vec<ApiDocument> {
    let empty = Map::new();
    let resources = template["Resources"].as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    for (id, r) in resources {
        let kind = match r["Type"].as_str() {
            Some("AWS::ApiGateway::RestApi") => ApiKind::Rest,
            Some("AWS::ApiGatewayV2::Api")
                if r["Properties"]["ProtocolType"].as_str() != Some("WEBSOCKET") =>
            {
                ApiKind::Http
            }
            _ => continue,
        };
        let api = Api {
            id,
            resource: r,
            resources,
        };
        let document = match kind {
            ApiKind::Rest => api.rest(),
            ApiKind::Http => api.http(),
        };
        out.push(ApiDocument {
            stack: stack.to_owned(),
            api: id.clone(),
            kind,
            document,
        });
    }
    out
}

struct Api<'a> {
    id: &'a str,
    resource: &'a Value,
    resources: &'a Map<String, Value>,
}

/// The logical ID a `{"Ref": id}` names.
fn ref_of(v: &Value) -> Option<&str> {
    v.get("Ref").and_then(Value::as_str)
}

/// A property that is a literal string (not an intrinsic).
fn literal(v: &Value) -> Option<&str> {
    v.as_str()
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

impl<'a> Api<'a> {
    /// The resources of `type_name` that belong to this API (`RestApiId`/`ApiId` is a `Ref` to it).
    fn children(&self, type_name: &str, api_prop: &str) -> Vec<(&'a String, &'a Value)> {
        self.resources
            .iter()
            .filter(|(_, r)| {
                r["Type"] == type_name && ref_of(&r["Properties"][api_prop]) == Some(self.id)
            })
            .collect()
    }

    fn info(&self) -> Value {
        let props = &self.resource["Properties"];
        let mut info = json!({"title": literal(&props["Name"]).unwrap_or(self.id)});
        if let Some(d) = literal(&props["Description"]) {
            info["description"] = d.into();
        }
        info
    }

    fn rest(&self) -> Value {
        let mut schemas = Map::new();
        let mut schemes = Map::new();
        let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let models: BTreeMap<&str, (&str, &Value)> = self
            .children("AWS::ApiGateway::Model", "RestApiId")
            .into_iter()
            .map(|(id, r)| {
                let p = &r["Properties"];
                (
                    id.as_str(),
                    (literal(&p["Name"]).unwrap_or(id), &p["Schema"]),
                )
            })
            .collect();
        let model_ref = |model: &Value, schemas: &mut Map<String, Value>| -> Option<Value> {
            let (name, schema) = models.get(ref_of(model)?)?;
            if !schemas.contains_key(*name) {
                let converted = to_openapi_schema(schema, name, schemas);
                schemas.insert((*name).to_owned(), converted);
            }
            Some(json!({"$ref": format!("#/components/schemas/{name}")}))
        };
        let authorizers: BTreeMap<&str, &Value> = self
            .children("AWS::ApiGateway::Authorizer", "RestApiId")
            .into_iter()
            .map(|(id, r)| (id.as_str(), r))
            .collect();

        for (method_id, m) in self.children("AWS::ApiGateway::Method", "RestApiId") {
            let p = &m["Properties"];
            let Some(path) = self.rest_path(&p["ResourceId"]) else {
                continue;
            };
            let verb = literal(&p["HttpMethod"])
                .unwrap_or("ANY")
                .to_ascii_lowercase();
            let key = if METHODS.contains(&verb.as_str()) {
                verb
            } else {
                "x-amazon-apigateway-any-method".to_owned()
            };
            let mut op = json!({"operationId": method_id});
            let mut parameters = path_parameters(&path);
            if let Some(rp) = p["RequestParameters"].as_object() {
                for (name, required) in rp {
                    let (location, param) = match name.strip_prefix("method.request.") {
                        Some(rest) if rest.starts_with("querystring.") => ("query", &rest[12..]),
                        Some(rest) if rest.starts_with("header.") => ("header", &rest[7..]),
                        _ => continue,
                    };
                    parameters.push(json!({
                        "name": param, "in": location, "required": required.as_bool().unwrap_or(false),
                        "schema": {"type": "string"},
                    }));
                }
            }
            if !parameters.is_empty() {
                op["parameters"] = Value::Array(parameters);
            }
            if let Some(rm) = p["RequestModels"].as_object() {
                let content: Map<String, Value> = rm
                    .iter()
                    .filter_map(|(ct, model)| {
                        Some((
                            ct.clone(),
                            json!({"schema": model_ref(model, &mut schemas)?}),
                        ))
                    })
                    .collect();
                if !content.is_empty() {
                    op["requestBody"] = json!({"required": true, "content": content});
                }
            }
            let mut responses = Map::new();
            for r in p["MethodResponses"].as_array().into_iter().flatten() {
                let Some(code) = r["StatusCode"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| r["StatusCode"].as_i64().map(|c| c.to_string()))
                else {
                    continue;
                };
                let mut response = json!({"description": format!("HTTP {code}")});
                if let Some(models) = r["ResponseModels"].as_object() {
                    let content: Map<String, Value> = models
                        .iter()
                        .filter_map(|(ct, model)| {
                            Some((
                                ct.clone(),
                                json!({"schema": model_ref(model, &mut schemas)?}),
                            ))
                        })
                        .collect();
                    if !content.is_empty() {
                        response["content"] = Value::Object(content);
                    }
                }
                responses.insert(code, response);
            }
            if responses.is_empty() {
                responses.insert("default".to_owned(), default_response(&p["Integration"]));
            }
            op["responses"] = Value::Object(responses);
            op["security"] = match literal(&p["AuthorizationType"]).unwrap_or("NONE") {
                "AWS_IAM" => {
                    schemes.insert("sigv4".to_owned(), sigv4());
                    json!([{"sigv4": []}])
                }
                "COGNITO_USER_POOLS" | "CUSTOM" => match ref_of(&p["AuthorizerId"])
                    .and_then(|a| authorizers.get(a).map(|r| rest_authorizer(a, r)))
                {
                    Some((name, scheme)) => {
                        schemes.insert(name.clone(), scheme);
                        let scopes = p["AuthorizationScopes"].clone();
                        json!([{ name: if scopes.is_array() { scopes } else { json!([]) } }])
                    }
                    None => json!([]),
                },
                _ => json!([]),
            };
            paths.entry(path).or_default().insert(key, op);
        }
        self.document(paths, schemas, schemes)
    }

    /// The path of a REST resource: its `PathPart`s up to the API's root (`GetAtt <Api>.RootResourceId`).
    fn rest_path(&self, resource: &Value) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = resource.clone();
        for _ in 0..64 {
            if current
                .get("Fn::GetAtt")
                .is_some_and(|a| a[1] == "RootResourceId")
            {
                parts.reverse();
                return Some(format!("/{}", parts.join("/")));
            }
            let r = self.resources.get(ref_of(&current)?)?;
            parts.push(literal(&r["Properties"]["PathPart"])?.to_owned());
            current = r["Properties"]["ParentId"].clone();
        }
        None
    }

    fn http(&self) -> Value {
        let mut schemas = Map::new();
        let mut schemes = Map::new();
        let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let authorizers: BTreeMap<&str, &Value> = self
            .children("AWS::ApiGatewayV2::Authorizer", "ApiId")
            .into_iter()
            .map(|(id, r)| (id.as_str(), r))
            .collect();
        for (route_id, r) in self.children("AWS::ApiGatewayV2::Route", "ApiId") {
            let p = &r["Properties"];
            let Some((verb, path)) = literal(&p["RouteKey"]).and_then(|k| k.split_once(' ')) else {
                continue; // `$default`: no path to document
            };
            let verb = verb.to_ascii_lowercase();
            let key = if METHODS.contains(&verb.as_str()) {
                verb
            } else {
                "x-amazon-apigateway-any-method".to_owned()
            };
            let mut op = json!({"operationId": route_id});
            let parameters = path_parameters(path);
            if !parameters.is_empty() {
                op["parameters"] = Value::Array(parameters);
            }
            if let Some(schema) = r["Metadata"].get(REQUEST_SCHEMA_METADATA) {
                let name = schema["title"].as_str().unwrap_or(route_id).to_owned();
                let converted = to_openapi_schema(schema, &name, &mut schemas);
                schemas.insert(name.clone(), converted);
                op["requestBody"] = json!({"required": true, "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{name}")}}}});
            }
            op["responses"] = json!({"default": default_response(&Value::Null)});
            op["security"] = match literal(&p["AuthorizationType"]).unwrap_or("NONE") {
                "AWS_IAM" => {
                    schemes.insert("sigv4".to_owned(), sigv4());
                    json!([{"sigv4": []}])
                }
                "JWT" | "CUSTOM" => match ref_of(&p["AuthorizerId"])
                    .and_then(|a| authorizers.get(a).map(|r| (a, *r)))
                {
                    Some((a, r)) => {
                        let (name, scheme) = http_authorizer(a, r);
                        schemes.insert(name.clone(), scheme);
                        let scopes = p["AuthorizationScopes"].clone();
                        json!([{ name: if scopes.is_array() { scopes } else { json!([]) } }])
                    }
                    None => json!([]),
                },
                _ => json!([]),
            };
            paths.entry(path.to_owned()).or_default().insert(key, op);
        }
        self.document(paths, schemas, schemes)
    }

    fn document(
        &self,
        paths: BTreeMap<String, Map<String, Value>>,
        schemas: Map<String, Value>,
        schemes: Map<String, Value>,
    ) -> Value {
        let paths: Map<String, Value> = paths
            .into_iter()
            .map(|(k, v)| (k, Value::Object(v)))
            .collect();
        let mut components = Map::new();
        if !schemas.is_empty() {
            components.insert("schemas".into(), Value::Object(schemas));
        }
        if !schemes.is_empty() {
            components.insert("securitySchemes".into(), Value::Object(schemes));
        }
        let mut info = self.info();
        // The version changes exactly when what the document describes does.
        let digest = Sha256::digest(format!("{paths:?}{components:?}").as_bytes());
        info["version"] = digest
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into();
        let mut doc = json!({"openapi": OPENAPI_VERSION, "info": info, "paths": paths});
        if !components.is_empty() {
            doc["components"] = Value::Object(components);
        }
        doc
    }
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect()
}

fn default_response(integration: &Value) -> Value {
    let description = match integration["Type"].as_str() {
        Some("MOCK") => "The mock integration's answer",
        _ => "The function's answer, through the Lambda proxy integration",
    };
    json!({ "description": description })
}

fn sigv4() -> Value {
    json!({
        "type": "apiKey", "name": "Authorization", "in": "header",
        "description": "AWS Signature Version 4 (IAM)",
        "x-amazon-apigateway-authtype": "awsSigv4",
    })
}

/// Where an authorizer reads its token: `method.request.header.X` (REST) or `$request.header.X` (HTTP), the
/// first one of a list.
fn identity_location(source: &Value) -> (String, &'static str) {
    let first = match source {
        Value::String(s) => s.split(',').next().unwrap_or("").trim().to_owned(),
        Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or("").to_owned(),
        _ => String::new(),
    };
    for (prefix, location) in [
        ("method.request.header.", "header"),
        ("$request.header.", "header"),
        ("method.request.querystring.", "query"),
        ("$request.querystring.", "query"),
    ] {
        if let Some(name) = first.strip_prefix(prefix) {
            return (name.to_owned(), location);
        }
    }
    ("Authorization".to_owned(), "header")
}

fn rest_authorizer(id: &str, r: &Value) -> (String, Value) {
    let p = &r["Properties"];
    let name = literal(&p["Name"]).unwrap_or(id).to_owned();
    let (header, location) = identity_location(&p["IdentitySource"]);
    let (authtype, description) = match literal(&p["Type"]) {
        Some("COGNITO_USER_POOLS") => ("cognito_user_pools", "A Cognito user pool's ID token"),
        Some("REQUEST") => ("custom", "A Lambda REQUEST authorizer"),
        _ => ("custom", "A Lambda TOKEN authorizer"),
    };
    (
        name,
        json!({
            "type": "apiKey", "name": header, "in": location, "description": description,
            "x-amazon-apigateway-authtype": authtype,
        }),
    )
}

fn http_authorizer(id: &str, r: &Value) -> (String, Value) {
    let p = &r["Properties"];
    let name = literal(&p["Name"]).unwrap_or(id).to_owned();
    match literal(&p["AuthorizerType"]) {
        Some("JWT") => (
            name,
            json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "A JWT from the authorizer's issuer"}),
        ),
        _ => {
            let (header, location) = identity_location(&p["IdentitySource"]);
            (
                name,
                json!({"type": "apiKey", "name": header, "in": location,
                       "description": "A Lambda REQUEST authorizer"}),
            )
        }
    }
}

/// A draft-04 (or draft 2020-12) JSON Schema as an OpenAPI 3.0 schema object; local definitions go to
/// `schemas` as `<owner><Definition>`.
fn to_openapi_schema(schema: &Value, owner: &str, schemas: &mut Map<String, Value>) -> Value {
    let mut s = schema.clone();
    for defs in ["definitions", "$defs"] {
        if let Some(Value::Object(d)) = s.as_object_mut().and_then(|m| m.remove(defs)) {
            for (name, def) in d {
                let converted = to_openapi_schema(&def, owner, schemas);
                schemas.insert(format!("{owner}{name}"), converted);
            }
        }
    }
    convert(&mut s, owner);
    s
}

fn convert(v: &mut Value, owner: &str) {
    let Value::Object(m) = v else {
        return;
    };
    for k in ["$schema", "id", "$id", "examples"] {
        m.remove(k);
    }
    if let Some(Value::String(r)) = m.get("$ref") {
        let name = r
            .strip_prefix("#/definitions/")
            .or_else(|| r.strip_prefix("#/$defs/"));
        if let Some(name) = name {
            let target = format!("#/components/schemas/{owner}{name}");
            m.clear();
            m.insert("$ref".into(), target.into());
            return;
        }
    }
    if let Some(Value::Array(types)) = m.get("type").cloned() {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if non_null.len() < types.len() {
            m.insert("nullable".into(), true.into());
        }
        match non_null.as_slice() {
            [one] => {
                m.insert("type".into(), one.clone());
            }
            _ => {
                m.remove("type");
            }
        }
    }
    if let Some(c) = m.remove("const") {
        m.insert("enum".into(), json!([c]));
    }
    if m.get("additionalProperties") == Some(&json!({"not": {}})) {
        m.insert("additionalProperties".into(), false.into());
    }
    for (k, child) in m.iter_mut() {
        match k.as_str() {
            "properties" => {
                if let Value::Object(props) = child {
                    props.values_mut().for_each(|p| convert(p, owner));
                }
            }
            "items" | "additionalProperties" | "not" => convert(child, owner),
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(a) = child {
                    a.iter_mut().for_each(|c| convert(c, owner));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_04_quirks_become_openapi_3_0() {
        let mut schemas = Map::new();
        let s = to_openapi_schema(
            &json!({
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object",
                "additionalProperties": {"not": {}},
                "properties": {
                    "note": {"type": ["string", "null"]},
                    "kind": {"const": "order"},
                    "line": {"$ref": "#/definitions/Line"},
                },
                "definitions": {"Line": {"type": "object"}},
            }),
            "Create",
            &mut schemas,
        );
        assert_eq!(
            s,
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "note": {"type": "string", "nullable": true},
                    "kind": {"enum": ["order"]},
                    "line": {"$ref": "#/components/schemas/CreateLine"},
                },
            })
        );
        assert_eq!(schemas["CreateLine"], json!({"type": "object"}));
    }
}
