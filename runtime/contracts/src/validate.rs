//! Validation of JSON values against the JSON Schema schemars derives for a type.
//!
//! API Gateway validates request bodies against the model the stacks derive from
//! [`CreateOrderRequest`](crate::CreateOrderRequest)'s schema; the handler validates against the
//! same schema with this module, so both agree on what is valid and the handler can answer 400
//! with field errors when invoked without the gateway's validation (tests, other front doors).
//!
//! Supported keywords (what schemars emits for this crate's types): `type`, `properties`,
//! `required`, `additionalProperties: false`, `items`, `minItems`, `maxItems`, `minLength`,
//! `maxLength`, `minimum`, `maximum`, `enum`, `const`, `anyOf`, `oneOf`, `allOf` and local
//! `$ref`s (`#/$defs/...`, `#/definitions/...`). Other keywords (`format`, `description`, ...)
//! are ignored.

use schemars::{JsonSchema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::api::FieldError;

/// The JSON Schema (draft 2020-12, as schemars generates it) of `T`.
pub fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("a schema serializes")
}

/// The schema of `T` for an API Gateway REST API model: draft-04, all subschemas inlined (API
/// Gateway models cannot hold local `$defs`).
pub fn api_gateway_model_schema<T: JsonSchema>() -> Value {
    let settings = schemars::generate::SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = Some("http://json-schema.org/draft-04/schema#".into());
    });
    let schema = SchemaGenerator::new(settings).into_root_schema_for::<T>();
    let mut v = serde_json::to_value(schema).expect("a schema serializes");
    strip_keywords(&mut v, &["format"]);
    v
}

fn strip_keywords(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(m) => {
            for k in keys {
                // `format` is only a keyword where its value is a string (not a property named so).
                if m.get(*k).is_some_and(Value::is_string) {
                    m.remove(*k);
                }
            }
            m.values_mut().for_each(|c| strip_keywords(c, keys));
        }
        Value::Array(a) => a.iter_mut().for_each(|c| strip_keywords(c, keys)),
        _ => {}
    }
}

/// Every constraint of `T`'s schema that `value` breaks; empty when valid.
pub fn errors_for<T: JsonSchema>(value: &Value) -> Vec<FieldError> {
    let schema = schema_of::<T>();
    let mut errors = Vec::new();
    check(&schema, &schema, value, "", &mut errors);
    errors
}

/// Every constraint of `schema` (a schema rooted at `root` for `$ref` resolution) that `value`
/// breaks, with paths under `path`.
pub fn errors_against(root: &Value, schema: &Value, value: &Value, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check(root, schema, value, path, &mut errors);
    errors
}

/// Parses `body` as JSON, validates it against `T`'s schema and deserializes it.
pub fn parse_validated<T: JsonSchema + DeserializeOwned>(body: &str) -> Result<T, Vec<FieldError>> {
    let value: Value = serde_json::from_str(body).map_err(|e| {
        vec![FieldError {
            field: String::new(),
            message: format!("body is not valid JSON: {e}"),
        }]
    })?;
    let errors = errors_for::<T>(&value);
    if !errors.is_empty() {
        return Err(errors);
    }
    serde_json::from_value(value).map_err(|e| {
        vec![FieldError {
            field: String::new(),
            message: e.to_string(),
        }]
    })
}

fn err(errors: &mut Vec<FieldError>, path: &str, message: String) {
    errors.push(FieldError {
        field: path.to_string(),
        message,
    });
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => true,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let s = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return err(errors, path, "no value is allowed here".into()),
        Value::Object(s) => s,
        _ => return,
    };
    if let Some(Value::String(r)) = s.get("$ref") {
        match resolve(root, r) {
            Some(target) => check(root, target, value, path, errors),
            None => err(errors, path, format!("unresolvable schema reference {r}")),
        }
    }
    if let Some(ty) = s.get("type") {
        let ok = match ty {
            Value::String(t) => type_matches(t, value),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, value)),
            _ => true,
        };
        if !ok {
            let expected = match ty {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            // A type mismatch makes the other keywords meaningless for this value.
            return err(
                errors,
                path,
                format!("expected {expected}, got {}", json_kind(value)),
            );
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(value) {
            err(
                errors,
                path,
                format!("must be one of {}", Value::Array(options.clone())),
            );
        }
    }
    if let Some(c) = s.get("const") {
        if c != value {
            err(errors, path, format!("must be {c}"));
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = s.get(key) {
            let matching = branches
                .iter()
                .filter(|b| errors_against(root, b, value, path).is_empty())
                .count();
            let ok = if key == "anyOf" {
                matching >= 1
            } else {
                matching == 1
            };
            if !ok {
                err(errors, path, format!("does not match {key} of the schema"));
            }
        }
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        for b in all {
            check(root, b, value, path, errors);
        }
    }
    match value {
        Value::String(text) => check_string(s, text, path, errors),
        Value::Number(_) => check_number(s, value, path, errors),
        Value::Array(items) => check_array(root, s, items, path, errors),
        Value::Object(fields) => check_object(root, s, fields, path, errors),
        _ => {}
    }
}

fn check_string(s: &Map<String, Value>, text: &str, path: &str, errors: &mut Vec<FieldError>) {
    let len = text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
        if len < min {
            err(
                errors,
                path,
                format!("must be at least {min} characters long"),
            );
        }
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            err(
                errors,
                path,
                format!("must be at most {max} characters long"),
            );
        }
    }
}

fn check_number(s: &Map<String, Value>, value: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let Some(n) = value.as_f64() else { return };
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        if n < min {
            err(errors, path, format!("must be at least {}", s["minimum"]));
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        if n > max {
            err(errors, path, format!("must be at most {}", s["maximum"]));
        }
    }
}

fn check_array(
    root: &Value,
    s: &Map<String, Value>,
    items: &[Value],
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let len = items.len() as u64;
    if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
        if len < min {
            err(errors, path, format!("must have at least {min} item(s)"));
        }
    }
    if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
        if len > max {
            err(errors, path, format!("must have at most {max} item(s)"));
        }
    }
    if let Some(item_schema) = s.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(root, item_schema, item, &format!("{path}/{i}"), errors);
        }
    }
}

fn check_object(
    root: &Value,
    s: &Map<String, Value>,
    fields: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    let properties = s.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = s.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !fields.contains_key(name) {
                err(errors, &format!("{path}/{name}"), "is required".into());
            }
        }
    }
    for (name, v) in fields {
        let child = format!("{path}/{name}");
        match properties.and_then(|p| p.get(name)) {
            Some(prop) => check(root, prop, v, &child, errors),
            None => match s.get("additionalProperties") {
                Some(Value::Bool(false)) => err(errors, &child, "is not an allowed field".into()),
                Some(extra @ Value::Object(_)) => check(root, extra, v, &child, errors),
                _ => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::CreateOrderRequest;
    use serde_json::json;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn valid_request_passes() {
        let body =
            r#"{"customerId":"c","lines":[{"productId":"p","quantity":1,"unitPriceCents":0}]}"#;
        let r: CreateOrderRequest = parse_validated(body).unwrap();
        assert_eq!(r.lines.len(), 1);
    }

    #[test]
    fn invalid_request_lists_every_field() {
        let v = json!({
            "customerId": "",
            "lines": [
                {"productId": "p", "quantity": 0, "unitPriceCents": 1},
                {"productId": "", "quantity": 2000, "unitPriceCents": -1, "color": "red"},
                {"quantity": "3"}
            ],
            "coupon": "X"
        });
        let errors = errors_for::<CreateOrderRequest>(&v);
        let f = fields(&errors);
        for expected in [
            "/customerId",
            "/lines/0/quantity",
            "/lines/1/productId",
            "/lines/1/quantity",
            "/lines/1/unitPriceCents",
            "/lines/1/color",
            "/lines/2/productId",
            "/lines/2/unitPriceCents",
            "/lines/2/quantity",
            "/coupon",
        ] {
            assert!(f.contains(&expected), "missing {expected} in {errors:?}");
        }
    }

    #[test]
    fn empty_lines_and_missing_fields() {
        let errors = errors_for::<CreateOrderRequest>(&json!({"lines": []}));
        assert_eq!(fields(&errors), vec!["/customerId", "/lines"]);
        let errors = parse_validated::<CreateOrderRequest>("not json").unwrap_err();
        assert_eq!(errors[0].field, "");
        let errors = errors_for::<CreateOrderRequest>(&json!([1]));
        assert_eq!(errors[0].message, "expected object, got array");
    }

    #[test]
    fn too_many_lines() {
        let line = json!({"productId": "p", "quantity": 1, "unitPriceCents": 1});
        let lines: Vec<Value> = (0..51).map(|_| line.clone()).collect();
        let errors = errors_for::<CreateOrderRequest>(&json!({"customerId": "c", "lines": lines}));
        assert_eq!(fields(&errors), vec!["/lines"]);
    }

    #[test]
    fn api_gateway_model_is_inlined_draft4() {
        let m = api_gateway_model_schema::<CreateOrderRequest>();
        assert_eq!(
            m["$schema"],
            json!("http://json-schema.org/draft-04/schema#")
        );
        let text = m.to_string();
        assert!(!text.contains("$ref"), "{text}");
        assert!(!text.contains("\"format\""), "{text}");
        let line = &m["properties"]["lines"]["items"];
        assert_eq!(line["properties"]["quantity"]["minimum"], json!(1));
        assert_eq!(line["additionalProperties"], json!(false));
        // The model validates like the original schema.
        let bad = json!({"customerId": "c", "lines": [{"productId": "p", "quantity": 0, "unitPriceCents": 1}]});
        assert_eq!(
            fields(&errors_against(&m, &m, &bad, "")),
            vec!["/lines/0/quantity"]
        );
    }
}
