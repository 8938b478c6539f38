//! `cargo cfn diff`: the synthesized templates against the deployed ones.

use std::collections::BTreeMap;

use cfnkit::synth::manifest::ManifestStack;

use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::cfn::{self, ChangeSet};
use crate::commands::Found;
use crate::commands::{bootstrap_needed, deployed_template, require_bootstrap, source_for};
use crate::diff::{self, Replacement};
use crate::error::DeployError;
use crate::parameters;
use crate::security;
use crate::template;

/// Compare the synthesized templates with the deployed ones (all stacks when none are named).
///
/// Lists added, removed and modified parameters, mappings, conditions, rules, resources and outputs with the
/// property paths that differ, then the security changes (IAM statements, resource policies, Lambda
/// permissions, security group rules) as a table.
/// Exit code 0: no differences; 1: differences; 2: an error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to compare (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Also create (and delete) a change set per changed stack, to show which changes replace a resource.
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
            d.add_replacements(
                &replacements(clients, &stack.name, &body, &stack.tags, &params).await?,
            );
        }
        differs |= !d.is_empty();
        print!("{}", diff::render(&stack.name, deployed.is_some(), &d));
        // As `cdk diff`: who may do what, before and after, in one table (what deploy asks approval for).
        let sec = security::diff(old.as_ref(), &new);
        if !sec.is_empty() {
            print!("{}", security::render_table(&stack.name, &sec));
        }
    }
    Ok(differs)
}

/// What a change set says about replacements; the change set is deleted right after.
async fn replacements(
    clients: &Clients,
    stack: &str,
    body: &str,
    tags: &BTreeMap<String, String>,
    params: &[(String, parameters::Send)],
) -> Result<BTreeMap<String, Replacement>, DeployError> {
    let source = source_for(clients, stack, body).await?;
    match cfn::create_change_set(&clients.cfn, stack, false, &source, tags, params).await? {
        ChangeSet::NoChanges => Ok(BTreeMap::new()),
        ChangeSet::Ready { id, changes, .. } => {
            cfn::delete_change_set(&clients.cfn, stack, &id).await?;
            Ok(changes
                .into_iter()
                .filter_map(|c| Some((c.logical_id, c.replacement?)))
                .collect())
        }
    }
}
