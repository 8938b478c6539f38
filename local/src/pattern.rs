//! Content filtering as EventBridge does it: event patterns, and the same language in SNS filter policies and
//! Lambda event filters.
//!
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>: exact values,
//! `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (of a value, a list, a prefix, a
//! suffix), `numeric` ranges, `exists`, `cidr` (IPv4) and `$or`. An array in the event matches when any of its
//! elements does.

use serde_json::Value;

/// Whether `event` matches `pattern` (an object).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Some(fields) = pattern.as_object() else {
        return false;
    };
    fields.iter().all(|(k, p)| {
        if k == "$or" {
            return p
                .as_array()
                .is_some_and(|alts| alts.iter().any(|alt| matches(alt, event)));
        }
        let v = event.get(k);
        match p {
            Value::Object(_) => match v {
                Some(Value::Array(items)) => items.iter().any(|i| matches(p, i)),
                Some(v) => matches(p, v),
                None => false,
            },
            Value::Array(conditions) => field_matches(conditions, v),
            _ => false,
        }
    })
}

fn field_matches(conditions: &[Value], v: Option<&Value>) -> bool {
    let values: Vec<&Value> = match v {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
    };
    conditions.iter().any(|c| {
        if let Some(exists) = c.get("exists").and_then(Value::as_bool) {
            let present = v.is_some_and(|v| !v.is_object());
            return present == exists;
        }
        values.iter().any(|val| value_matches(c, val))
    })
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn value_matches(c: &Value, val: &Value) -> bool {
    match c {
        Value::Object(op) => {
            let Some((name, arg)) = op.iter().next() else {
                return false;
            };
            let text = val.as_str();
            match name.as_str() {
                "prefix" => match arg {
                    Value::String(p) => text.is_some_and(|t| t.starts_with(p.as_str())),
                    Value::Object(o) => o["equals-ignore-case"]
                        .as_str()
                        .zip(text)
                        .is_some_and(|(p, t)| t.to_lowercase().starts_with(&p.to_lowercase())),
                    _ => false,
                },
                "suffix" => match arg {
                    Value::String(p) => text.is_some_and(|t| t.ends_with(p.as_str())),
                    Value::Object(o) => o["equals-ignore-case"]
                        .as_str()
                        .zip(text)
                        .is_some_and(|(p, t)| t.to_lowercase().ends_with(&p.to_lowercase())),
                    _ => false,
                },
                "equals-ignore-case" => arg.as_str().zip(text).is_some_and(|(p, t)| {
                    p.eq_ignore_ascii_case(t) || p.to_lowercase() == t.to_lowercase()
                }),
                "wildcard" => arg.as_str().zip(text).is_some_and(|(p, t)| wildcard(p, t)),
                "anything-but" => !match arg {
                    Value::Array(items) => items.iter().any(|i| scalar_eq(i, val)),
                    Value::Object(_) => value_matches(arg, val),
                    other => scalar_eq(other, val),
                },
                "numeric" => number(val).is_some_and(|n| numeric(arg, n)),
                "cidr" => arg.as_str().zip(text).is_some_and(|(c, t)| cidr(c, t)),
                _ => false,
            }
        }
        other => scalar_eq(other, val),
    }
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn numeric(arg: &Value, n: f64) -> bool {
    let Some(items) = arg.as_array() else {
        return false;
    };
    items.chunks(2).all(|pair| {
        let (Some(op), Some(bound)) = (pair[0].as_str(), pair.get(1).and_then(Value::as_f64))
        else {
            return false;
        };
        match op {
            "=" => n == bound,
            "<" => n < bound,
            "<=" => n <= bound,
            ">" => n > bound,
            ">=" => n >= bound,
            _ => false,
        }
    })
}

fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

fn cidr(block: &str, ip: &str) -> bool {
    let parse = |s: &str| s.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
    let Some((net, bits)) = block.split_once('/') else {
        return false;
    };
    let (Some(net), Some(ip), Ok(bits)) = (parse(net), parse(ip), bits.parse::<u32>()) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    };
    net & mask == ip & mask
}

/// Whether an SNS message passes a subscription's filter policy: on its attributes (`MessageAttributes`
/// scope, the default) or its JSON body (`MessageBody`).
pub fn sns_filter_matches(
    policy: &Value,
    scope: Option<&str>,
    message: &str,
    attributes: &std::collections::BTreeMap<String, (String, String)>,
) -> bool {
    if scope == Some("MessageBody") {
        return serde_json::from_str::<Value>(message).is_ok_and(|body| matches(policy, &body));
    }
    let mut event = serde_json::Map::new();
    for (name, (kind, value)) in attributes {
        let v = if kind.starts_with("Number") {
            value
                .parse::<f64>()
                .map_or(Value::String(value.clone()), |n| serde_json::json!(n))
        } else if kind.starts_with("String.Array") {
            serde_json::from_str(value).unwrap_or(Value::String(value.clone()))
        } else {
            Value::String(value.clone())
        };
        event.insert(name.clone(), v);
    }
    matches(policy, &Value::Object(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(p: Value, e: Value) -> bool {
        matches(&p, &e)
    }

    #[test]
    fn exact_values_nested_objects_and_arrays() {
        let p = json!({"source": ["a"], "detail": {"ok": [true]}});
        assert!(m(
            p.clone(),
            json!({"source": "a", "detail": {"ok": true, "x": 1}})
        ));
        assert!(!m(
            p.clone(),
            json!({"source": "a", "detail": {"ok": false}})
        ));
        assert!(!m(p.clone(), json!({"source": "a", "detail": {}})));
        assert!(m(json!({"tags": ["x"]}), json!({"tags": ["y", "x"]})));
        assert!(m(json!({"n": [5]}), json!({"n": 5.0})));
    }

    #[test]
    fn operators_match_like_eventbridge() {
        let e = json!({"name": "order-42.json", "n": 7, "ip": "10.0.1.5", "maybe": null});
        assert!(m(json!({"name": [{"prefix": "order-"}]}), e.clone()));
        assert!(m(json!({"name": [{"suffix": ".json"}]}), e.clone()));
        assert!(m(
            json!({"name": [{"prefix": {"equals-ignore-case": "ORDER"}}]}),
            e.clone()
        ));
        assert!(m(
            json!({"name": [{"wildcard": "order-*.json"}]}),
            e.clone()
        ));
        assert!(!m(
            json!({"name": [{"wildcard": "order-*.csv"}]}),
            e.clone()
        ));
        assert!(m(
            json!({"name": [{"anything-but": ["a", "b"]}]}),
            e.clone()
        ));
        assert!(!m(
            json!({"name": [{"anything-but": {"prefix": "order"}}]}),
            e.clone()
        ));
        assert!(m(json!({"n": [{"numeric": [">", 5, "<=", 7]}]}), e.clone()));
        assert!(!m(json!({"n": [{"numeric": ["<", 7]}]}), e.clone()));
        assert!(m(json!({"ip": [{"cidr": "10.0.0.0/16"}]}), e.clone()));
        assert!(m(json!({"missing": [{"exists": false}]}), e.clone()));
        assert!(!m(json!({"name": [{"exists": false}]}), e.clone()));
        assert!(m(json!({"maybe": [null]}), e.clone()));
        assert!(m(
            json!({"$or": [{"n": [1]}, {"name": [{"prefix": "order"}]}]}),
            e.clone()
        ));
    }

    #[test]
    fn sns_policies_read_attributes_or_the_body() {
        let attrs = [
            (
                "severity".to_owned(),
                ("String".to_owned(), "high".to_owned()),
            ),
            ("count".to_owned(), ("Number".to_owned(), "3".to_owned())),
        ]
        .into_iter()
        .collect();
        assert!(sns_filter_matches(
            &json!({"severity": ["high"], "count": [{"numeric": [">", 2]}]}),
            None,
            "x",
            &attrs
        ));
        assert!(!sns_filter_matches(
            &json!({"severity": ["low"]}),
            None,
            "x",
            &attrs
        ));
        assert!(sns_filter_matches(
            &json!({"kind": ["a"]}),
            Some("MessageBody"),
            r#"{"kind": "a"}"#,
            &Default::default()
        ));
    }
}
