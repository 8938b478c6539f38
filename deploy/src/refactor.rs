//! Moving deployed resources instead of replacing them: a rename of a logical ID or a move to another stack,
//! recorded at synth with `Stack::moved` (the manifest's `moves`), is carried out with CloudFormation's stack
//! refactoring (CreateStackRefactor, DescribeStackRefactor, ListStackRefactorActions, ExecuteStackRefactor),
//! so the resource keeps its physical ID and its data, where the templates alone would read as delete and
//! create. CloudFormation refactors only moves, so a refactor mixed with other changes is refused here first,
//! naming those changes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_cloudformation::types::{
    ResourceLocation, ResourceMapping, StackDefinition, StackRefactorExecutionStatus,
    StackRefactorStatus,
};
use aws_sdk_cloudformation::Client;
use serde_json::{Map, Value};

use crate::address::ResourceAddress;
use crate::assembly::Manifest;
use crate::cfn::TemplateSource;
use crate::diff::SECTIONS;
use crate::error::DeployError;
use crate::template::is_intrinsic;

const POLL: Duration = Duration::from_millis(1500);

/// A resource that was at `from` in the deployed stacks and is at `to` in the synthesized ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub from: ResourceAddress,
    pub to: ResourceAddress,
}

impl Move {
    /// `Order/OldTable -> Order/OrdersTable`.
    pub fn render(&self) -> String {
        format!("{} -> {}", self.from, self.to)
    }
}

/// The moves the manifest records (`Stack::moved`), whether or not they have happened.
pub fn recorded(manifest: &Manifest) -> Vec<Move> {
    manifest
        .stacks
        .iter()
        .flat_map(|s| {
            s.moves.iter().map(|m| Move {
                from: ResourceAddress {
                    stack: m.from_stack.clone(),
                    logical_id: m.from.clone(),
                },
                to: ResourceAddress {
                    stack: s.name.clone(),
                    logical_id: m.to.clone(),
                },
            })
        })
        .collect()
}

fn has_resource(deployed: &BTreeMap<String, Value>, at: &ResourceAddress) -> bool {
    deployed
        .get(&at.stack)
        .and_then(|t| t.get("Resources"))
        .and_then(|r| r.get(&at.logical_id))
        .is_some()
}

/// The recorded moves still to do: the resource is deployed at `from` and nothing is at `to` yet. A move whose
/// resource is already at `to` is done; one with nothing at `from` has nothing to move (the deploy creates the
/// resource). `deployed`: the deployed template of every deployed stack of the app.
pub fn pending(
    moves: &[Move],
    deployed: &BTreeMap<String, Value>,
) -> Result<Vec<Move>, DeployError> {
    let mut out = Vec::new();
    for m in moves {
        match (
            has_resource(deployed, &m.from),
            has_resource(deployed, &m.to),
        ) {
            (true, false) => out.push(m.clone()),
            (true, true) => {
                return Err(DeployError::RefactorConflict {
                    from: m.from.to_string(),
                    to: m.to.to_string(),
                })
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The stacks a refactor of `moves` changes, sorted.
pub fn stacks(moves: &[Move]) -> BTreeSet<String> {
    moves
        .iter()
        .flat_map(|m| [m.from.stack.clone(), m.to.stack.clone()])
        .collect()
}

/// The changes to the stacks of `moves` other than the moves, one line each: what CloudFormation would refuse
/// in a refactor. Resource bodies are compared with the moved logical IDs renamed, and a reference that a move
/// rewires (a `Ref` or `Fn::GetAtt` of a moved resource, an `Fn::ImportValue` in its place across stacks, an
/// export of it) counts as part of the move.
pub fn other_changes(
    moves: &[Move],
    deployed: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
) -> Vec<String> {
    let empty = Value::Object(Map::new());
    let moved: BTreeSet<&str> = moves
        .iter()
        .flat_map(|m| [m.from.logical_id.as_str(), m.to.logical_id.as_str()])
        .collect();
    let mut out = Vec::new();
    for stack in stacks(moves) {
        let old = deployed.get(&stack).unwrap_or(&empty);
        let Some(new) = new.get(&stack) else {
            continue;
        };
        let renames: BTreeMap<&str, &str> = moves
            .iter()
            .filter(|m| m.from.stack == stack && m.to.stack == stack)
            .map(|m| (m.from.logical_id.as_str(), m.to.logical_id.as_str()))
            .collect();
        let old_resources = resources(old);
        let new_resources = resources(new);
        // Each resource of the new template, with the body it had before the moves.
        let mut expected: BTreeMap<String, &Value> = BTreeMap::new();
        for (id, body) in old_resources {
            let moved_out = moves
                .iter()
                .any(|m| m.from.stack == stack && m.from.logical_id == *id && m.to.stack != stack);
            if !moved_out {
                let id = renames.get(id.as_str()).copied().unwrap_or(id);
                expected.insert(id.to_owned(), body);
            }
        }
        for m in moves
            .iter()
            .filter(|m| m.to.stack == stack && m.from.stack != stack)
        {
            if let Some(body) = deployed
                .get(&m.from.stack)
                .and_then(|t| t.get("Resources"))
                .and_then(|r| r.get(&m.from.logical_id))
            {
                expected.insert(m.to.logical_id.clone(), body);
            }
        }
        for (id, before) in &expected {
            match new_resources.get(id) {
                None => out.push(format!("{stack}: removes resource {id}")),
                Some(after) => {
                    let before = rename_references(before, &renames);
                    if !equivalent(&before, after, &moved) {
                        out.push(format!("{stack}: changes resource {id}"));
                    }
                }
            }
        }
        let added: BTreeSet<&String> = new_resources
            .keys()
            .filter(|id| !expected.contains_key(*id))
            .collect();
        for id in added {
            out.push(format!("{stack}: adds resource {id}"));
        }
        for section in SECTIONS.iter().filter(|s| **s != "Resources") {
            let (a, b) = (entries(old, section), entries(new, section));
            let ids: BTreeSet<&String> = a.keys().chain(b.keys()).copied().collect();
            for id in ids {
                let (before, after) = (a.get(id), b.get(id));
                if before == after {
                    continue;
                }
                // Exports follow the resources they export, so an output of a moved resource may come and go.
                let follows_a_move = *section == "Outputs"
                    && [before, after]
                        .into_iter()
                        .flatten()
                        .any(|v| mentions(v, &moved));
                if !follows_a_move {
                    out.push(format!("{stack}: changes {section} {id}"));
                }
            }
        }
        for key in top_level_keys(old, new) {
            if old.get(&key) != new.get(&key) {
                out.push(format!("{stack}: changes {key}"));
            }
        }
    }
    out
}

fn resources(template: &Value) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn entries<'t>(template: &'t Value, section: &str) -> BTreeMap<&'t String, &'t Value> {
    template
        .get(section)
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

fn top_level_keys(a: &Value, b: &Value) -> BTreeSet<String> {
    [a, b]
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys().cloned())
        .filter(|k| !SECTIONS.contains(&k.as_str()))
        .collect()
}

/// `value` with references to renamed logical IDs (`Ref`, `Fn::GetAtt`, `${X}` in `Fn::Sub`, `DependsOn`)
/// pointing at the new IDs.
fn rename_references(value: &Value, renames: &BTreeMap<&str, &str>) -> Value {
    let rename = |id: &str| renames.get(id).copied().unwrap_or(id).to_owned();
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("Ref" | "DependsOn", Value::String(id)) => Value::String(rename(id)),
                        ("DependsOn", Value::Array(ids)) => Value::Array(
                            ids.iter()
                                .map(|id| match id {
                                    Value::String(id) => Value::String(rename(id)),
                                    other => other.clone(),
                                })
                                .collect(),
                        ),
                        ("Fn::GetAtt", Value::Array(parts)) if !parts.is_empty() => {
                            let mut parts = parts.clone();
                            if let Value::String(id) = &parts[0] {
                                parts[0] = Value::String(rename(id));
                            }
                            Value::Array(parts)
                        }
                        ("Fn::GetAtt", Value::String(dotted)) => {
                            let (id, attribute) = dotted.split_once('.').unwrap_or((dotted, ""));
                            Value::String(format!("{}.{attribute}", rename(id)))
                        }
                        ("Fn::Sub", Value::String(text)) => {
                            Value::String(rename_in_sub(text, renames))
                        }
                        ("Fn::Sub", Value::Array(parts)) if !parts.is_empty() => {
                            let mut parts: Vec<Value> = parts
                                .iter()
                                .map(|p| rename_references(p, renames))
                                .collect();
                            if let Value::String(text) = &parts[0] {
                                parts[0] = Value::String(rename_in_sub(text, renames));
                            }
                            Value::Array(parts)
                        }
                        _ => rename_references(v, renames),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| rename_references(v, renames))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `${Old}` and `${Old.Attr}` in an `Fn::Sub` string, renamed.
fn rename_in_sub(text: &str, renames: &BTreeMap<&str, &str>) -> String {
    let mut out = text.to_owned();
    for (from, to) in renames {
        out = out
            .replace(&format!("${{{from}}}"), &format!("${{{to}}}"))
            .replace(&format!("${{{from}."), &format!("${{{to}."));
    }
    out
}

/// Whether `value` names one of `ids` in a reference (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `DependsOn`).
fn mentions(value: &Value, ids: &BTreeSet<&str>) -> bool {
    match value {
        Value::Object(m) => m.iter().any(|(k, v)| match (k.as_str(), v) {
            ("Ref" | "DependsOn", Value::String(id)) => ids.contains(id.as_str()),
            ("Fn::GetAtt", Value::Array(parts)) => parts
                .first()
                .and_then(Value::as_str)
                .is_some_and(|id| ids.contains(id)),
            ("Fn::GetAtt", Value::String(dotted)) => {
                ids.contains(dotted.split('.').next().unwrap_or_default())
            }
            ("Fn::Sub", _) => {
                let text = match v {
                    Value::String(t) => Some(t.as_str()),
                    Value::Array(parts) => parts.first().and_then(Value::as_str),
                    _ => None,
                };
                text.is_some_and(|t| {
                    ids.iter().any(|id| {
                        t.contains(&format!("${{{id}}}")) || t.contains(&format!("${{{id}."))
                    })
                }) || mentions(v, ids)
            }
            _ => mentions(v, ids),
        }),
        Value::Array(items) => items.iter().any(|v| mentions(v, ids)),
        _ => false,
    }
}

fn is_import(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.len() == 1 && m.contains_key("Fn::ImportValue"))
}

/// Equal, but for references a move rewires: where the two differ, one side references a moved resource and the
/// other does too, or imports the value from another stack (the reference became, or stopped being, an import).
/// `DependsOn` on a moved resource may come and go (it cannot cross stacks).
fn equivalent(a: &Value, b: &Value, moved: &BTreeSet<&str>) -> bool {
    if a == b {
        return true;
    }
    let rewired = |x: &Value, y: &Value| mentions(x, moved) && (mentions(y, moved) || is_import(y));
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if is_intrinsic(x) || is_intrinsic(y) => {
            rewired(a, b) || rewired(b, a)
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) if k == "DependsOn" => {
                    depends_on(p, moved) == depends_on(q, moved)
                }
                (Some(p), None) | (None, Some(p)) if k == "DependsOn" => {
                    depends_on(p, moved).is_empty()
                }
                (Some(p), Some(q)) => equivalent(p, q, moved),
                _ => false,
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equivalent(p, q, moved))
        }
        _ => false,
    }
}

/// The `DependsOn` IDs, without moved resources.
fn depends_on<'v>(value: &'v Value, moved: &BTreeSet<&str>) -> BTreeSet<&'v str> {
    let ids: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    ids.into_iter().filter(|id| !moved.contains(id)).collect()
}

/// What CloudFormation will do, from ListStackRefactorActions: `MOVE RESOURCE Order/OldTable -> ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub action: String,
    pub entity: String,
    pub description: String,
}

/// Creates the refactor and waits until CloudFormation has validated it; a refactor CloudFormation refuses is
/// deleted by it and reported with its reason. `stacks`: the new template of every stack the moves touch.
/// Returns the refactor's ID and its actions.
pub async fn create(
    cfn: &Client,
    moves: &[Move],
    stacks: &[(String, TemplateSource)],
    create_stacks: bool,
) -> Result<(String, Vec<Action>), DeployError> {
    let location = |at: &ResourceAddress| {
        ResourceLocation::builder()
            .stack_name(&at.stack)
            .logical_resource_id(&at.logical_id)
            .build()
    };
    let subject = || {
        moves
            .iter()
            .map(Move::render)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut req = cfn
        .create_stack_refactor()
        .description("cfnkit deploy: moves recorded with Stack::moved")
        .enable_stack_creation(create_stacks);
    for m in moves {
        req = req.resource_mappings(
            ResourceMapping::builder()
                .source(location(&m.from))
                .destination(location(&m.to))
                .build(),
        );
    }
    for (name, source) in stacks {
        let def = StackDefinition::builder().stack_name(name);
        req = req.stack_definitions(match source {
            TemplateSource::Body(b) => def.template_body(b).build(),
            TemplateSource::Url(u) => def.template_url(u).build(),
        });
    }
    let id = req
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:CreateStackRefactor", subject(), e))?
        .stack_refactor_id()
        .unwrap_or_default()
        .to_owned();
    loop {
        let out = cfn
            .describe_stack_refactor()
            .stack_refactor_id(&id)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:DescribeStackRefactor", &id, e))?;
        match out.status() {
            Some(StackRefactorStatus::CreateComplete) => break,
            Some(StackRefactorStatus::CreateFailed) => {
                return Err(DeployError::RefactorFailed {
                    id,
                    moves: subject(),
                    status: "CREATE_FAILED".into(),
                    reason: out.status_reason().unwrap_or("no reason given").into(),
                })
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
    let mut actions = Vec::new();
    let mut token = None;
    loop {
        let out = cfn
            .list_stack_refactor_actions()
            .stack_refactor_id(&id)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:ListStackRefactorActions", &id, e))?;
        actions.extend(out.stack_refactor_actions().iter().map(|a| {
            Action {
                action: a
                    .action()
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                entity: a
                    .entity()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                description: a.description().unwrap_or_default().to_owned(),
            }
        }));
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok((id, actions))
}

/// Executes a created refactor and waits for it. A refactor that fails is rolled back by CloudFormation; the
/// error says how it ended and why.
pub async fn execute(cfn: &Client, id: &str, moves: &[Move]) -> Result<(), DeployError> {
    cfn.execute_stack_refactor()
        .stack_refactor_id(id)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:ExecuteStackRefactor", id, e))?;
    loop {
        let out = cfn
            .describe_stack_refactor()
            .stack_refactor_id(id)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:DescribeStackRefactor", id, e))?;
        match out.execution_status() {
            Some(StackRefactorExecutionStatus::ExecuteComplete) => return Ok(()),
            Some(
                s @ (StackRefactorExecutionStatus::ExecuteFailed
                | StackRefactorExecutionStatus::RollbackComplete
                | StackRefactorExecutionStatus::RollbackFailed
                | StackRefactorExecutionStatus::Obsolete
                | StackRefactorExecutionStatus::Unavailable),
            ) => {
                return Err(DeployError::RefactorFailed {
                    id: id.into(),
                    moves: moves
                        .iter()
                        .map(Move::render)
                        .collect::<Vec<_>>()
                        .join(", "),
                    status: s.as_str().into(),
                    reason: out
                        .execution_status_reason()
                        .unwrap_or("no reason given")
                        .into(),
                })
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> ResourceAddress {
        s.parse().unwrap()
    }

    fn mv(from: &str, to: &str) -> Move {
        Move {
            from: at(from),
            to: at(to),
        }
    }

    fn templates(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn table() -> Value {
        json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {"BillingMode": "PAY_PER_REQUEST"}})
    }

    /// The table's old and new logical IDs, and a function reading it by `Ref` and `Fn::GetAtt`.
    fn data(table_id: &str, timeout: u32) -> Value {
        json!({"Resources": {
            table_id: table(),
            "Reader": {"Type": "AWS::Lambda::Function", "DependsOn": [table_id], "Properties": {
                "Timeout": timeout,
                "Environment": {"Variables": {"TABLE": {"Ref": table_id}, "ARN": {"Fn::GetAtt": [table_id, "Arn"]},
                    "URL": {"Fn::Sub": format!("https://x/${{{table_id}}}/${{{table_id}.StreamArn}}")}}},
            }},
        }})
    }

    #[test]
    fn a_move_is_pending_until_the_resource_is_at_its_new_id() {
        let moves = [mv("Data/Table", "Data/OrdersTable")];
        let before = templates(&[("Data", data("Table", 3))]);
        assert_eq!(pending(&moves, &before).unwrap(), moves);
        let after = templates(&[("Data", data("OrdersTable", 3))]);
        assert_eq!(pending(&moves, &after).unwrap(), []);
        assert_eq!(pending(&moves, &BTreeMap::new()).unwrap(), []);
        let both = templates(&[(
            "Data",
            json!({"Resources": {"Table": table(), "OrdersTable": table()}}),
        )]);
        let err = pending(&moves, &both).unwrap_err().to_string();
        assert!(
            err.starts_with("both Data/Table and Data/OrdersTable are deployed"),
            "{err}"
        );
    }

    #[test]
    fn a_rename_with_its_references_rewritten_is_only_a_move() {
        let moves = [mv("Data/Table", "Data/OrdersTable")];
        let deployed = templates(&[("Data", data("Table", 3))]);
        let new = templates(&[("Data", data("OrdersTable", 3))]);
        assert_eq!(other_changes(&moves, &deployed, &new), Vec::<String>::new());
    }

    #[test]
    fn a_rename_with_another_change_is_refused_naming_the_change() {
        let moves = [mv("Data/Table", "Data/OrdersTable")];
        let deployed = templates(&[("Data", data("Table", 3))]);
        let mut changed = data("OrdersTable", 30);
        changed["Resources"]["Queue"] = json!({"Type": "AWS::SQS::Queue"});
        changed["Outputs"] = json!({"Other": {"Value": "x"}});
        let new = templates(&[("Data", changed)]);
        assert_eq!(
            other_changes(&moves, &deployed, &new),
            [
                "Data: changes resource Reader",
                "Data: adds resource Queue",
                "Data: changes Outputs Other"
            ]
        );
    }

    #[test]
    fn a_move_across_stacks_may_turn_references_into_imports_and_exports() {
        let moves = [mv("Legacy/Table", "Data/OrdersTable")];
        let deployed = templates(&[
            (
                "Legacy",
                json!({"Resources": {
                    "Table": table(),
                    "Reader": {"Type": "AWS::Lambda::Function", "DependsOn": "Table", "Properties": {"Environment": {"Variables": {"T": {"Ref": "Table"}}}}},
                }}),
            ),
            (
                "Data",
                json!({"Resources": {"Key": {"Type": "AWS::KMS::Key"}}}),
            ),
        ]);
        let new = templates(&[
            (
                "Legacy",
                json!({"Resources": {
                    "Reader": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {"T": {"Fn::ImportValue": "Data:OrdersTable:Ref"}}}}},
                }}),
            ),
            (
                "Data",
                json!({"Resources": {"Key": {"Type": "AWS::KMS::Key"}, "OrdersTable": table()},
                       "Outputs": {"ExportOrdersTableRef": {"Value": {"Ref": "OrdersTable"}, "Export": {"Name": "Data:OrdersTable:Ref"}}}}),
            ),
        ]);
        assert_eq!(other_changes(&moves, &deployed, &new), Vec::<String>::new());

        // The moved table's own properties must not change on the way.
        let mut changed = new.clone();
        changed.get_mut("Data").unwrap()["Resources"]["OrdersTable"]["Properties"]["BillingMode"] =
            json!("PROVISIONED");
        assert_eq!(
            other_changes(&moves, &deployed, &changed),
            ["Data: changes resource OrdersTable"]
        );
    }

    #[test]
    fn references_in_sub_strings_and_dotted_get_att_are_renamed() {
        let renames = BTreeMap::from([("Table", "OrdersTable")]);
        let renamed = rename_references(
            &json!({"A": {"Fn::Sub": "${Table}/${Table.Arn}/${TableX}"}, "B": {"Fn::GetAtt": "Table.Arn"}}),
            &renames,
        );
        assert_eq!(
            renamed,
            json!({"A": {"Fn::Sub": "${OrdersTable}/${OrdersTable.Arn}/${TableX}"}, "B": {"Fn::GetAtt": "OrdersTable.Arn"}})
        );
    }
}
