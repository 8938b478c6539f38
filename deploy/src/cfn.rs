//! The CloudFormation calls, and watching an operation until its stack settles.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, StackEvent, Tag,
};
use aws_sdk_cloudformation::Client;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::diff::Replacement;
use crate::error::DeployError;
use crate::events::{self, Event, Progress};
use crate::parameters::Send;

/// How often a running operation is polled. CloudFormation's own console polls about as often.
const POLL: Duration = Duration::from_millis(1500);
const CHANGE_SET_POLL: Duration = Duration::from_millis(500);
/// How long a settled status is doubted while the operation has shown no event of its own.
const START_GRACE: Duration = Duration::from_secs(30);

/// Everything a template may need; CloudFormation refuses IAM resources and macros (`AWS::Serverless`,
/// `AWS::LanguageExtensions`) without them, and the reviewed synth output is what acknowledges them.
const CAPABILITIES: [Capability; 3] = [
    Capability::CapabilityIam,
    Capability::CapabilityNamedIam,
    Capability::CapabilityAutoExpand,
];

/// A deployed stack, as DescribeStacks reports it.
#[derive(Clone, Debug)]
pub struct Deployed {
    pub id: String,
    pub status: String,
    pub termination_protection: bool,
    /// `(key, value)`, sorted by key.
    pub outputs: Vec<(String, String)>,
    pub tags: BTreeMap<String, String>,
    /// The parameters' values (`****` for NoEcho ones, as CloudFormation reports them).
    pub parameters: BTreeMap<String, String>,
}

/// What the template comes from: the request body, or an S3 URL for templates over CloudFormation's 51,200
/// byte body limit.
#[derive(Clone, Debug)]
pub enum TemplateSource {
    Body(String),
    Url(String),
}

/// One resource change of a change set.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedChange {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Option<Replacement>,
}

pub enum ChangeSet {
    /// CloudFormation found nothing to change; the change set was deleted.
    NoChanges,
    Ready {
        id: String,
        stack_id: String,
        changes: Vec<PlannedChange>,
    },
}

fn is_missing_stack<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.message().is_some_and(|m| m.contains("does not exist"))
}

fn is_no_change(message: &str) -> bool {
    message.contains("didn't contain changes") || message.contains("No updates are to be performed")
}

/// The stack by name or ID; `None` when it does not exist (or is deleted).
pub async fn describe(cfn: &Client, stack: &str) -> Result<Option<Deployed>, DeployError> {
    let out = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(out) => out,
        Err(e) if is_missing_stack(&e) => return Ok(None),
        Err(e) => return Err(DeployError::aws("cloudformation:DescribeStacks", stack, e)),
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    let status = s
        .stack_status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    // CloudFormation returns outputs in no particular order; sorted, they print the same every time.
    let mut outputs: Vec<(String, String)> = s
        .outputs()
        .iter()
        .map(|o| {
            (
                o.output_key().unwrap_or_default().to_owned(),
                o.output_value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    outputs.sort();
    Ok(Some(Deployed {
        id: s.stack_id().unwrap_or(stack).to_owned(),
        status,
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        outputs,
        tags: s
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect(),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_owned(),
                    p.parameter_value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
    }))
}

/// The deployed template as it was submitted.
pub async fn template(cfn: &Client, stack: &str) -> Result<String, DeployError> {
    let out = cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:GetTemplate", stack, e))?;
    Ok(out.template_body().unwrap_or_default().to_owned())
}

fn parameters(params: &[(String, Send)]) -> Vec<Parameter> {
    params
        .iter()
        .map(|(k, v)| match v {
            Send::Value(v) => Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build(),
            Send::Previous => Parameter::builder()
                .parameter_key(k)
                .use_previous_value(true)
                .build(),
        })
        .collect()
}

fn tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Creates a change set and waits until CloudFormation has computed it. A change set without changes is
/// deleted and reported as [`ChangeSet::NoChanges`].
pub async fn create_change_set(
    cfn: &Client,
    stack: &str,
    create: bool,
    source: &TemplateSource,
    stack_tags: &BTreeMap<String, String>,
    params: &[(String, Send)],
) -> Result<ChangeSet, DeployError> {
    let name = format!(
        "cfnkit-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let mut req = cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .change_set_type(if create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .set_capabilities(Some(CAPABILITIES.to_vec()))
        .set_tags(Some(tags(stack_tags)))
        .set_parameters(Some(parameters(params)))
        .description("cfnkit deploy");
    req = match source {
        TemplateSource::Body(b) => req.template_body(b),
        TemplateSource::Url(u) => req.template_url(u),
    };
    let created = match req.send().await {
        Ok(out) => out,
        // Some endpoints refuse an unchanged update at once rather than through a failed change set.
        Err(e) if e.message().is_some_and(is_no_change) => return Ok(ChangeSet::NoChanges),
        Err(e) => return Err(DeployError::aws("cloudformation:CreateChangeSet", stack, e)),
    };
    let id = created.id().unwrap_or(&name).to_owned();
    loop {
        let mut changes = Vec::new();
        let mut token = None;
        let (status, reason, stack_id) = loop {
            let out = cfn
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| DeployError::aws("cloudformation:DescribeChangeSet", stack, e))?;
            changes.extend(
                out.changes()
                    .iter()
                    .filter_map(|c| c.resource_change())
                    .map(|rc| PlannedChange {
                        action: rc
                            .action()
                            .map(|a| a.as_str().to_owned())
                            .unwrap_or_default(),
                        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
                        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
                        replacement: rc.replacement().map(|r| Replacement {
                            replacement: r.as_str().to_owned(),
                            causes: rc
                                .details()
                                .iter()
                                .filter_map(|d| d.target())
                                .filter_map(|t| {
                                    Some((
                                        t.name()?.to_owned(),
                                        t.requires_recreation()
                                            .map(|r| r.as_str().to_owned())
                                            .unwrap_or_default(),
                                    ))
                                })
                                .collect(),
                        }),
                    }),
            );
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break (
                    out.status().cloned(),
                    out.status_reason().unwrap_or_default().to_owned(),
                    out.stack_id().unwrap_or(stack).to_owned(),
                );
            }
        };
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok(ChangeSet::Ready {
                    id,
                    stack_id,
                    changes,
                })
            }
            Some(ChangeSetStatus::Failed) => {
                if is_no_change(&reason) {
                    delete_change_set(cfn, stack, &id).await?;
                    return Ok(ChangeSet::NoChanges);
                }
                return Err(DeployError::ChangeSetFailed {
                    stack: stack.into(),
                    reason,
                });
            }
            _ => tokio::time::sleep(CHANGE_SET_POLL).await,
        }
    }
}

pub async fn delete_change_set(cfn: &Client, stack: &str, id: &str) -> Result<(), DeployError> {
    cfn.delete_change_set()
        .change_set_name(id)
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:DeleteChangeSet", stack, e))?;
    Ok(())
}

pub async fn execute_change_set(cfn: &Client, stack: &str, id: &str) -> Result<(), DeployError> {
    cfn.execute_change_set()
        .change_set_name(id)
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:ExecuteChangeSet", stack, e))?;
    Ok(())
}

/// CreateStack or UpdateStack without a change set (`--method direct`). `None`: nothing to update.
pub async fn deploy_direct(
    cfn: &Client,
    stack: &str,
    existing: Option<&Deployed>,
    source: &TemplateSource,
    stack_tags: &BTreeMap<String, String>,
    params: &[(String, Send)],
    termination_protection: bool,
) -> Result<Option<String>, DeployError> {
    let (body, url) = match source {
        TemplateSource::Body(b) => (Some(b.clone()), None),
        TemplateSource::Url(u) => (None, Some(u.clone())),
    };
    if let Some(d) = existing {
        let out = cfn
            .update_stack()
            .stack_name(stack)
            .set_template_body(body)
            .set_template_url(url)
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_tags(Some(tags(stack_tags)))
            .set_parameters(Some(parameters(params)))
            .send()
            .await;
        match out {
            Ok(_) => Ok(Some(d.id.clone())),
            Err(e) if e.message().is_some_and(is_no_change) => Ok(None),
            Err(e) => Err(DeployError::aws("cloudformation:UpdateStack", stack, e)),
        }
    } else {
        let out = cfn
            .create_stack()
            .stack_name(stack)
            .set_template_body(body)
            .set_template_url(url)
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_tags(Some(tags(stack_tags)))
            .set_parameters(Some(parameters(params)))
            .enable_termination_protection(termination_protection)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:CreateStack", stack, e))?;
        Ok(Some(out.stack_id().unwrap_or(stack).to_owned()))
    }
}

pub async fn delete_stack(cfn: &Client, stack: &str, id: &str) -> Result<(), DeployError> {
    cfn.delete_stack()
        .stack_name(id)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:DeleteStack", stack, e))?;
    Ok(())
}

pub async fn set_termination_protection(
    cfn: &Client,
    stack: &str,
    on: bool,
) -> Result<(), DeployError> {
    cfn.update_termination_protection()
        .stack_name(stack)
        .enable_termination_protection(on)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:UpdateTerminationProtection", stack, e))?;
    Ok(())
}

fn to_event(e: &StackEvent) -> Event {
    let time = e
        .timestamp()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
        .and_then(|t| t.get(11..19).map(str::to_owned))
        .unwrap_or_default();
    Event {
        id: e.event_id().unwrap_or_default().to_owned(),
        time,
        logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: e.resource_type().unwrap_or_default().to_owned(),
        status: e
            .resource_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        reason: e.resource_status_reason().map(str::to_owned),
    }
}

/// The newest event's ID: events up to it belong to earlier operations. Comparing IDs rather than times keeps
/// clock skew between this machine and the endpoint out of it.
pub async fn latest_event(cfn: &Client, stack: &str) -> Result<Option<String>, DeployError> {
    match cfn.describe_stack_events().stack_name(stack).send().await {
        Ok(out) => Ok(out
            .stack_events()
            .first()
            .and_then(|e| e.event_id())
            .map(str::to_owned)),
        Err(e) if is_missing_stack(&e) => Ok(None),
        Err(e) => Err(DeployError::aws(
            "cloudformation:DescribeStackEvents",
            stack,
            e,
        )),
    }
}

/// Events after `marker` not seen yet, oldest first.
async fn new_events(
    cfn: &Client,
    stack_id: &str,
    marker: Option<&str>,
    seen: &mut HashSet<String>,
) -> Result<Vec<Event>, DeployError> {
    let mut out = Vec::new();
    let mut token = None;
    'pages: loop {
        let page = match cfn
            .describe_stack_events()
            .stack_name(stack_id)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => page,
            Err(e) if is_missing_stack(&e) => break,
            Err(e) => {
                return Err(DeployError::aws(
                    "cloudformation:DescribeStackEvents",
                    stack_id,
                    e,
                ))
            }
        };
        // Newest first: the first event already seen (or the marker) ends the new ones.
        for e in page.stack_events() {
            let id = e.event_id().unwrap_or_default();
            if Some(id) == marker || seen.contains(id) {
                break 'pages;
            }
            out.push(to_event(e));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    seen.extend(out.iter().map(|e| e.id.clone()));
    out.reverse();
    Ok(out)
}

/// Shows an operation's events as they happen, with a bar of resources done out of `total`, until the stack
/// settles. Returns the final status and the operation's events. The bar is drawn only on a terminal; events
/// go to stderr either way, each line starting with `<stack> | ` when `prefixed`.
pub async fn watch(
    cfn: &Client,
    stack: &str,
    stack_id: &str,
    marker: Option<&str>,
    total: usize,
    prefixed: bool,
) -> Result<(String, Vec<Event>), DeployError> {
    // Bars of stacks deploying at once would overwrite each other: prefixed lines only, then.
    let bar = if console::Term::stderr().is_term() && !prefixed {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30}] {pos}/{len} resources  {elapsed}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_prefix(stack.to_owned());
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    let mut progress = Progress::default();
    let mut waited = Duration::ZERO;
    loop {
        // Status before events: every event up to the settled status is then fetched in this round.
        let status = describe(cfn, stack_id)
            .await?
            .map_or_else(|| "DELETE_COMPLETE".to_owned(), |d| d.status);
        for e in new_events(cfn, stack_id, marker, &mut seen).await? {
            let line = if prefixed {
                format!("{stack} | {}", events::render(&e))
            } else {
                events::render(&e)
            };
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
            if progress.observe(&e, stack) {
                bar.set_position(progress.done() as u64);
            }
            all.push(e);
        }
        // A settled status counts once the operation's own first stack event is seen: until then it may still be
        // the status from before (UPDATE_COMPLETE of the previous deploy, REVIEW_IN_PROGRESS of a new stack).
        let started = all
            .iter()
            .any(|e| e.resource_type == events::STACK_TYPE && e.logical_id == stack);
        let gone = status == "DELETE_COMPLETE";
        if events::is_settled(&status) && (started || gone || waited >= START_GRACE) {
            bar.finish_and_clear();
            return Ok((status, all));
        }
        waited += POLL;
        tokio::time::sleep(POLL).await;
    }
}
