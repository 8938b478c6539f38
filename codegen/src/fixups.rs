//! Corrections to the vendored schemas, each named, with the reason it is needed.
//!
//! A fixup states what it expects to find; when the schema no longer says that (upstream fixed it, or the type
//! went away), generation fails, so stale fixups are noticed and removed.

use std::collections::BTreeMap;

use serde_json::Value as J;

pub struct Fixup {
    /// A short name, for error messages.
    pub name: &'static str,
    /// The resource type it corrects.
    pub type_name: &'static str,
    /// Why the schema is wrong.
    pub reason: &'static str,
    /// Applies the fixup, or says why it no longer matches.
    pub apply: fn(&mut J) -> Result<(), String>,
}

/// Replaces the value at `pointer`, which must currently be `expected`.
pub fn replace(schema: &mut J, pointer: &str, expected: J, new: J) -> Result<(), String> {
    let slot = schema
        .pointer_mut(pointer)
        .ok_or_else(|| format!("{pointer} is missing"))?;
    if *slot != expected {
        return Err(format!("{pointer} is {slot}, expected {expected}"));
    }
    *slot = new;
    Ok(())
}

/// Removes `item` from the array at `pointer`, where it must be.
pub fn remove_item(schema: &mut J, pointer: &str, item: J) -> Result<(), String> {
    let arr = schema
        .pointer_mut(pointer)
        .and_then(J::as_array_mut)
        .ok_or_else(|| format!("{pointer} is not an array"))?;
    let len = arr.len();
    arr.retain(|i| *i != item);
    if arr.len() == len {
        return Err(format!("{pointer} does not contain {item}"));
    }
    Ok(())
}

/// Adds `key` to the object at `pointer`, where it must not be yet.
pub fn add(schema: &mut J, pointer: &str, key: &str, value: J) -> Result<(), String> {
    let obj = schema
        .pointer_mut(pointer)
        .and_then(J::as_object_mut)
        .ok_or_else(|| format!("{pointer} is not an object"))?;
    if let Some(old) = obj.get(key) {
        return Err(format!("{pointer}/{key} is already {old}"));
    }
    obj.insert(key.to_owned(), value);
    Ok(())
}

/// Gives the string property at `pointer` the values its documentation lists, where the schema says only
/// `string`: the generator then makes it an (open) enum, so constructs and users write `KeyType::Hash` and not a
/// string that only a deploy would check. Fails when the property is no longer a plain string (upstream typed it,
/// or it moved), so the fixup is noticed and removed.
pub fn string_enum(schema: &mut J, pointer: &str, values: &[&str]) -> Result<(), String> {
    let node = schema
        .pointer_mut(pointer)
        .and_then(J::as_object_mut)
        .ok_or_else(|| format!("{pointer} is missing"))?;
    if node.get("type") != Some(&J::from("string")) {
        return Err(format!(
            "{pointer} is not a string: {}",
            J::Object(node.clone())
        ));
    }
    if let Some(e) = node.get("enum") {
        return Err(format!("{pointer} already lists its values: {e}"));
    }
    node.insert("enum".to_owned(), J::from(values.to_vec()));
    Ok(())
}

/// Why the `string_enum` fixups exist; each names the page that lists the values.
const UNTYPED_STRING: &str = "the schema types the property as a plain string, though AWS documents the values \
    it accepts; as an enum the constructs write a checked variant and users see the choices in their editor";

pub const FIXUPS: &[Fixup] = &[
    Fixup {
        name: "dynamodb-table-key-type-values",
        type_name: "AWS::DynamoDB::Table",
        reason: UNTYPED_STRING,
        // HASH | RANGE: aws-properties-dynamodb-table-keyschema.html (the table's and indexes' key schemas).
        apply: |s| {
            string_enum(s, "/definitions/KeySchema/items/properties/KeyType", &["HASH", "RANGE"])?;
            string_enum(
                s,
                "/definitions/GlobalSecondaryIndex/properties/KeySchema/items/properties/KeyType",
                &["HASH", "RANGE"],
            )
        },
    },
    Fixup {
        name: "dynamodb-table-billing-mode-values",
        type_name: "AWS::DynamoDB::Table",
        reason: UNTYPED_STRING,
        // aws-resource-dynamodb-table.html#cfn-dynamodb-table-billingmode
        apply: |s| string_enum(s, "/properties/BillingMode", &["PROVISIONED", "PAY_PER_REQUEST"]),
    },
    Fixup {
        name: "dynamodb-table-projection-type-values",
        type_name: "AWS::DynamoDB::Table",
        reason: UNTYPED_STRING,
        // aws-properties-dynamodb-table-projection.html
        apply: |s| {
            string_enum(
                s,
                "/definitions/Projection/properties/ProjectionType",
                &["KEYS_ONLY", "INCLUDE", "ALL"],
            )
        },
    },
    Fixup {
        name: "dynamodb-table-stream-view-type-values",
        type_name: "AWS::DynamoDB::Table",
        reason: UNTYPED_STRING,
        // aws-properties-dynamodb-table-streamspecification.html
        apply: |s| {
            string_enum(
                s,
                "/definitions/StreamSpecification/properties/StreamViewType",
                &["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"],
            )
        },
    },
    Fixup {
        name: "lambda-event-source-mapping-starting-position-values",
        type_name: "AWS::Lambda::EventSourceMapping",
        reason: "the schema gives StartingPosition only the pattern `(LATEST|TRIM_HORIZON|AT_TIMESTAMP)+`, which \
            also matches `LATESTLATEST`; the documented values are the three words",
        // aws-resource-lambda-eventsourcemapping.html#cfn-lambda-eventsourcemapping-startingposition
        apply: |s| {
            string_enum(
                s,
                "/properties/StartingPosition",
                &["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"],
            )
        },
    },
    Fixup {
        name: "apigateway-rest-api-endpoint-types-values",
        type_name: "AWS::ApiGateway::RestApi",
        reason: UNTYPED_STRING,
        // aws-properties-apigateway-restapi-endpointconfiguration.html
        apply: |s| {
            string_enum(
                s,
                "/definitions/EndpointConfiguration/properties/Types/items",
                &["EDGE", "REGIONAL", "PRIVATE"],
            )
        },
    },
    Fixup {
        name: "apigateway-method-authorization-type-values",
        type_name: "AWS::ApiGateway::Method",
        reason: UNTYPED_STRING,
        // API Gateway API Reference, Method.authorizationType
        apply: |s| {
            string_enum(
                s,
                "/properties/AuthorizationType",
                &["NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"],
            )
        },
    },
    Fixup {
        name: "apigateway-authorizer-type-values",
        type_name: "AWS::ApiGateway::Authorizer",
        reason: UNTYPED_STRING,
        // aws-resource-apigateway-authorizer.html#cfn-apigateway-authorizer-type
        apply: |s| string_enum(s, "/properties/Type", &["TOKEN", "REQUEST", "COGNITO_USER_POOLS"]),
    },
    Fixup {
        name: "apigateway-stage-logging-level-values",
        type_name: "AWS::ApiGateway::Stage",
        reason: UNTYPED_STRING,
        // aws-properties-apigateway-stage-methodsetting.html#cfn-apigateway-stage-methodsetting-logginglevel
        apply: |s| {
            string_enum(
                s,
                "/definitions/MethodSetting/properties/LoggingLevel",
                &["OFF", "ERROR", "INFO"],
            )
        },
    },
    Fixup {
        name: "apigateway-stage-cache-cluster-size-values",
        type_name: "AWS::ApiGateway::Stage",
        reason: UNTYPED_STRING,
        // API Gateway API Reference, CreateStage cacheClusterSize (GB)
        apply: |s| {
            string_enum(
                s,
                "/properties/CacheClusterSize",
                &["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"],
            )
        },
    },
    Fixup {
        name: "apigatewayv2-api-protocol-type-values",
        type_name: "AWS::ApiGatewayV2::Api",
        reason: UNTYPED_STRING,
        // aws-resource-apigatewayv2-api.html#cfn-apigatewayv2-api-protocoltype
        apply: |s| string_enum(s, "/properties/ProtocolType", &["HTTP", "WEBSOCKET"]),
    },
    Fixup {
        name: "apigatewayv2-integration-type-values",
        type_name: "AWS::ApiGatewayV2::Integration",
        reason: UNTYPED_STRING,
        // aws-resource-apigatewayv2-integration.html#cfn-apigatewayv2-integration-integrationtype
        apply: |s| {
            string_enum(
                s,
                "/properties/IntegrationType",
                &["AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"],
            )
        },
    },
    Fixup {
        name: "apigatewayv2-integration-payload-format-version-values",
        type_name: "AWS::ApiGatewayV2::Integration",
        reason: UNTYPED_STRING,
        // aws-resource-apigatewayv2-integration.html#cfn-apigatewayv2-integration-payloadformatversion
        apply: |s| string_enum(s, "/properties/PayloadFormatVersion", &["1.0", "2.0"]),
    },
    Fixup {
        name: "apigatewayv2-route-authorization-type-values",
        type_name: "AWS::ApiGatewayV2::Route",
        reason: UNTYPED_STRING,
        // aws-resource-apigatewayv2-route.html#cfn-apigatewayv2-route-authorizationtype
        apply: |s| {
            string_enum(s, "/properties/AuthorizationType", &["NONE", "AWS_IAM", "CUSTOM", "JWT"])
        },
    },
    Fixup {
        name: "apigatewayv2-authorizer-type-values",
        type_name: "AWS::ApiGatewayV2::Authorizer",
        reason: UNTYPED_STRING,
        // aws-resource-apigatewayv2-authorizer.html#cfn-apigatewayv2-authorizer-authorizertype
        apply: |s| string_enum(s, "/properties/AuthorizerType", &["REQUEST", "JWT"]),
    },
    Fixup {
        name: "sns-subscription-protocol-values",
        type_name: "AWS::SNS::Subscription",
        reason: UNTYPED_STRING,
        // SNS API Reference, Subscribe: Protocol
        apply: |s| {
            string_enum(
                s,
                "/properties/Protocol",
                &[
                    "http",
                    "https",
                    "email",
                    "email-json",
                    "sms",
                    "sqs",
                    "application",
                    "lambda",
                    "firehose",
                ],
            )
        },
    },
    Fixup {
        name: "sns-subscription-filter-policy-scope-values",
        type_name: "AWS::SNS::Subscription",
        reason: UNTYPED_STRING,
        // aws-resource-sns-subscription.html#cfn-sns-subscription-filterpolicyscope
        apply: |s| {
            string_enum(s, "/properties/FilterPolicyScope", &["MessageAttributes", "MessageBody"])
        },
    },
    Fixup {
    name: "datazone-owner-one-of-requires-its-property",
    type_name: "AWS::DataZone::Owner",
    reason: "OwnerProperties is a oneOf of {Group} and {User} where neither alternative requires its \
             property, so an owner with neither matches both and fails oneOf; DataZone's API takes exactly \
             one of them. Requiring each alternative's property says what the oneOf means.",
    apply: |s| {
        add(s, "/definitions/OwnerProperties/oneOf/0", "required", serde_json::json!(["Group"]))?;
        add(s, "/definitions/OwnerProperties/oneOf/1", "required", serde_json::json!(["User"]))
    },
}
];

/// Applies `fixups` to the schemas (by type name). Every fixup must match.
pub fn apply(fixups: &[Fixup], schemas: &mut BTreeMap<String, J>) -> Result<(), String> {
    let mut errors = vec![];
    for f in fixups {
        match schemas.get_mut(f.type_name) {
            None => errors.push(format!(
                "fixup {} ({}): no such type in the schemas",
                f.name, f.type_name
            )),
            Some(s) => {
                if let Err(e) = (f.apply)(s) {
                    errors.push(format!(
                        "fixup {} ({}) no longer matches: {e}. Reason it existed: {}",
                        f.name, f.type_name, f.reason
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn noop_fixup(s: &mut J) -> Result<(), String> {
        replace(s, "/properties/A/type", json!("string"), json!("integer"))
    }

    #[test]
    fn a_fixup_that_no_longer_matches_is_an_error() {
        let f = [Fixup {
            name: "a-is-integer",
            type_name: "AWS::X::Y",
            reason: "test",
            apply: noop_fixup,
        }];
        let mut schemas = BTreeMap::from([(
            "AWS::X::Y".to_owned(),
            json!({"properties": {"A": {"type": "string"}}}),
        )]);
        apply(&f, &mut schemas).unwrap();
        assert_eq!(schemas["AWS::X::Y"]["properties"]["A"]["type"], "integer");
        // Applied again, the schema already says `integer`: the fixup is stale.
        let err = apply(&f, &mut schemas).unwrap_err();
        assert!(err.contains("no longer matches"), "{err}");
        let mut none = BTreeMap::new();
        assert!(apply(&f, &mut none).unwrap_err().contains("no such type"));
    }

    #[test]
    fn a_string_enum_fixup_is_stale_once_the_schema_lists_values_or_changes_type() {
        let mut s =
            json!({"properties": {"Mode": {"type": "string"}, "Size": {"type": "integer"}}});
        string_enum(&mut s, "/properties/Mode", &["ON", "OFF"]).unwrap();
        assert_eq!(s["properties"]["Mode"]["enum"], json!(["ON", "OFF"]));
        let again = string_enum(&mut s, "/properties/Mode", &["ON", "OFF"]).unwrap_err();
        assert!(again.contains("already lists its values"), "{again}");
        let not_string = string_enum(&mut s, "/properties/Size", &["1"]).unwrap_err();
        assert!(not_string.contains("is not a string"), "{not_string}");
        assert!(string_enum(&mut s, "/properties/Gone", &["X"])
            .unwrap_err()
            .contains("missing"));
    }

    #[test]
    fn every_fixup_matches_the_vendored_schemas() {
        let mut schemas =
            crate::load_schemas(&crate::workspace_root().join("schemas/us-east-1")).unwrap();
        apply(FIXUPS, &mut schemas).unwrap();
    }
}
