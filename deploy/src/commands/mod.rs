//! The commands, one module each: `bootstrap`, `deploy`, `diff`, `drift`, `destroy`, `gc`, `new`, `watch`. Results go
//! to stdout; progress (events, the bar) to stderr. What more than one command needs lives here.

pub mod bootstrap;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod drift;
pub mod gc;
pub mod new;
pub mod watch;

use std::io::{BufRead, Write};

use cfnkit::synth::manifest::ManifestStack;

use crate::assets::{self, BODY_LIMIT};
use crate::aws::{Clients, BOOTSTRAP_STACK};
use crate::cfn::{self, Deployed, TemplateSource};
use crate::error::DeployError;
use crate::events::{self, Failure, STACK_TYPE};
use crate::template;
use crate::validation::Finding;

/// What a command found, for the exit code: diff and drift exit 1 when they find differences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Nothing,
    Differences,
}

/// A stack whose creation failed holds nothing (the deploy deletes it first), and one made by a change set
/// never executed (REVIEW_IN_PROGRESS) holds nothing yet: neither has a template to compare with.
pub(crate) fn holds_resources(d: &Deployed) -> bool {
    !matches!(
        d.status.as_str(),
        "REVIEW_IN_PROGRESS" | "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED"
    )
}

pub(crate) async fn deployed_template(
    clients: &Clients,
    name: &str,
) -> Result<serde_json::Value, DeployError> {
    template::parse(&cfn::template(&clients.cfn, name).await?).map_err(|message| {
        DeployError::BadTemplate {
            path: format!("the deployed template of {name}"),
            message,
        }
    })
}

/// Why this deploy needs the bootstrap stack, if it does: assets to upload, or a template over CloudFormation's
/// body limit (sent through the assets bucket). A deploy needing neither does not need a bootstrap stack at all
/// (CDK's legacy synthesizer does the same), so an app without Lambda code deploys into an account that was
/// never bootstrapped.
pub fn bootstrap_needed(stacks: &[&ManifestStack], assets: usize) -> Option<String> {
    let mut why = Vec::new();
    if assets > 0 {
        why.push(format!(
            "to upload {assets} asset{}",
            if assets == 1 { "" } else { "s" }
        ));
    }
    for s in stacks
        .iter()
        .filter(|s| s.requires_s3_upload || s.bytes > BODY_LIMIT)
    {
        why.push(format!(
            "for the template of {}, {} bytes, over CloudFormation's {BODY_LIMIT} byte limit",
            s.name, s.bytes
        ));
    }
    (!why.is_empty()).then(|| why.join(" and "))
}

/// Fails, before anything is uploaded or deployed, when the bootstrap stack is missing, unusable or older than
/// this cfnkit needs ([`crate::bootstrap::MIN_BOOTSTRAP_VERSION`]). Returns the version found. `command`: what
/// needs it (`deploy`, `diff --change-set`), for the error.
pub async fn require_bootstrap(
    clients: &Clients,
    command: &'static str,
    needed_for: &str,
) -> Result<u32, DeployError> {
    let missing = |problem: String| DeployError::BootstrapMissing {
        command,
        stack: BOOTSTRAP_STACK.into(),
        needed_for: needed_for.into(),
        problem,
    };
    let Some(d) = cfn::describe(&clients.cfn, BOOTSTRAP_STACK).await? else {
        return Err(missing(format!("it does not exist in {}", clients.region)));
    };
    // A failed update rolled back leaves the previous bootstrap in place, which is as usable as before.
    if !events::is_deploy_success(&d.status) && d.status != "UPDATE_ROLLBACK_COMPLETE" {
        return Err(missing(format!("it is in {}", d.status)));
    }
    let template = deployed_template(clients, BOOTSTRAP_STACK).await?;
    let found = crate::bootstrap::deployed_version(Some(&template), &d.outputs);
    crate::bootstrap::check_version(found.as_deref()).map_err(|found| {
        DeployError::BootstrapOutdated {
            stack: BOOTSTRAP_STACK.into(),
            found,
            required: crate::bootstrap::MIN_BOOTSTRAP_VERSION,
            needed_for: needed_for.into(),
        }
    })
}

pub(crate) async fn source_for(
    clients: &Clients,
    stack: &str,
    body: &str,
) -> Result<TemplateSource, DeployError> {
    if body.len() > BODY_LIMIT {
        Ok(TemplateSource::Url(
            assets::upload_template(clients, stack, body).await?,
        ))
    } else {
        Ok(TemplateSource::Body(body.to_owned()))
    }
}

/// The error for a stack that settled in anything but success: the failed resources and their reasons, and
/// whether CloudFormation rolled back.
pub(crate) fn failed(
    stack: &str,
    status: &str,
    evts: &[events::Event],
    findings: Vec<Finding>,
) -> DeployError {
    let mut failures = events::failures(evts, stack);
    if failures.is_empty() {
        if let Some(reason) = events::stack_reason(evts, stack) {
            failures.push(Failure {
                logical_id: stack.into(),
                resource_type: STACK_TYPE.into(),
                status: status.into(),
                reason,
            });
        }
    }
    let note = match status {
        "UPDATE_ROLLBACK_COMPLETE" => " (rolled back: the stack is as it was before this deploy)",
        "ROLLBACK_COMPLETE" => {
            " (creation rolled back: the stack is empty, and the next deploy deletes it first)"
        }
        s if events::is_rollback(s) => " (the rollback did not finish)",
        _ => "",
    };
    DeployError::StackFailed {
        stack: stack.into(),
        status: status.into(),
        note: note.into(),
        failures,
        findings,
    }
}

/// Asks a yes/no question on the terminal; anything but yes is no.
pub(crate) fn ask(question: &str) -> Result<bool, DeployError> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn ev(logical: &str, ty: &str, status: &str, reason: Option<&str>) -> Event {
        Event {
            id: format!("{logical}-{status}"),
            time: "12:00:00".into(),
            logical_id: logical.into(),
            resource_type: ty.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
            ..Event::default()
        }
    }

    fn stack(name: &str, bytes: usize) -> ManifestStack {
        serde_json::from_value(serde_json::json!({
            "name": name, "template": format!("{name}.template.json"), "sha256": "", "bytes": bytes,
            "requiresS3Upload": bytes > BODY_LIMIT, "dependencies": [], "environment": {},
            "terminationProtection": false, "tags": {}, "exports": [], "imports": [],
        }))
        .unwrap()
    }

    #[test]
    fn the_bootstrap_stack_is_needed_only_for_assets_and_large_templates() {
        let (small, large) = (stack("Small", 51_200), stack("Large", 51_201));
        assert_eq!(bootstrap_needed(&[&small], 0), None);
        assert_eq!(
            bootstrap_needed(&[&small], 2).as_deref(),
            Some("to upload 2 assets")
        );
        assert_eq!(
            bootstrap_needed(&[&small, &large], 1).as_deref(),
            Some("to upload 1 asset and for the template of Large, 51201 bytes, over CloudFormation's 51200 byte limit")
        );
    }

    #[test]
    fn a_failed_update_names_the_resource_its_reason_and_the_rollback() {
        let events = [
            ev(
                "Api",
                STACK_TYPE,
                "UPDATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            ev(
                "Work",
                "AWS::SQS::Queue",
                "UPDATE_FAILED",
                Some("Resource handler returned message: \"Invalid value\""),
            ),
            ev(
                "Api",
                STACK_TYPE,
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [Work]."),
            ),
            ev("Api", STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE", None),
        ];
        assert_eq!(
            failed("Api", "UPDATE_ROLLBACK_COMPLETE", &events, vec![]).to_string(),
            "stack Api did not reach a complete state: it ended in UPDATE_ROLLBACK_COMPLETE (rolled back: the stack is \
             as it was before this deploy); failed resources:\n  Work (AWS::SQS::Queue) UPDATE_FAILED: Resource \
             handler returned message: \"Invalid value\""
        );
    }

    #[test]
    fn a_stack_failing_without_a_failed_resource_gives_the_stack_reason() {
        let events = [
            ev(
                "Api",
                STACK_TYPE,
                "CREATE_IN_PROGRESS",
                Some("User Initiated"),
            ),
            ev(
                "Api",
                STACK_TYPE,
                "ROLLBACK_IN_PROGRESS",
                Some("No export named Base:Key:Arn found"),
            ),
            ev("Api", STACK_TYPE, "ROLLBACK_COMPLETE", None),
        ];
        let message = failed("Api", "ROLLBACK_COMPLETE", &events, vec![]).to_string();
        assert!(
            message.contains(
                "(creation rolled back: the stack is empty, and the next deploy deletes it first)"
            ),
            "{message}"
        );
        assert!(message.ends_with("Api (AWS::CloudFormation::Stack) ROLLBACK_COMPLETE: No export named Base:Key:Arn found"), "{message}");
    }
}
