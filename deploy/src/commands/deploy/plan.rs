//! What a deploy checks before it changes anything: the recorded moves still to carry out (and that they come
//! alone), and that no stateful resource is replaced or removed without `--allow-replace`.

use std::collections::{BTreeMap, BTreeSet};

use cfnkit::resource_types;
use cfnkit::synth::manifest::ManifestStack;
use console::style;
use serde_json::Value;

use super::{DeployOptions, StackSpec};
use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::cfn::{self, ChangeSet, ChangeSetKind, Deployed};
use crate::commands::{deployed_template, holds_resources, source_for};
use crate::diff;
use crate::error::DeployError;
use crate::events;
use crate::guard::{self, Hazard};
use crate::parameters;
use crate::refactor::{self, Move};

/// What is deployed of each stack of the deploy: the stack and its template (`None` when not deployed).
pub(super) type Current = BTreeMap<String, (Option<Deployed>, Option<Value>)>;

/// The recorded moves still to carry out, checked: every stack they touch is in this deploy, and they come
/// without other changes to those stacks (CloudFormation refactors only moves).
pub(super) async fn moves(
    clients: &Clients,
    assembly: &Assembly,
    chosen: &[&str],
    current: &Current,
    new: &BTreeMap<String, Value>,
) -> Result<Vec<Move>, DeployError> {
    let recorded = refactor::recorded(&assembly.manifest);
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    let mut deployed: BTreeMap<String, Value> = current
        .iter()
        .filter_map(|(name, (_, t))| Some((name.clone(), t.clone()?)))
        .collect();
    // A move may come from a stack outside this deploy: whether it is pending depends on that stack too.
    for m in &recorded {
        if current.contains_key(&m.from.stack) || deployed.contains_key(&m.from.stack) {
            continue;
        }
        let outside = cfn::describe(&clients.cfn, &m.from.stack)
            .await?
            .filter(holds_resources);
        if outside.is_some() {
            deployed.insert(
                m.from.stack.clone(),
                deployed_template(clients, &m.from.stack).await?,
            );
        }
    }
    let pending = refactor::pending(&recorded, &deployed)?;
    if pending.is_empty() {
        return Ok(pending);
    }
    let listed = || {
        pending
            .iter()
            .map(Move::render)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for stack in refactor::stacks(&pending) {
        if chosen.contains(&stack.as_str()) {
            continue;
        }
        let why = if assembly.manifest.stack(&stack).is_some() {
            format!("which this deploy does not include (it deploys {}): name it too, as a refactor moves between the stacks at once", chosen.join(", "))
        } else {
            "which is not in the app: keep it in the app, with what stays in it, for the release that moves \
             resources out of it"
                .to_owned()
        };
        return Err(DeployError::RefactorStackMissing {
            moves: listed(),
            stack,
            why,
        });
    }
    let others = refactor::other_changes(&pending, &deployed, new);
    if !others.is_empty() {
        return Err(DeployError::RefactorMixed {
            moves: listed(),
            changes: others.iter().map(|c| format!("  {c}\n")).collect(),
        });
    }
    Ok(pending)
}

/// Refuses, before anything changes, a deploy that would replace or remove a stateful resource not named with
/// `--allow-replace`. Removals show in the template diff; replacements only in a change set, so one is created
/// (and deleted) for each deployed stack that holds a stateful resource and has changes. The change set each
/// stack is deployed with is checked again (`stack::deploy_stack`), since earlier stacks of the deploy may
/// change what a later one's resolves to. The stacks of a refactor or a hotswap (`skipped`) are skipped: they
/// change only by moves, which keep every resource, or in their functions' code and environment. A review
/// (`--no-execute`) is not refused: its change sets show the same.
pub(super) async fn guard(
    clients: &Clients,
    stacks: &[(&ManifestStack, String, Value)],
    current: &Current,
    skipped: &BTreeSet<String>,
    given: &BTreeMap<String, BTreeMap<String, String>>,
    options: &DeployOptions,
) -> Result<(), DeployError> {
    if !options.execute {
        return Ok(());
    }
    let mut hazards: Vec<Hazard> = Vec::new();
    for (stack, body, new) in stacks.iter().filter(|(s, _, _)| !skipped.contains(&s.name)) {
        let (Some(d), Some(old)) = &current[&stack.name] else {
            continue;
        };
        let changes = diff::diff_templates(Some(old), new);
        let given_values = given.get(&stack.name);
        let parameter_changes =
            given_values.is_some_and(|g| g.iter().any(|(k, v)| d.parameters.get(k) != Some(v)));
        let holds_state =
            template_resource_types(old).any(|t| resource_types::stateful(t).is_some());
        let resources_change = changes.entries.iter().any(|e| e.section == "Resources");
        // A stack in the middle of something cannot take a change set; its own deploy waits or recovers first
        // and checks its change set then.
        // Reverting drift changes resources even when the template does not.
        if holds_state
            && (resources_change || parameter_changes || options.revert_drift)
            && events::is_settled(&d.status)
            && d.status != "UPDATE_ROLLBACK_FAILED"
        {
            let source = source_for(clients, &stack.name, body).await?;
            let params = parameters::to_send(
                &stack.name,
                &parameters::declared(new),
                given_values.unwrap_or(&BTreeMap::new()),
                Some(&d.parameters),
            )?;
            let kind = if options.revert_drift {
                ChangeSetKind::UpdateRevertingDrift
            } else {
                ChangeSetKind::Update
            };
            match cfn::create_change_set(
                &clients.cfn,
                &stack.name,
                kind,
                &source,
                &stack.tags,
                &params,
                // Only looked at, then deleted.
                false,
            )
            .await?
            {
                ChangeSet::NoChanges => {}
                ChangeSet::Ready { id, changes, .. } => {
                    cfn::delete_change_set(&clients.cfn, &stack.name, &id).await?;
                    hazards.extend(guard::from_change_set(&stack.name, &changes));
                }
            }
        } else {
            hazards.extend(guard::from_template_diff(&stack.name, &changes));
        }
    }
    let refused = guard::refused(&hazards, &options.allow_replace);
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refusal(&refused))
    }
}

/// The error that names each refused resource and the flags that would let it through.
pub(super) fn refusal(refused: &[&Hazard]) -> DeployError {
    DeployError::GuardRefused {
        count: refused.len(),
        lines: guard::render(refused, &[]),
        allow: refused
            .iter()
            .map(|h| format!("--allow-replace {}", h.address))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn template_resource_types(template: &Value) -> impl Iterator<Item = &str> {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|r| r.values())
        .filter_map(|r| r.get("Type").and_then(Value::as_str))
}

/// Creates the refactor of `moves` with the new templates of its stacks, shows what it will do, and executes it
/// unless this is a review (`--no-execute`). Returns whether it was executed.
pub(super) async fn refactor(
    clients: &Clients,
    moves: &[Move],
    specs: &[StackSpec],
    create_stacks: bool,
    execute: bool,
) -> Result<bool, DeployError> {
    let stacks = refactor::stacks(moves);
    let mut definitions = Vec::new();
    for spec in specs.iter().filter(|s| stacks.contains(&s.name)) {
        definitions.push((
            spec.name.clone(),
            source_for(clients, &spec.name, &spec.body).await?,
        ));
    }
    eprintln!(
        "{}",
        style(format!(
            "refactor: moving {} (CloudFormation stack refactoring; the resources are kept)",
            moves
                .iter()
                .map(Move::render)
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bold()
    );
    let (id, actions) = refactor::create(&clients.cfn, moves, &definitions, create_stacks).await?;
    for a in &actions {
        eprintln!("  {} {} {}", a.action, a.entity, a.description);
    }
    if !execute {
        println!(
            "{} refactor {id} created, not executed; review it, then `aws cloudformation execute-stack-refactor \
             --stack-refactor-id {id}`, or deploy again",
            style("?").yellow()
        );
        return Ok(false);
    }
    refactor::execute(&clients.cfn, &id, moves).await?;
    for m in moves {
        println!("{} moved {}", style("✓").green(), m.render());
    }
    Ok(true)
}
