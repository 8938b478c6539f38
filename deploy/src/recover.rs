//! Bringing a stack to a state a deploy can start from, whatever the last operation left: an operation still
//! running (a deploy killed mid-way keeps going in CloudFormation, or another person's is running) is waited
//! for; a creation that failed is deleted; an update whose rollback failed is reported with the resources that
//! block it, and continued with `--continue-rollback` (ContinueUpdateRollback, skipping resources named with
//! `--skip-resource`).
//!
//! Two deploys of one stack never interleave: the second finds the stack in progress and waits here, or, when
//! both prepared their change sets at the same moment, CloudFormation refuses the second execution (the first
//! made its change set obsolete) and the deploy stops with [`DeployError::ConcurrentDeploy`].

use console::style;

use crate::aws::Clients;
use crate::cfn::{self, Deployed, Operation};
use crate::commands::failed;
use crate::error::DeployError;
use crate::events;

/// What a deploy may do about a stack whose rollback failed.
#[derive(Clone, Debug, Default)]
pub struct Rollbacks {
    /// `--continue-rollback`: continue it, then deploy.
    pub continue_rollback: bool,
    /// `--skip-resource`: logical IDs of this stack to skip while continuing.
    pub skip: Vec<String>,
}

/// The stack, ready for a deploy: `None` when there is none (or none any more).
pub async fn prepare(
    clients: &Clients,
    name: &str,
    prefixed: bool,
    rollbacks: &Rollbacks,
) -> Result<Option<Deployed>, DeployError> {
    loop {
        let Some(d) = cfn::describe(&clients.cfn, name).await? else {
            return Ok(None);
        };
        match d.status.as_str() {
            s if !events::is_settled(s) => {
                eprintln!(
                    "{} {name}: {s}: an operation is running on it (a deploy interrupted earlier, or one started \
                     elsewhere); waiting for it to finish",
                    style("…").yellow()
                );
                let marker = cfn::latest_event(&clients.cfn, &d.id).await?;
                cfn::watch(
                    &clients.cfn,
                    name,
                    &d.id,
                    marker.as_deref(),
                    0,
                    prefixed,
                    Operation::Running,
                )
                .await?;
                // How it ended decides what comes next (a failed creation, a failed rollback...).
                continue;
            }
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
                eprintln!(
                    "{name}: its creation failed earlier ({}), so it holds nothing; deleting it before creating it \
                     again",
                    d.status
                );
                let marker = cfn::latest_event(&clients.cfn, &d.id).await?;
                cfn::delete_stack(&clients.cfn, name, &d.id, false).await?;
                let (status, events) = cfn::watch(
                    &clients.cfn,
                    name,
                    &d.id,
                    marker.as_deref(),
                    0,
                    prefixed,
                    Operation::Started,
                )
                .await?;
                if status != "DELETE_COMPLETE" {
                    return Err(failed(name, &status, &events, vec![]));
                }
                return Ok(None);
            }
            "DELETE_FAILED" => {
                return Err(DeployError::StackUnusable {
                    stack: name.into(),
                    status: d.status.clone(),
                    fix: format!(
                        "destroy it again once what its events name is fixed (`cargo cfn destroy {name}`), then deploy"
                    ),
                })
            }
            "UPDATE_ROLLBACK_FAILED" => {
                continue_rollback(clients, name, &d, prefixed, rollbacks).await?;
                continue;
            }
            _ => return Ok(Some(d)),
        }
    }
}

/// Reports what blocks a failed rollback, or, with `--continue-rollback`, continues it and waits.
async fn continue_rollback(
    clients: &Clients,
    name: &str,
    d: &Deployed,
    prefixed: bool,
    rollbacks: &Rollbacks,
) -> Result<(), DeployError> {
    let recent = cfn::events_back_to(&clients.cfn, name, "UPDATE_ROLLBACK_IN_PROGRESS").await?;
    let blockers = events::rollback_blockers(&recent, name);
    if !rollbacks.continue_rollback {
        return Err(DeployError::RollbackFailed {
            stack: name.into(),
            blockers,
        });
    }
    check_skips(name, &rollbacks.skip, &blockers)?;
    eprintln!(
        "{name}: continuing its rollback (ContinueUpdateRollback){}",
        if rollbacks.skip.is_empty() {
            String::new()
        } else {
            format!(", skipping {}", rollbacks.skip.join(", "))
        }
    );
    let marker = cfn::latest_event(&clients.cfn, &d.id).await?;
    cfn::continue_update_rollback(&clients.cfn, name, &rollbacks.skip, &cfn::request_token())
        .await?;
    let (status, events) = cfn::watch(
        &clients.cfn,
        name,
        &d.id,
        marker.as_deref(),
        0,
        prefixed,
        Operation::Started,
    )
    .await?;
    if status != "UPDATE_ROLLBACK_COMPLETE" {
        return Err(failed(name, &status, &events, vec![]));
    }
    Ok(())
}

/// CloudFormation skips only resources whose rollback failed; naming another is a mistake to catch before the
/// call, with the ones that can be skipped.
pub fn check_skips(
    stack: &str,
    skip: &[String],
    blockers: &[events::Failure],
) -> Result<(), DeployError> {
    for id in skip {
        if !blockers.iter().any(|b| b.logical_id == *id) {
            let can = blockers
                .iter()
                .map(|b| format!("{stack}/{}", b.logical_id))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(DeployError::BadSkip {
                address: format!("{stack}/{id}"),
                why: format!(
                    "its rollback did not fail, and only resources whose rollback failed can be skipped: {}",
                    if can.is_empty() { "none".into() } else { can }
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resources_whose_rollback_failed_can_be_skipped() {
        let blockers = [events::Failure {
            logical_id: "Table".into(),
            resource_type: "AWS::DynamoDB::Table".into(),
            status: "UPDATE_FAILED".into(),
            reason: "gone".into(),
        }];
        check_skips("Api", &["Table".into()], &blockers).unwrap();
        let err = check_skips("Api", &["Fn".into()], &blockers)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "--skip-resource Api/Fn: its rollback did not fail, and only resources whose rollback failed can be \
             skipped: Api/Table"
        );
    }
}
