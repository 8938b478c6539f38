//! What a deploy prints for each stack on stdout.

use console::style;

use super::Outcome;
use crate::guard;

pub(crate) fn report(stack: &str, outcome: &Outcome) {
    match outcome {
        Outcome::NoChanges => println!("{} {stack}: no changes", style("=").dim()),
        Outcome::Deployed { status, outputs } => {
            println!("{} {stack}: {status}", style("✓").green());
            for (k, v) in outputs {
                println!("  {stack}.{k} = {v}");
            }
        }
        Outcome::Hotswapped { functions, drifted } => {
            if functions.is_empty() {
                println!(
                    "{} {stack}: its functions already run as the template says",
                    style("⚡").yellow()
                );
            } else {
                println!(
                    "{} {stack}: hotswapped {}",
                    style("⚡").yellow(),
                    functions.join(", ")
                );
            }
            if *drifted {
                println!(
                    "  {stack} has drifted from its template in CloudFormation until the next deploy without --hotswap"
                );
            }
        }
        Outcome::AwaitsRefactor => println!(
            "{} {stack}: its change set comes after the refactor above is executed",
            style("?").yellow()
        ),
        Outcome::ChangeSetCreated {
            id,
            changes,
            hazards,
        } => {
            println!(
                "{} {stack}: change set created, not executed ({} change(s))",
                style("?").yellow(),
                changes.len()
            );
            for c in changes {
                let replacement = match c.replacement.as_deref() {
                    Some("True") => " (replacement)",
                    Some("Conditional") => " (may replace)",
                    _ => "",
                };
                println!(
                    "  {:<7} {} {}{replacement}",
                    c.action, c.resource_type, c.logical_id
                );
            }
            if !hazards.is_empty() {
                let all: Vec<&guard::Hazard> = hazards.iter().collect();
                print!("{}", guard::render(&all, &[]));
                println!("  a deploy refuses these unless --allow-replace names them");
            }
            println!("  review it, then `aws cloudformation execute-change-set --change-set-name {id}`, or deploy again");
        }
    }
}
