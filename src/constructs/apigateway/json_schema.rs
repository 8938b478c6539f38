//! JSON Schema draft-04 for API Gateway models.
//!
//! API Gateway REST API models are JSON Schema draft 4, with every subschema inline (a model can reference
//! another model only by its URL, never a local `#/definitions/...`). schemars and most hand-written schemas
//! are draft 7 or 2020-12, so a schema goes through [`to_draft04`] before it becomes a model: local `$ref`s are
//! inlined, keywords that changed meaning are rewritten (`const` becomes a one-value `enum`, numeric
//! `exclusiveMinimum` becomes `minimum` plus `exclusiveMinimum: true`, boolean schemas become `{}` and
//! `{"not": {}}`, `prefixItems` becomes the array form of `items`), annotations draft 4 does not know are
//! dropped (`examples`, `$comment`, `readOnly`...), and so are the `format`s draft 4 does not define (schemars
//! writes `uint32`, `int64`, `double`...; API Gateway's validator would not check them anyway). Keywords that
//! constrain values and have no draft-4 form (`if`/`then`/`else`, `contains`, `propertyNames`,
//! `unevaluatedProperties`...) are refused rather than dropped, so a model never accepts more than its schema
//! says.

use serde_json::{Map, Value};

/// The `$schema` of every model.
pub const DRAFT_04: &str = "http://json-schema.org/draft-04/schema#";

/// Formats draft 4 defines; other `format` values are dropped.
const DRAFT_04_FORMATS: &[&str] = &["date-time", "email", "hostname", "ipv4", "ipv6", "uri"];

/// Annotations of later drafts, dropped: they do not change what validates.
const DROPPED: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "$anchor",
    "examples",
    "readOnly",
    "writeOnly",
    "deprecated",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
];

/// Keywords that constrain values and have no draft-4 equivalent.
const REFUSED: &[&str] = &[
    "if",
    "then",
    "else",
    "contains",
    "minContains",
    "maxContains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentSchemas",
    "$dynamicRef",
    "$recursiveRef",
];

/// A part of a JSON Schema that cannot become an API Gateway (draft-04) model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct SchemaError {
    /// The JSON pointer of the bad part (`#/properties/a/if`); after a `$ref`, the pointer of the referenced schema.
    pub at: String,
    /// What is wrong there, naming the bad value and the fix.
    pub problem: String,
}

impl SchemaError {
    fn new(at: impl Into<String>, problem: impl Into<String>) -> Self {
        SchemaError {
            at: at.into(),
            problem: problem.into(),
        }
    }
}

/// The draft-04 schema of `T`, as API Gateway models need it (see the module documentation).
pub fn model_schema_of<T: schemars::JsonSchema>() -> Result<Value, SchemaError> {
    let settings = schemars::generate::SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
    });
    let schema = schemars::SchemaGenerator::new(settings).into_root_schema_for::<T>();
    to_draft04(&schema.to_value())
}

/// Converts a JSON Schema (draft 4 to 2020-12) to a self-contained draft-04 schema, or says which keyword at
/// which place cannot be converted.
pub fn to_draft04(schema: &Value) -> Result<Value, SchemaError> {
    let mut converter = Converter {
        root: schema,
        stack: Vec::new(),
    };
    let mut out = converter.schema(schema, "#")?;
    if let Value::Object(m) = &mut out {
        m.remove("definitions");
        let mut with_schema = Map::new();
        with_schema.insert("$schema".to_owned(), Value::from(DRAFT_04));
        with_schema.extend(std::mem::take(m));
        *m = with_schema;
    }
    Ok(out)
}

/// `exclusiveMinimum` for `minimum`, `exclusiveMaximum` for `maximum`.
fn exclusive_of(bound: &str) -> &'static str {
    if bound == "minimum" {
        "exclusiveMinimum"
    } else {
        "exclusiveMaximum"
    }
}

struct Converter<'a> {
    root: &'a Value,
    /// The `$ref`s being inlined, to refuse recursive schemas.
    stack: Vec<String>,
}

impl Converter<'_> {
    /// One schema at `at` (a JSON pointer, for messages).
    fn schema(&mut self, s: &Value, at: &str) -> Result<Value, SchemaError> {
        let m = match s {
            Value::Bool(true) => return Ok(Value::Object(Map::new())),
            Value::Bool(false) => return Ok(serde_json::json!({"not": {}})),
            Value::Object(m) => m,
            other => {
                return Err(SchemaError::new(
                    at,
                    format!("a schema must be an object or a boolean, got {other}"),
                ))
            }
        };
        if let Some(r) = m.get("$ref") {
            return self.reference(r, m, at);
        }
        let mut out = Map::new();
        for (k, v) in m {
            let here = format!("{at}/{k}");
            if DROPPED.contains(&k.as_str()) || k == "$defs" || k == "definitions" {
                continue;
            }
            if REFUSED.contains(&k.as_str()) {
                return Err(SchemaError::new(
                    here,
                    format!(
                        "`{k}` has no JSON Schema draft-04 equivalent, and API Gateway models are draft-04: \
                         express the constraint without it or validate it in the handler"
                    ),
                ));
            }
            match k.as_str() {
                "format" if v.is_string() => {
                    if DRAFT_04_FORMATS.contains(&v.as_str().unwrap_or_default()) {
                        out.insert(k.clone(), v.clone());
                    }
                }
                "const" => {
                    if !m.contains_key("enum") {
                        out.insert("enum".to_owned(), Value::Array(vec![v.clone()]));
                    }
                }
                "exclusiveMinimum" | "exclusiveMaximum" if v.is_number() => {
                    // Draft 6+ numeric bound: merged with the inclusive one after the loop.
                }
                "minimum" | "maximum" if m.get(exclusive_of(k)).is_some_and(Value::is_number) => {}
                "items" if v.is_array() => {
                    out.insert(k.clone(), self.schema_list(v, &here)?);
                }
                "prefixItems" => {
                    out.insert("items".to_owned(), self.schema_list(v, &here)?);
                    if let Some(rest) = m.get("items") {
                        out.insert(
                            "additionalItems".to_owned(),
                            self.schema(rest, &format!("{at}/items"))?,
                        );
                    }
                }
                "items" if m.contains_key("prefixItems") => {}
                "items" | "additionalItems" | "additionalProperties" | "not" => {
                    out.insert(k.clone(), self.schema(v, &here)?);
                }
                "properties" | "patternProperties" => {
                    out.insert(k.clone(), self.schema_map(v, &here)?);
                }
                "dependentRequired" => {
                    out.insert("dependencies".to_owned(), v.clone());
                }
                "dependencies" => {
                    let Value::Object(deps) = v else {
                        return Err(SchemaError::new(here, "must be an object"));
                    };
                    let mut converted = Map::new();
                    for (name, dep) in deps {
                        let dep = if dep.is_array() {
                            dep.clone()
                        } else {
                            self.schema(dep, &format!("{here}/{name}"))?
                        };
                        converted.insert(name.clone(), dep);
                    }
                    out.insert(k.clone(), Value::Object(converted));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    out.insert(k.clone(), self.schema_list(v, &here)?);
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        for (inclusive, exclusive) in [
            ("minimum", "exclusiveMinimum"),
            ("maximum", "exclusiveMaximum"),
        ] {
            if let Some(bound) = m.get(exclusive).and_then(Value::as_f64) {
                // Draft 6+ applies both bounds; draft 4 holds one per side: keep the stricter.
                let lower = inclusive == "minimum";
                let inclusive_bound = m.get(inclusive).and_then(Value::as_f64);
                let exclusive_wins =
                    inclusive_bound.is_none_or(|i| if lower { bound >= i } else { bound <= i });
                if exclusive_wins {
                    out.insert(inclusive.to_owned(), m[exclusive].clone());
                    out.insert(exclusive.to_owned(), Value::Bool(true));
                } else {
                    out.insert(inclusive.to_owned(), m[inclusive].clone());
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn schema_list(&mut self, v: &Value, at: &str) -> Result<Value, SchemaError> {
        let Value::Array(items) = v else {
            return Err(SchemaError::new(at, "must be an array of schemas"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, s)| self.schema(s, &format!("{at}/{i}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }

    fn schema_map(&mut self, v: &Value, at: &str) -> Result<Value, SchemaError> {
        let Value::Object(props) = v else {
            return Err(SchemaError::new(at, "must be an object of schemas"));
        };
        let mut out = Map::new();
        for (name, s) in props {
            out.insert(name.clone(), self.schema(s, &format!("{at}/{name}"))?);
        }
        Ok(Value::Object(out))
    }

    /// Inlines a local `$ref`. Keywords beside it (draft 2019+ applies them too) are kept through `allOf`.
    fn reference(
        &mut self,
        r: &Value,
        m: &Map<String, Value>,
        at: &str,
    ) -> Result<Value, SchemaError> {
        let Some(pointer) = r.as_str() else {
            return Err(SchemaError::new(
                format!("{at}/$ref"),
                format!("must be a string, got {r}"),
            ));
        };
        let Some(local) = pointer.strip_prefix('#') else {
            return Err(SchemaError::new(
                format!("{at}/$ref"),
                format!(
                    "{pointer:?} is not a local reference: API Gateway models must be self-contained, so \
                     inline the referenced schema"
                ),
            ));
        };
        if self.stack.iter().any(|p| p == pointer) {
            return Err(SchemaError::new(
                format!("{at}/$ref"),
                format!(
                    "the schema is recursive through {pointer:?}, and an API Gateway model cannot refer to \
                     itself: use a non-recursive request type"
                ),
            ));
        }
        let target = self.root.pointer(local).ok_or_else(|| {
            SchemaError::new(
                format!("{at}/$ref"),
                format!("{pointer:?} points at nothing in the schema"),
            )
        })?;
        self.stack.push(pointer.to_owned());
        let inlined = self.schema(target, pointer);
        self.stack.pop();
        let inlined = inlined?;
        let siblings: Map<String, Value> = m
            .iter()
            .filter(|(k, _)| k.as_str() != "$ref")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if siblings.is_empty() {
            return Ok(inlined);
        }
        let mut rest = self.schema(&Value::Object(siblings), at)?;
        if let Value::Object(r) = &mut rest {
            if r.keys()
                .all(|k| matches!(k.as_str(), "description" | "title" | "default"))
            {
                // Annotations only: merge them into the inlined schema instead of wrapping it.
                if let Value::Object(mut i) = inlined {
                    i.extend(std::mem::take(r));
                    return Ok(Value::Object(i));
                }
            }
            r.insert("allOf".to_owned(), Value::Array(vec![inlined]));
        }
        Ok(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn later_draft_keywords_become_draft_04() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "kind": {"const": "order"},
                "qty": {"type": "integer", "format": "uint32", "exclusiveMinimum": 0},
                "at": {"type": "string", "format": "date-time", "examples": ["2024-01-01T00:00:00Z"]},
                "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "items": false},
                "any": true,
                "line": {"$ref": "#/$defs/Line", "description": "one line"}
            },
            "$defs": {"Line": {"type": "object", "properties": {"sku": {"type": "string"}}}}
        });
        assert_eq!(
            to_draft04(&s).unwrap(),
            json!({
                "$schema": DRAFT_04,
                "type": "object",
                "properties": {
                    "kind": {"enum": ["order"]},
                    "qty": {"type": "integer", "minimum": 0, "exclusiveMinimum": true},
                    "at": {"type": "string", "format": "date-time"},
                    "pair": {"type": "array", "items": [{"type": "string"}, {"type": "number"}],
                             "additionalItems": {"not": {}}},
                    "any": {},
                    "line": {"type": "object", "properties": {"sku": {"type": "string"}}, "description": "one line"}
                }
            })
        );
    }

    #[test]
    fn an_exclusive_and_an_inclusive_bound_keep_the_stricter() {
        let s = json!({"type": "object", "properties": {
            "a": {"type": "number", "minimum": 0, "exclusiveMinimum": 5},
            "b": {"type": "number", "minimum": 10, "exclusiveMinimum": 5, "maximum": 3, "exclusiveMaximum": 2}
        }});
        let out = to_draft04(&s).unwrap();
        assert_eq!(
            out["properties"]["a"],
            json!({"type": "number", "minimum": 5, "exclusiveMinimum": true})
        );
        assert_eq!(
            out["properties"]["b"],
            json!({"type": "number", "minimum": 10, "maximum": 2, "exclusiveMaximum": true})
        );
    }

    #[test]
    fn recursion_remote_refs_and_draft_07_conditionals_are_refused() {
        let recursive = json!({"$ref": "#/definitions/Node",
            "definitions": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/Node"}}}}});
        let e = to_draft04(&recursive).unwrap_err().to_string();
        assert!(
            e.contains("recursive through \"#/definitions/Node\""),
            "{e}"
        );
        let remote = json!({"$ref": "https://example.com/schema.json"});
        assert!(to_draft04(&remote)
            .unwrap_err()
            .to_string()
            .contains("not a local reference"));
        let conditional =
            json!({"type": "object", "properties": {"a": {"if": {"type": "string"}}}});
        assert_eq!(
            to_draft04(&conditional).unwrap_err().to_string(),
            "#/properties/a/if: `if` has no JSON Schema draft-04 equivalent, and API Gateway models are draft-04: \
             express the constraint without it or validate it in the handler"
        );
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Order {
        /// Who orders.
        #[schemars(length(min = 1, max = 64))]
        customer_id: String,
        lines: Vec<Line>,
        note: Option<String>,
    }

    #[derive(schemars::JsonSchema)]
    #[allow(dead_code)]
    struct Line {
        #[schemars(range(min = 1))]
        quantity: u32,
    }

    #[test]
    fn a_rust_type_gives_an_inlined_draft_04_schema() {
        let s = model_schema_of::<Order>().unwrap();
        assert_eq!(s["$schema"], DRAFT_04);
        assert_eq!(s["required"], json!(["customer_id", "lines"]));
        assert_eq!(s["properties"]["customer_id"]["maxLength"], 64);
        assert_eq!(
            s["properties"]["lines"]["items"]["properties"]["quantity"],
            json!({"type": "integer", "minimum": 1})
        );
        let text = s.to_string();
        assert!(
            !text.contains("$ref") && !text.contains("definitions"),
            "{text}"
        );
    }
}
