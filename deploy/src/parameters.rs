//! `--parameters`: values for the templates' `Parameters`, as CDK takes them. `STACK:KEY=VALUE` sets a
//! parameter of one stack; `KEY=VALUE` sets it in every deployed stack that declares it. A parameter no value
//! is given for keeps its previous value on an update (CDK's `--previous-parameters`, on by default) and takes
//! its `Default` on a create; one with neither is an error before anything is deployed.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::Value;

use crate::error::DeployError;

/// One `--parameters` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterArg {
    /// `None`: every deployed stack that declares the parameter.
    pub stack: Option<String>,
    pub key: String,
    pub value: String,
}

impl FromStr for ParameterArg {
    type Err = String;

    /// `STACK:KEY=VALUE` or `KEY=VALUE`. The value is everything after the first `=`, so it may hold `=` and
    /// `:` (ARNs); stack names and parameter keys cannot hold either.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = s.split_once('=').ok_or_else(|| {
            format!("`{s}` has no `=`; write KEY=VALUE, or STACK:KEY=VALUE for one stack")
        })?;
        let (stack, key) = match name.split_once(':') {
            Some((stack, key)) => (Some(stack.to_owned()), key),
            None => (None, name),
        };
        if key.is_empty() || stack.as_deref() == Some("") {
            return Err(format!(
                "`{s}` names no parameter; write KEY=VALUE, or STACK:KEY=VALUE for one stack"
            ));
        }
        Ok(ParameterArg {
            stack,
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// A template parameter: its key and whether it has a `Default`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    pub key: String,
    pub has_default: bool,
}

/// The parameters a template declares, sorted by key.
pub fn declared(template: &Value) -> Vec<Declared> {
    template
        .get("Parameters")
        .and_then(Value::as_object)
        .map(|m| {
            // Sorted here, not by the map: serde_json keeps insertion order when any crate of the build enables
            // its preserve_order feature (the SDK's test utilities do).
            let mut declared: Vec<Declared> = m
                .iter()
                .map(|(k, v)| Declared {
                    key: k.clone(),
                    has_default: v.get("Default").is_some(),
                })
                .collect();
            declared.sort_by(|a, b| a.key.cmp(&b.key));
            declared
        })
        .unwrap_or_default()
}

fn names(declared: &[Declared]) -> String {
    if declared.is_empty() {
        "none".to_owned()
    } else {
        declared
            .iter()
            .map(|d| d.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The values given for each deployed stack. `stacks`: the stacks this deploy includes, in order, with what
/// they declare; `app`: every stack name of the app (to tell "not in this deploy" from "no such stack").
/// A `STACK:KEY` value wins over a `KEY` value for every stack.
pub fn resolve(
    args: &[ParameterArg],
    stacks: &[(&str, Vec<Declared>)],
    app: &[&str],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, DeployError> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let declares = |decl: &[Declared], key: &str| decl.iter().any(|d| d.key == key);
    for arg in args.iter().filter(|a| a.stack.is_none()) {
        let mut used = false;
        for (stack, decl) in stacks {
            if declares(decl, &arg.key) {
                out.entry((*stack).to_owned())
                    .or_default()
                    .insert(arg.key.clone(), arg.value.clone());
                used = true;
            }
        }
        if !used {
            return Err(DeployError::UndeclaredParameter {
                parameter: arg.key.clone(),
                declared: stacks
                    .iter()
                    .map(|(s, d)| format!("{s}: {}", names(d)))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
    }
    for arg in args.iter() {
        let Some(stack) = &arg.stack else { continue };
        let Some((_, decl)) = stacks.iter().find(|(s, _)| s == stack) else {
            if app.contains(&stack.as_str()) {
                return Err(DeployError::ParameterForOtherStack {
                    stack: stack.clone(),
                    parameter: arg.key.clone(),
                    deploying: stacks
                        .iter()
                        .map(|(s, _)| *s)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            return Err(DeployError::UnknownStack {
                name: stack.clone(),
                available: app.join(", "),
            });
        };
        if !declares(decl, &arg.key) {
            return Err(DeployError::UnknownParameter {
                stack: stack.clone(),
                parameter: arg.key.clone(),
                declared: names(decl),
            });
        }
        out.entry(stack.clone())
            .or_default()
            .insert(arg.key.clone(), arg.value.clone());
    }
    Ok(out)
}

/// What a stack operation sends for one parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Send {
    Value(String),
    /// UsePreviousValue: the deployed stack's value stays.
    Previous,
}

/// The parameters to send for a stack: the given values; for the rest, the previous value when the stack is
/// deployed with one, else nothing (the template's `Default`). `previous`: the deployed stack's values, `None`
/// when it is created.
pub fn to_send(
    stack: &str,
    declared: &[Declared],
    given: &BTreeMap<String, String>,
    previous: Option<&BTreeMap<String, String>>,
) -> Result<Vec<(String, Send)>, DeployError> {
    let mut out = Vec::new();
    for d in declared {
        if let Some(v) = given.get(&d.key) {
            out.push((d.key.clone(), Send::Value(v.clone())));
        } else if previous.is_some_and(|p| p.contains_key(&d.key)) {
            out.push((d.key.clone(), Send::Previous));
        } else if !d.has_default {
            return Err(DeployError::MissingParameter {
                stack: stack.into(),
                parameter: d.key.clone(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arg(s: &str) -> ParameterArg {
        s.parse().unwrap()
    }

    fn decl(keys: &[&str]) -> Vec<Declared> {
        keys.iter()
            .map(|k| Declared {
                key: (*k).into(),
                has_default: false,
            })
            .collect()
    }

    #[test]
    fn arguments_parse_with_and_without_a_stack_and_values_keep_their_colons() {
        assert_eq!(
            arg("Api:Arn=arn:aws:sns:eu-west-1:1:t=x"),
            ParameterArg {
                stack: Some("Api".into()),
                key: "Arn".into(),
                value: "arn:aws:sns:eu-west-1:1:t=x".into()
            }
        );
        assert_eq!(arg("Size=").stack, None);
        assert_eq!(arg("Size=").value, "");
        let err = "Size".parse::<ParameterArg>().unwrap_err();
        assert!(err.contains("`Size` has no `=`"), "{err}");
        assert!(":Size=1".parse::<ParameterArg>().is_err());
        assert!("Api:=1".parse::<ParameterArg>().is_err());
    }

    #[test]
    fn declared_parameters_come_from_the_template() {
        let t = json!({"Parameters": {"B": {"Type": "String", "Default": "x"}, "A": {"Type": "Number"}}});
        assert_eq!(
            declared(&t),
            [
                Declared {
                    key: "A".into(),
                    has_default: false
                },
                Declared {
                    key: "B".into(),
                    has_default: true
                }
            ]
        );
        assert!(declared(&json!({"Resources": {}})).is_empty());
    }

    #[test]
    fn a_bare_key_goes_to_every_stack_declaring_it_and_a_stack_key_wins() {
        let stacks = [
            ("A", decl(&["Env", "Size"])),
            ("B", decl(&["Env"])),
            ("C", decl(&[])),
        ];
        let got = resolve(
            &[arg("B:Env=prod-b"), arg("Env=prod"), arg("A:Size=3")],
            &stacks,
            &["A", "B", "C"],
        )
        .unwrap();
        let want: BTreeMap<String, BTreeMap<String, String>> = [
            ("A", vec![("Env", "prod"), ("Size", "3")]),
            ("B", vec![("Env", "prod-b")]),
        ]
        .into_iter()
        .map(|(s, kv)| {
            (
                s.to_owned(),
                kv.into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            )
        })
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn unknown_parameters_and_stacks_are_errors_naming_what_is_declared() {
        let stacks = [("A", decl(&["Env", "Size"])), ("C", decl(&[]))];
        let app = ["A", "B", "C"];
        let e = resolve(&[arg("A:Sise=3")], &stacks, &app).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stack A declares no parameter `Sise` (--parameters A:Sise=...); it declares: Env, Size"
        );
        let e = resolve(&[arg("Region=x")], &stacks, &app).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no stack in this deploy declares parameter `Region` (--parameters Region=...); they declare: A: Env, Size; C: none"
        );
        let e = resolve(&[arg("B:Env=x")], &stacks, &app).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "--parameters B:Env=... is for stack B, which this deploy does not include"
            ),
            "{e}"
        );
        let e = resolve(&[arg("Z:Env=x")], &stacks, &app).unwrap_err();
        assert!(e.to_string().starts_with("unknown stack `Z`"), "{e}");
    }

    #[test]
    fn unset_parameters_keep_their_previous_value_or_default_or_are_missing() {
        let declared = vec![
            Declared {
                key: "Given".into(),
                has_default: false,
            },
            Declared {
                key: "Kept".into(),
                has_default: false,
            },
            Declared {
                key: "Defaulted".into(),
                has_default: true,
            },
        ];
        let given = BTreeMap::from([("Given".to_owned(), "1".to_owned())]);
        let previous = BTreeMap::from([("Kept".to_owned(), "2".to_owned())]);
        assert_eq!(
            to_send("S", &declared, &given, Some(&previous)).unwrap(),
            [
                ("Given".to_owned(), Send::Value("1".into())),
                ("Kept".to_owned(), Send::Previous)
            ]
        );
        let e = to_send("S", &declared, &given, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "stack S declares parameter `Kept` without a Default and it has no value yet; pass --parameters S:Kept=VALUE"
        );
    }
}
