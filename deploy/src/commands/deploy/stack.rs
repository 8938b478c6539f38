//! Deploying one stack: recover it if the last operation left it unusable, compute its change set, check the
//! guard on it, set the stack policy, execute, wait, and report how it ended.

use console::style;

use super::{plan, DeployOptions, Method, Outcome, StackSpec};
use crate::aws::Clients;
use crate::cfn::{self, ChangeSet, ChangeSetKind, Deployed, Operation, Policies};
use crate::commands::{deployed_template, failed, holds_resources, source_for};
use crate::diff;
use crate::error::DeployError;
use crate::events::{self, Event};
use crate::express;
use crate::guard;
use crate::parameters;
use crate::recover;
use crate::template;
use crate::validation::{self, Failed, Finding};

/// Deploys one stack and waits for it. Success is reported only for CREATE_COMPLETE or UPDATE_COMPLETE.
pub async fn deploy_stack(
    clients: &Clients,
    spec: &StackSpec,
    options: &DeployOptions,
) -> Result<Outcome, DeployError> {
    let name = spec.name.as_str();
    // Stacks deploying at once interleave their event lines: each line then starts with its stack's name.
    let prefixed = options.concurrency > 1;
    eprintln!("{}", style(format!("{name}: deploying")).bold());
    let existing = recover::prepare(clients, name, prefixed, &options.rollbacks(name)).await?;
    let source = source_for(clients, name, &spec.body).await?;
    let new = template::parse(&spec.body).map_err(|message| DeployError::BadTemplate {
        path: name.into(),
        message,
    })?;
    if options.express {
        express::check(name, &new)?;
    }
    let updating = existing.as_ref().filter(|d| holds_resources(d));
    let params = parameters::to_send(
        name,
        &parameters::declared(&new),
        &spec.parameters,
        updating.map(|d| &d.parameters),
    )?;
    let allowed: Vec<&str> = options
        .allow_replace
        .iter()
        .filter(|a| a.stack == name)
        .map(|a| a.logical_id.as_str())
        .collect();
    let token = cfn::request_token();
    let (stack_id, marker, total) = match options.method {
        Method::ChangeSet => {
            let kind = match (updating, options.revert_drift) {
                (None, _) => ChangeSetKind::Create,
                (Some(_), true) => ChangeSetKind::UpdateRevertingDrift,
                (Some(_), false) => ChangeSetKind::Update,
            };
            let (id, stack_id, changes) = match cfn::create_change_set(
                &clients.cfn,
                name,
                kind,
                &source,
                &spec.tags,
                &params,
                options.express,
            )
            .await?
            {
                ChangeSet::NoChanges => {
                    if let Some(d) = updating {
                        // A stack deployed before the guard existed, or by other means, gets its policy now.
                        ensure_policy(clients, name, &[]).await?;
                        sync_termination_protection(clients, name, d, spec.termination_protection)
                            .await?;
                    }
                    return Ok(Outcome::NoChanges);
                }
                ChangeSet::Ready {
                    id,
                    stack_id,
                    changes,
                } => (id, stack_id, changes),
            };
            let hazards = guard::from_change_set(name, &changes);
            if !options.execute {
                return Ok(Outcome::ChangeSetCreated {
                    id,
                    changes,
                    hazards,
                });
            }
            let refused = guard::refused(&hazards, &options.allow_replace);
            if !refused.is_empty() {
                cfn::delete_change_set(&clients.cfn, name, &id).await?;
                return Err(plan::refusal(&refused));
            }
            if updating.is_some() {
                ensure_policy(clients, name, &allowed).await?;
            }
            let marker = cfn::latest_event(&clients.cfn, &stack_id).await?;
            cfn::execute_change_set(&clients.cfn, name, &id, &token).await?;
            (stack_id, marker, changes.len())
        }
        Method::Direct => {
            let deployed = match updating {
                Some(_) => Some(deployed_template(clients, name).await?),
                None => None,
            };
            // UpdateStack does not say "no changes" on every endpoint; comparing first makes it certain.
            if let (Some(d), Some(old)) = (updating, &deployed) {
                let same_parameters = spec
                    .parameters
                    .iter()
                    .all(|(k, v)| d.parameters.get(k) == Some(v));
                if *old == new && d.tags == spec.tags && same_parameters {
                    ensure_policy(clients, name, &[]).await?;
                    sync_termination_protection(clients, name, d, spec.termination_protection)
                        .await?;
                    return Ok(Outcome::NoChanges);
                }
            }
            let marker = match &existing {
                Some(d) => cfn::latest_event(&clients.cfn, &d.id).await?,
                None => None,
            };
            // UpdateStack carries both policies: the one the stack keeps, and the one lifting the guard for the
            // resources --allow-replace names, for this update only.
            let policies = Policies {
                stack: guard::stack_policy(&[]).to_string(),
                during_update: (!allowed.is_empty())
                    .then(|| guard::stack_policy(&allowed).to_string()),
            };
            let Some(stack_id) = cfn::deploy_direct(
                &clients.cfn,
                name,
                updating,
                &source,
                &spec.tags,
                &params,
                spec.termination_protection,
                &policies,
                &token,
                options.express,
            )
            .await?
            else {
                return Ok(Outcome::NoChanges);
            };
            let total = diff::diff_templates(deployed.as_ref(), &new)
                .entries
                .iter()
                .filter(|e| e.section == "Resources")
                .count();
            (stack_id, marker, total)
        }
    };
    let watched = cfn::watch(
        &clients.cfn,
        name,
        &stack_id,
        marker.as_deref(),
        total,
        prefixed,
        Operation::Started,
    )
    .await;
    // The guard goes back on whatever happened: a lifted policy must not outlive its update. A change set's
    // create sets it here too (CreateChangeSet takes no policy).
    let emptied = watched.as_ref().is_ok_and(|(s, _)| {
        matches!(
            s.as_str(),
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" | "DELETE_COMPLETE"
        )
    });
    if options.method == Method::ChangeSet && !emptied {
        if let Err(e) = ensure_policy(clients, &stack_id, &[]).await {
            eprintln!(
                "{} {name}: the stack policy could not be set ({e}); the next deploy sets it",
                style("warning:").yellow().bold()
            );
        }
    }
    let (status, evts) = watched?;
    if !events::is_deploy_success(&status) {
        let findings = operation_findings(clients, name, &evts, &token).await;
        return Err(failed(name, &status, &evts, findings));
    }
    let deployed = cfn::describe(&clients.cfn, &stack_id)
        .await?
        .ok_or_else(|| DeployError::StackFailed {
            stack: name.into(),
            status: "DELETE_COMPLETE".into(),
            note: " (deleted while deploying)".into(),
            failures: vec![],
            findings: vec![],
        })?;
    sync_termination_protection(clients, name, &deployed, spec.termination_protection).await?;
    Ok(Outcome::Deployed {
        status,
        outputs: deployed.outputs,
    })
}

/// The early-validation findings of the operation this deploy started: its ID is on its events (the ones with
/// this deploy's token, or any of the watched ones on an endpoint that does not echo tokens).
async fn operation_findings(
    clients: &Clients,
    name: &str,
    evts: &[Event],
    token: &str,
) -> Vec<Finding> {
    let ours = evts
        .iter()
        .find(|e| e.token.as_deref() == Some(token) && e.operation_id.is_some())
        .or_else(|| evts.iter().find(|e| e.operation_id.is_some()));
    let Some(id) = ours.and_then(|e| e.operation_id.as_deref()) else {
        return Vec::new();
    };
    validation::findings(&clients.cfn, Failed::Operation { stack: name, id })
        .await
        .unwrap_or_default()
}

/// Gives the stack the guard's policy (`except`: logical IDs this update may replace or remove) unless it has
/// it already, so endpoints are asked to change it only when it differs. cfnkit owns the stack policy of the
/// stacks it deploys.
async fn ensure_policy(clients: &Clients, stack: &str, except: &[&str]) -> Result<(), DeployError> {
    let wanted = guard::stack_policy(except);
    let current = cfn::stack_policy(&clients.cfn, stack).await?;
    let same = current
        .as_deref()
        .and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
        .is_some_and(|c| c == wanted);
    if !same {
        cfn::set_stack_policy(&clients.cfn, stack, &wanted.to_string()).await?;
    }
    Ok(())
}

/// Termination protection is a stack setting outside the template; only changed when it differs, so that
/// endpoints without the call (moto) are not asked.
async fn sync_termination_protection(
    clients: &Clients,
    name: &str,
    d: &Deployed,
    wanted: bool,
) -> Result<(), DeployError> {
    if d.termination_protection != wanted {
        cfn::set_termination_protection(&clients.cfn, name, wanted).await?;
    }
    Ok(())
}
