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

pub const FIXUPS: &[Fixup] = &[Fixup {
    name: "datazone-owner-one-of-requires-its-property",
    type_name: "AWS::DataZone::Owner",
    reason: "OwnerProperties is a oneOf of {Group} and {User} where neither alternative requires its \
             property, so an owner with neither matches both and fails oneOf; DataZone's API takes exactly \
             one of them. Requiring each alternative's property says what the oneOf means.",
    apply: |s| {
        add(s, "/definitions/OwnerProperties/oneOf/0", "required", serde_json::json!(["Group"]))?;
        add(s, "/definitions/OwnerProperties/oneOf/1", "required", serde_json::json!(["User"]))
    },
}];

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
    fn every_fixup_matches_the_vendored_schemas() {
        let mut schemas =
            crate::load_schemas(&crate::workspace_root().join("schemas/us-east-1")).unwrap();
        apply(FIXUPS, &mut schemas).unwrap();
    }
}
