//! `cargo cfn destroy`: the chosen stacks and what depends on them, dependents first.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use console::style;

use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::cfn::{self, Deployed};
use crate::commands::Found;
use crate::commands::{ask, deployed_template, failed};
use crate::error::DeployError;
use crate::events;
use crate::express;
use crate::template;

/// Delete the stacks (all when none are named) and the stacks that depend on them, dependents first.
///
/// Asks for confirmation unless --force; refuses without it when standard input is not a terminal.
/// Resources with DeletionPolicy Retain are kept and listed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to delete, with the stacks that depend on them (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'f', visible_alias = "yes", short_alias = 'y')]
    pub force: bool,
    /// CloudFormation's express mode: each deletion completes once CloudFormation has requested the resources'
    /// deletion, without waiting for them to be gone. Refused, before anything is deleted, for stacks with custom
    /// resources or StackSets.
    #[arg(long)]
    pub express: bool,
}

pub async fn run(
    clients: &Clients,
    assembly: &Assembly,
    args: &Args,
) -> Result<Found, DeployError> {
    destroy(clients, assembly, &args.stacks, args.force, args.express).await?;
    Ok(Found::Nothing)
}

/// Deletes the chosen stacks and what depends on them, dependents first, after confirmation.
pub async fn destroy(
    clients: &Clients,
    assembly: &Assembly,
    names: &[String],
    force: bool,
    express: bool,
) -> Result<(), DeployError> {
    let selection = assembly.destroy_selection(names)?;
    let mut deployed = Vec::new();
    for s in selection {
        match cfn::describe(&clients.cfn, &s.name).await? {
            Some(d) => deployed.push((s.name.clone(), d)),
            None => println!("{} {}: not deployed", style("=").dim(), s.name),
        }
    }
    if deployed.is_empty() {
        return Ok(());
    }
    if express {
        for (name, _) in &deployed {
            express::check(name, &deployed_template(clients, name).await?)?;
        }
    }
    let list = deployed
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if !force && !confirm(&list)? {
        println!("nothing destroyed");
        return Ok(());
    }
    for (name, d) in &deployed {
        destroy_stack(clients, name, d, express).await?;
    }
    Ok(())
}

fn confirm(stacks: &str) -> Result<bool, DeployError> {
    if !std::io::stdin().is_terminal() {
        return Err(DeployError::NeedsConfirmation {
            stacks: stacks.into(),
        });
    }
    ask(&format!("Destroy {stacks} (in this order)?"))
}

async fn destroy_stack(
    clients: &Clients,
    name: &str,
    d: &Deployed,
    express: bool,
) -> Result<(), DeployError> {
    if d.termination_protection {
        return Err(DeployError::TerminationProtected { stack: name.into() });
    }
    eprintln!("{}", style(format!("{name}: destroying")).bold());
    let deployed = deployed_template(clients, name).await?;
    let marker = cfn::latest_event(&clients.cfn, &d.id).await?;
    cfn::delete_stack(&clients.cfn, name, &d.id, express).await?;
    let (status, evts) = cfn::watch(
        &clients.cfn,
        name,
        &d.id,
        marker.as_deref(),
        template::resource_count(&deployed),
        false,
        cfn::Operation::Started,
    )
    .await?;
    if status != "DELETE_COMPLETE" {
        return Err(failed(name, &status, &evts, vec![]));
    }
    println!("{} {name}: destroyed", style("✓").green());
    // The template says what is kept; DELETE_SKIPPED events confirm it where the endpoint emits them.
    let mut kept: BTreeMap<String, String> = template::retained_resources(&deployed)
        .into_iter()
        .collect();
    for id in events::skipped_deletes(&evts) {
        kept.entry(id).or_insert_with(|| "skipped".into());
    }
    for (id, policy) in kept {
        println!(
            "  kept: {id} (DeletionPolicy {policy}); delete it by hand when it is no longer needed"
        );
    }
    Ok(())
}
