//! Templates as data: synth writes JSON or YAML, and GetTemplate returns whatever was deployed (JSON or YAML
//! with CloudFormation's short-form tags), so both are read into one JSON shape before comparing.

use serde_json::{Map, Value};

/// Parses a template in JSON, or in YAML with short-form tags (`!Ref`, `!GetAtt`, `!Sub` ...), into the JSON
/// form (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`).
pub fn parse(text: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    yaml_to_json(yaml)
}

fn yaml_to_json(v: serde_yaml::Value) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_yaml::to_string(&other)
                        .map_err(|e| e.to_string())?
                        .trim()
                        .to_owned(),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(t.value)?;
            let (key, value) = match (name, inner) {
                ("Ref", v) => ("Ref".to_owned(), v),
                ("Condition", v) => ("Condition".to_owned(), v),
                // `!GetAtt Res.Attr` is the short form of `Fn::GetAtt: [Res, Attr]`; attributes may hold dots.
                ("GetAtt", Value::String(s)) => {
                    let (res, attr) = s
                        .split_once('.')
                        .ok_or(format!("!GetAtt {s} has no attribute"))?;
                    (
                        "Fn::GetAtt".to_owned(),
                        Value::Array(vec![res.into(), attr.into()]),
                    )
                }
                (other, v) => (format!("Fn::{other}"), v),
            };
            Value::Object(Map::from_iter([(key, value)]))
        }
    })
}

/// An intrinsic function or a condition reference: an object with one key, `Ref`, `Condition` or `Fn::*`.
pub fn is_intrinsic(m: &Map<String, Value>) -> bool {
    m.len() == 1
        && m.keys()
            .all(|k| k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
}

/// The number of resources, for the progress bar of a stack being created.
pub fn resource_count(template: &Value) -> usize {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .map_or(0, Map::len)
}

/// Resources the template keeps when its stack is deleted, with their policy (`Retain`, `RetainExceptOnCreate`,
/// `Snapshot`).
pub fn retained_resources(template: &Value) -> Vec<(String, String)> {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut kept: Vec<(String, String)> = resources
        .iter()
        .filter_map(|(id, r)| {
            let policy = r.get("DeletionPolicy")?.as_str()?;
            (policy != "Delete").then(|| (id.clone(), policy.to_owned()))
        })
        .collect();
    kept.sort();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_short_forms_read_as_their_json_forms() {
        let t = parse(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: !Ref B\n      C: !GetAtt D.Arn\n      E: !Sub '${AWS::Region}-x'\n      F: !Join [',', [a, b]]\n",
        )
        .unwrap();
        assert_eq!(
            t["Resources"]["Q"]["Properties"],
            json!({
                "A": {"Ref": "B"},
                "C": {"Fn::GetAtt": ["D", "Arn"]},
                "E": {"Fn::Sub": "${AWS::Region}-x"},
                "F": {"Fn::Join": [",", ["a", "b"]]},
            })
        );
    }

    #[test]
    fn json_is_read_as_is() {
        assert_eq!(
            parse(r#"{"Resources": {}}"#).unwrap(),
            json!({"Resources": {}})
        );
        assert!(parse("Resources: [").is_err());
    }

    #[test]
    fn retained_resources_are_those_with_a_keeping_policy() {
        let t = json!({"Resources": {
            "A": {"Type": "X", "DeletionPolicy": "Retain"},
            "B": {"Type": "X", "DeletionPolicy": "Delete"},
            "C": {"Type": "X"},
            "D": {"Type": "X", "DeletionPolicy": "Snapshot"},
        }});
        assert_eq!(
            retained_resources(&t),
            [
                ("A".to_owned(), "Retain".to_owned()),
                ("D".to_owned(), "Snapshot".to_owned())
            ]
        );
        assert_eq!(resource_count(&t), 4);
    }
}
