//! The CloudFormation calls, and watching an operation until its stack settles.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, DeploymentConfig, DeploymentConfigMode,
    DeploymentMode, Parameter, StackEvent, Tag,
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
    /// What the latest drift detection found: `DRIFTED`, `IN_SYNC`, or `NOT_CHECKED` when none ran.
    pub drift: Option<String>,
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
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// For a `Modify`: `True`, `False` or `Conditional`.
    pub replacement: Option<String>,
    /// What changes and why, as CloudFormation evaluated it.
    pub details: Vec<ChangeDetail>,
}

/// One changed attribute of a resource change (`ResourceChangeDetail`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChangeDetail {
    /// `Properties`, `Metadata`, `Tags`, `DeletionPolicy`...
    pub attribute: String,
    /// The property, for `Properties`.
    pub name: Option<String>,
    /// `Always`, `Conditionally` or `Never`.
    pub requires_recreation: String,
    /// `Static` (known now) or `Dynamic` (known only while deploying).
    pub evaluation: String,
    /// `DirectModification`, `ResourceReference`, `ParameterReference`, `ResourceAttribute`, `Automatic`.
    pub change_source: String,
    /// The resource or parameter whose change causes this one (`Table`, `Table.Arn`, `Size`).
    pub causing_entity: Option<String>,
}

impl PlannedChange {
    /// What the template diff shows of it.
    pub fn replacement_note(&self) -> Option<Replacement> {
        Some(Replacement {
            replacement: self.replacement.clone()?,
            causes: self
                .details
                .iter()
                .filter_map(|d| Some((d.name.clone()?, d.requires_recreation.clone())))
                .collect(),
        })
    }
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

/// A ClientRequestToken for one operation: CloudFormation treats a retried call with the same token as the same
/// call (the SDK retries throttled and timed-out calls), and stamps the token on the operation's events.
pub fn request_token() -> String {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    format!(
        "cfnkit-{}-{}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis()),
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
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
        drift: s
            .drift_information()
            .and_then(|d| d.stack_drift_status())
            .map(|d| d.as_str().to_owned()),
    }))
}

/// The stack's resources: logical ID to physical ID (ListStackResources, every page).
pub async fn physical_ids(
    cfn: &Client,
    stack: &str,
) -> Result<BTreeMap<String, String>, DeployError> {
    let mut ids = BTreeMap::new();
    let mut token = None;
    loop {
        let out = cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:ListStackResources", stack, e))?;
        for r in out.stack_resource_summaries() {
            if let (Some(logical), Some(physical)) =
                (r.logical_resource_id(), r.physical_resource_id())
            {
                ids.insert(logical.to_owned(), physical.to_owned());
            }
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(ids);
        }
    }
}

/// The region's exports: name to value (ListExports, every page).
pub async fn exports(cfn: &Client) -> Result<BTreeMap<String, String>, DeployError> {
    let mut exports = BTreeMap::new();
    let mut token = None;
    loop {
        let out = cfn
            .list_exports()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws("cloudformation:ListExports", "the region's exports", e)
            })?;
        for e in out.exports() {
            if let (Some(name), Some(value)) = (e.name(), e.value()) {
                exports.insert(name.to_owned(), value.to_owned());
            }
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(exports);
        }
    }
}

/// `DeploymentConfig` mode EXPRESS for `--express`: the operation completes once CloudFormation has applied each
/// resource's configuration, without waiting for the resources to be ready (`crate::express`).
fn express_config(express: bool) -> Option<DeploymentConfig> {
    express.then(|| {
        DeploymentConfig::builder()
            .mode(DeploymentConfigMode::Express)
            .build()
    })
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

fn planned_change(rc: &aws_sdk_cloudformation::types::ResourceChange) -> PlannedChange {
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    PlannedChange {
        action: text(rc.action().map(|a| a.as_str())),
        logical_id: text(rc.logical_resource_id()),
        resource_type: text(rc.resource_type()),
        replacement: rc.replacement().map(|r| r.as_str().to_owned()),
        details: rc
            .details()
            .iter()
            .map(|d| {
                let target = d.target();
                ChangeDetail {
                    attribute: text(target.and_then(|t| t.attribute()).map(|a| a.as_str())),
                    name: target.and_then(|t| t.name()).map(str::to_owned),
                    requires_recreation: text(
                        target
                            .and_then(|t| t.requires_recreation())
                            .map(|r| r.as_str()),
                    ),
                    evaluation: text(d.evaluation().map(|e| e.as_str())),
                    change_source: text(d.change_source().map(|c| c.as_str())),
                    causing_entity: d.causing_entity().map(str::to_owned),
                }
            })
            .collect(),
    }
}

/// What a change set is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChangeSetKind {
    /// A new stack (CREATE).
    Create,
    /// An update of the template and parameters (UPDATE).
    #[default]
    Update,
    /// An update that also puts drifted resources back as the template says (UPDATE with `DeploymentMode:
    /// REVERT_DRIFT`).
    UpdateRevertingDrift,
}

/// Creates a change set and waits until CloudFormation has computed it. A change set without changes is
/// deleted and reported as [`ChangeSet::NoChanges`]. A change set that fails is reported with the findings
/// of CloudFormation's early validation, when the endpoint has them.
pub async fn create_change_set(
    cfn: &Client,
    stack: &str,
    kind: ChangeSetKind,
    source: &TemplateSource,
    stack_tags: &BTreeMap<String, String>,
    params: &[(String, Send)],
    express: bool,
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
        .change_set_type(if kind == ChangeSetKind::Create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .set_deployment_mode(
            (kind == ChangeSetKind::UpdateRevertingDrift).then_some(DeploymentMode::RevertDrift),
        )
        .set_deployment_config(express_config(express))
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
                    .map(planned_change),
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
                let findings = crate::validation::findings(
                    cfn,
                    crate::validation::Failed::ChangeSet { stack, id: &id },
                )
                .await
                .unwrap_or_default();
                return Err(DeployError::ChangeSetFailed {
                    stack: stack.into(),
                    reason,
                    findings,
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

/// Executes a change set. A change set that another operation made obsolete (CloudFormation deletes the other
/// change sets of a stack when one is executed) or a stack another operation is updating is
/// [`DeployError::ConcurrentDeploy`]: two deploys of one stack never interleave.
pub async fn execute_change_set(
    cfn: &Client,
    stack: &str,
    id: &str,
    token: &str,
) -> Result<(), DeployError> {
    match cfn
        .execute_change_set()
        .change_set_name(id)
        .stack_name(stack)
        .client_request_token(token)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_concurrent(e.code(), e.message()) => Err(DeployError::ConcurrentDeploy {
            stack: stack.into(),
            detail: format!(
                "ExecuteChangeSet: {}",
                e.message().unwrap_or(e.code().unwrap_or("refused"))
            ),
        }),
        Err(e) => Err(DeployError::aws(
            "cloudformation:ExecuteChangeSet",
            stack,
            e,
        )),
    }
}

/// What CloudFormation answers when another operation got to the stack first: the change set is gone or
/// obsolete, or the stack is in the middle of an update.
fn is_concurrent(code: Option<&str>, message: Option<&str>) -> bool {
    matches!(code, Some("ChangeSetNotFound" | "InvalidChangeSetStatus"))
        || message.is_some_and(|m| m.contains("_IN_PROGRESS state and can not be updated"))
}

/// The stack's policy, `None` when it has none.
pub async fn stack_policy(cfn: &Client, stack: &str) -> Result<Option<String>, DeployError> {
    let out = cfn
        .get_stack_policy()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:GetStackPolicy", stack, e))?;
    Ok(out
        .stack_policy_body()
        .filter(|b| !b.trim().is_empty())
        .map(str::to_owned))
}

pub async fn set_stack_policy(cfn: &Client, stack: &str, body: &str) -> Result<(), DeployError> {
    cfn.set_stack_policy()
        .stack_name(stack)
        .stack_policy_body(body)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:SetStackPolicy", stack, e))?;
    Ok(())
}

/// ContinueUpdateRollback, skipping the named resources (logical IDs).
pub async fn continue_update_rollback(
    cfn: &Client,
    stack: &str,
    skip: &[String],
    token: &str,
) -> Result<(), DeployError> {
    cfn.continue_update_rollback()
        .stack_name(stack)
        .set_resources_to_skip((!skip.is_empty()).then(|| skip.to_vec()))
        .client_request_token(token)
        .send()
        .await
        .map_err(|e| DeployError::aws("cloudformation:ContinueUpdateRollback", stack, e))?;
    Ok(())
}

/// The stack policies of a direct deploy: the one the stack keeps, and the one for this update only.
#[derive(Clone, Debug)]
pub struct Policies {
    pub stack: String,
    /// `Some` when `--allow-replace` lifts the guard for some resources of this update.
    pub during_update: Option<String>,
}

/// CreateStack or UpdateStack without a change set (`--method direct`). `None`: nothing to update.
#[allow(clippy::too_many_arguments)]
pub async fn deploy_direct(
    cfn: &Client,
    stack: &str,
    existing: Option<&Deployed>,
    source: &TemplateSource,
    stack_tags: &BTreeMap<String, String>,
    params: &[(String, Send)],
    termination_protection: bool,
    policies: &Policies,
    token: &str,
    express: bool,
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
            .stack_policy_body(&policies.stack)
            .set_stack_policy_during_update_body(policies.during_update.clone())
            .set_deployment_config(express_config(express))
            .client_request_token(token)
            .send()
            .await;
        match out {
            Ok(_) => Ok(Some(d.id.clone())),
            Err(e) if e.message().is_some_and(is_no_change) => Ok(None),
            Err(e) if is_concurrent(e.code(), e.message()) => Err(DeployError::ConcurrentDeploy {
                stack: stack.into(),
                detail: format!("UpdateStack: {}", e.message().unwrap_or("refused")),
            }),
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
            .stack_policy_body(&policies.stack)
            .set_deployment_config(express_config(express))
            .client_request_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:CreateStack", stack, e))?;
        Ok(Some(out.stack_id().unwrap_or(stack).to_owned()))
    }
}

/// `express`: CloudFormation's express mode (`--express`), which completes once the deletions are requested.
pub async fn delete_stack(
    cfn: &Client,
    stack: &str,
    id: &str,
    express: bool,
) -> Result<(), DeployError> {
    cfn.delete_stack()
        .stack_name(id)
        .set_deployment_config(express_config(express))
        .client_request_token(request_token())
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
        operation_id: e.operation_id().map(str::to_owned),
        token: e.client_request_token().map(str::to_owned),
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

/// The stack's events back to (and without) its own latest event with status `until`, newest first: what
/// happened since that point, such as a rollback's failures.
pub async fn events_back_to(
    cfn: &Client,
    stack: &str,
    until: &str,
) -> Result<Vec<Event>, DeployError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = cfn
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| DeployError::aws("cloudformation:DescribeStackEvents", stack, e))?;
        for e in page.stack_events().iter().map(to_event) {
            let end =
                e.logical_id == stack && e.resource_type == events::STACK_TYPE && e.status == until;
            out.push(e);
            if end {
                return Ok(out);
            }
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(out);
        }
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

/// Whose operation [`watch`] follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// One this tool just started: a settled status counts once its first stack event is seen.
    Started,
    /// One already running when the tool found the stack (an interrupted deploy, another person's): a settled
    /// status is its end.
    Running,
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
    operation: Operation,
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
        let running = operation == Operation::Running;
        if events::is_settled(&status) && (started || running || gone || waited >= START_GRACE) {
            bar.finish_and_clear();
            return Ok((status, all));
        }
        waited += POLL;
        tokio::time::sleep(POLL).await;
    }
}
