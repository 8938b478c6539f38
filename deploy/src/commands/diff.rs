//! `cargo cfn diff`: the synthesized templates against the deployed ones.

use std::collections::BTreeMap;

use cfnkit::synth::manifest::ManifestStack;
use console::style;

use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::cfn::{self, ChangeSet, ChangeSetKind, PlannedChange};
use crate::commands::Found;
use crate::commands::{bootstrap_needed, deployed_template, require_bootstrap, source_for};
use crate::diff;
use crate::drift;
use crate::error::DeployError;
use crate::guard;
use crate::parameters;
use crate::refactor;
use crate::security;
use crate::template;

/// Compare the synthesized templates with the deployed ones (all stacks when none are named).
///
/// Lists added, removed and modified parameters, mappings, conditions, rules, resources and outputs with the
/// property paths that differ, resources recorded as moved (`stack.moved`) as moved, the stateful resources a
/// deploy would refuse to replace or remove, the resources the last drift detection found drifted, then the
/// security changes (IAM statements, resource policies, Lambda permissions, security group rules) as a table.
/// Exit code 0: no differences; 1: differences; 2: an error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to compare (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Also create (and delete) a change set per changed stack, to show which changes replace a resource
    /// (without it, only removals of stateful resources are known).
    #[arg(long)]
    pub change_set: bool,
}

pub async fn run(
    clients: &Clients,
    assembly: &Assembly,
    args: &Args,
) -> Result<Found, DeployError> {
    Ok(
        if diff(clients, assembly, &args.stacks, args.change_set).await? {
            Found::Differences
        } else {
            Found::Nothing
        },
    )
}

/// Prints the diff of each chosen stack against what is deployed; true when any differs.
pub async fn diff(
    clients: &Clients,
    assembly: &Assembly,
    names: &[String],
    with_change_set: bool,
) -> Result<bool, DeployError> {
    // Only the named stacks: a diff does not act on dependencies, so it need not show them.
    let selection: Vec<&ManifestStack> = if names.is_empty() {
        assembly.manifest.stacks.iter().collect()
    } else {
        assembly
            .deploy_selection(names)?
            .into_iter()
            .filter(|s| names.contains(&s.name))
            .collect()
    };
    let moves = refactor::recorded(&assembly.manifest);
    let mut differs = false;
    // Checked once, before the first change set that sends its template through the assets bucket.
    let mut bootstrap_checked = false;
    for stack in selection {
        let body = assembly.template(stack)?;
        let new = template::parse(&body).map_err(|message| DeployError::BadTemplate {
            path: stack.template.clone(),
            message,
        })?;
        let deployed = cfn::describe(&clients.cfn, &stack.name)
            .await?
            .filter(|d| d.status != "REVIEW_IN_PROGRESS");
        let old = match &deployed {
            Some(_) => Some(deployed_template(clients, &stack.name).await?),
            None => None,
        };
        let mut d = diff::diff_templates(old.as_ref(), &new);
        d.apply_moves(&stack.name, &moves, old.as_ref(), &new);
        let mut hazards = guard::from_template_diff(&stack.name, &d);
        if let (true, Some(deployed)) = (with_change_set && !d.is_empty(), &deployed) {
            // A template over the body limit reaches the change set through the assets bucket: the bootstrap
            // stack must be there and recent enough, as for a deploy.
            if let (false, Some(needed_for)) = (bootstrap_checked, bootstrap_needed(&[stack], 0)) {
                require_bootstrap(clients, "diff --change-set", &needed_for).await?;
                bootstrap_checked = true;
            }
            // The change set keeps every parameter's deployed value: the diff is of the template alone.
            let params = parameters::to_send(
                &stack.name,
                &parameters::declared(&new),
                &BTreeMap::new(),
                Some(&deployed.parameters),
            )?;
            let changes = change_set(clients, &stack.name, &body, &stack.tags, &params).await?;
            d.add_replacements(
                &changes
                    .iter()
                    .filter_map(|c| Some((c.logical_id.clone(), c.replacement_note()?)))
                    .collect(),
            );
            // A change set sees a pending move as a removal; the deploy refactors it first, keeping it.
            hazards = guard::from_change_set(&stack.name, &changes)
                .into_iter()
                .filter(|h| !moves.iter().any(|m| m.from == h.address))
                .collect();
        }
        differs |= !d.is_empty();
        print!("{}", diff::render(&stack.name, deployed.is_some(), &d));
        if !hazards.is_empty() {
            println!(
                "  {}",
                style("Stateful resources a deploy would lose (refused without --allow-replace):")
                    .red()
            );
            print!(
                "{}",
                guard::render(&hazards.iter().collect::<Vec<_>>(), &[])
            );
        }
        if let Some(d) = deployed
            .as_ref()
            .filter(|d| d.drift.as_deref() == Some("DRIFTED"))
        {
            let drifted = drift::resource_drifts(&clients.cfn, &d.id).await?;
            if !drifted.is_empty() {
                let mut s = String::new();
                drift::render_resources(&mut s, &drifted);
                println!(
                    "  {}",
                    style(format!(
                        "Drifted resources (changed outside CloudFormation, as the last drift detection found; \
                         `cargo cfn drift {}` checks again, `cargo cfn deploy --revert-drift` puts them back):",
                        stack.name
                    ))
                    .yellow()
                );
                print!("{s}");
            }
        }
        // As `cdk diff`: who may do what, before and after, in one table (what deploy asks approval for).
        let sec = security::diff(old.as_ref(), &new);
        if !sec.is_empty() {
            print!("{}", security::render_table(&stack.name, &sec));
        }
    }
    Ok(differs)
}

/// The changes of a change set, which is deleted right after.
async fn change_set(
    clients: &Clients,
    stack: &str,
    body: &str,
    tags: &BTreeMap<String, String>,
    params: &[(String, parameters::Send)],
) -> Result<Vec<PlannedChange>, DeployError> {
    let source = source_for(clients, stack, body).await?;
    match cfn::create_change_set(
        &clients.cfn,
        stack,
        ChangeSetKind::Update,
        &source,
        tags,
        params,
        false,
    )
    .await?
    {
        ChangeSet::NoChanges => Ok(Vec::new()),
        ChangeSet::Ready { id, changes, .. } => {
            cfn::delete_change_set(&clients.cfn, stack, &id).await?;
            Ok(changes)
        }
    }
}
