//! `cargo cfn drift`: what was changed on the deployed resources outside CloudFormation.

use console::style;

use crate::assembly::Assembly;
use crate::aws::Clients;
use crate::cfn;
use crate::commands::Found;
use crate::drift;
use crate::error::DeployError;

/// Detect drift: resources changed outside CloudFormation since they were deployed (all stacks when none are
/// named).
///
/// Runs CloudFormation's drift detection on each deployed stack and waits for it, then lists the resources that
/// were modified or deleted, with each property path and its template and actual values. `cargo cfn deploy
/// --revert-drift` puts them back as the templates say.
/// Exit code 0: no drift; 1: drift; 2: an error, or a detection that did not finish and found none.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to check (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
}

pub async fn run(
    clients: &Clients,
    assembly: &Assembly,
    args: &Args,
) -> Result<Found, DeployError> {
    let selection: Vec<&str> = if args.stacks.is_empty() {
        assembly
            .manifest
            .stacks
            .iter()
            .map(|s| s.name.as_str())
            .collect()
    } else {
        // Checks the names; a drift check acts on the named stacks only.
        assembly.deploy_selection(&args.stacks)?;
        args.stacks.iter().map(String::as_str).collect()
    };
    let mut found = Found::Nothing;
    let mut undetermined = Vec::new();
    for name in selection {
        match cfn::describe(&clients.cfn, name).await? {
            None => println!("{} {name}: not deployed", style("=").dim()),
            Some(_) => {
                eprintln!("{name}: detecting drift");
                let d = drift::detect(&clients.cfn, name).await?;
                print!("{}", drift::render(&d));
                if d.drifted() {
                    found = Found::Differences;
                } else if let Some(reason) = &d.incomplete {
                    undetermined.push((name.to_owned(), reason.clone()));
                }
            }
        }
    }
    if found == Found::Nothing && !undetermined.is_empty() {
        return Err(DeployError::DriftUndetermined {
            stacks: undetermined
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reasons: undetermined
                .iter()
                .map(|(s, r)| format!("{s}: {r}"))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    Ok(found)
}
