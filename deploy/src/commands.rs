//! The four commands. Results go to stdout; progress (events, the bar) to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};

use cfnkit::synth::manifest::ManifestStack;
use console::style;

use crate::assembly::Assembly;
use crate::assets::{self, BODY_LIMIT};
use crate::aws::{Clients, BOOTSTRAP_STACK};
use crate::cfn::{self, ChangeSet, Deployed, PlannedChange, TemplateSource};
use crate::diff::{self, Replacement};
use crate::error::DeployError;
use crate::events::{self, Failure, STACK_TYPE};
use crate::parameters::{self, ParameterArg};
use crate::security::{self, SecurityDiff};
use crate::template;

/// How a stack is deployed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Through a change set (create or update), executed once CloudFormation has computed it.
    #[default]
    ChangeSet,
    /// CreateStack / UpdateStack, no change set (CDK's `--method direct`).
    Direct,
}

/// Which changes need a person's yes before they are deployed (CDK's `--require-approval`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RequireApproval {
    /// Never ask.
    Never,
    /// Ask when a change broadens permissions: an added IAM statement, managed policy, resource policy
    /// statement, Lambda permission or security group rule, or a removed Deny.
    #[default]
    Broadening,
    /// Ask before any change: to a template, or to the value of a parameter (`--parameters` values that differ
    /// from the deployed ones, with the same template).
    AnyChange,
}

#[derive(Clone, Copy, Debug)]
pub struct DeployOptions {
    pub method: Method,
    /// false: create the change set and stop, for review (`--no-execute`).
    pub execute: bool,
    pub approval: RequireApproval,
    /// How many stacks deploy at once (`--concurrency`); 1 deploys them one by one in the manifest's order.
    pub concurrency: usize,
}

/// What deploying one stack did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    NoChanges,
    Deployed {
        status: String,
        outputs: Vec<(String, String)>,
    },
    ChangeSetCreated {
        id: String,
        changes: Vec<PlannedChange>,
    },
}

/// A stack to deploy: its name, template and stack-level settings.
pub struct StackSpec {
    pub name: String,
    pub body: String,
    pub tags: BTreeMap<String, String>,
    pub termination_protection: bool,
    /// Values given with `--parameters`; the others keep their previous value or take their default.
    pub parameters: BTreeMap<String, String>,
    /// The stacks of this deploy it waits for.
    pub dependencies: Vec<String>,
}

/// Creates the bootstrap stack, or updates it when this tool's template is newer; idempotent.
pub async fn bootstrap(clients: &Clients) -> Result<(), DeployError> {
    let body = crate::bootstrap::template()?;
    let spec = StackSpec {
        name: BOOTSTRAP_STACK.into(),
        body,
        tags: BTreeMap::new(),
        termination_protection: false,
        parameters: BTreeMap::new(),
        dependencies: Vec::new(),
    };
    let outcome = deploy_stack(
        clients,
        &spec,
        DeployOptions {
            method: Method::ChangeSet,
            execute: true,
            approval: RequireApproval::Never,
            concurrency: 1,
        },
    )
    .await?;
    report(BOOTSTRAP_STACK, &outcome);
    println!("assets bucket: {}", clients.assets_bucket().await?);
    Ok(())
}

/// Checks everything a deploy can check before changing anything (parameters, the bootstrap stack when the
/// assets bucket is needed, approval of the changes), then uploads the assets the chosen stacks use and
/// deploys them and their dependencies in dependency order.
pub async fn deploy(
    clients: &Clients,
    assembly: &Assembly,
    names: &[String],
    params: &[ParameterArg],
    options: DeployOptions,
) -> Result<(), DeployError> {
    let selection = assembly.deploy_selection(names)?;
    check_environments(clients, &selection).await?;
    let mut stacks = Vec::new();
    for stack in &selection {
        let body = assembly.template(stack)?;
        let parsed = template::parse(&body).map_err(|message| DeployError::BadTemplate {
            path: stack.template.clone(),
            message,
        })?;
        stacks.push((*stack, body, parsed));
    }
    let declared: Vec<(&str, Vec<parameters::Declared>)> = stacks
        .iter()
        .map(|(s, _, t)| (s.name.as_str(), parameters::declared(t)))
        .collect();
    let app: Vec<&str> = assembly
        .manifest
        .stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let mut given = parameters::resolve(params, &declared, &app)?;
    let chosen: Vec<&str> = selection.iter().map(|s| s.name.as_str()).collect();
    let used = assets::assets_for(assembly, &chosen);
    if let Some(needed_for) = bootstrap_needed(&selection, used.len()) {
        require_bootstrap(clients, "deploy", &needed_for).await?;
    }
    let mut deployed = BTreeMap::new();
    for ((stack, _, new), (_, decl)) in stacks.iter().zip(&declared) {
        let d = cfn::describe(&clients.cfn, &stack.name)
            .await?
            .filter(holds_resources);
        // A parameter without a value is an error now rather than after the stacks before it are deployed.
        parameters::to_send(
            &stack.name,
            decl,
            given.get(&stack.name).unwrap_or(&BTreeMap::new()),
            d.as_ref().map(|d| &d.parameters),
        )?;
        if options.execute && options.approval != RequireApproval::Never {
            let old = match &d {
                Some(_) => Some(deployed_template(clients, &stack.name).await?),
                None => None,
            };
            let changed = d
                .as_ref()
                .map(|d| parameter_changes(new, given.get(&stack.name), &d.parameters))
                .unwrap_or_default();
            deployed.insert(stack.name.as_str(), (old, new, changed));
        }
    }
    if !deployed.is_empty() {
        approve(&deployed, options.approval)?;
    }
    if !used.is_empty() {
        let up = assets::upload(clients, assembly, &used).await?;
        println!(
            "assets: {} uploaded, {} already in the bucket",
            up.uploaded.len(),
            up.present.len()
        );
    }
    let specs = stacks
        .into_iter()
        .map(|(stack, body, _)| StackSpec {
            name: stack.name.clone(),
            body,
            tags: stack.tags.clone(),
            termination_protection: stack.termination_protection,
            parameters: given.remove(&stack.name).unwrap_or_default(),
            dependencies: stack.dependencies.clone(),
        })
        .collect();
    deploy_in_order(clients, specs, options).await
}

/// Deploys the stacks, each once the stacks it depends on are done, up to `options.concurrency` at a time (as
/// CDK's `--concurrency`: a stack starts as soon as its dependencies finish, not when a whole wave does). Ready
/// stacks start in the manifest's order, so one at a time is the manifest's order. After a failure no stack
/// starts; those already running are waited for (CloudFormation cannot be stopped halfway), and the first error
/// is returned, any others printed.
async fn deploy_in_order(
    clients: &Clients,
    mut pending: Vec<StackSpec>,
    options: DeployOptions,
) -> Result<(), DeployError> {
    let limit = options.concurrency.max(1);
    let mut unfinished: BTreeSet<String> = pending.iter().map(|s| s.name.clone()).collect();
    let mut running = tokio::task::JoinSet::new();
    let mut failure = None;
    loop {
        while failure.is_none() && running.len() < limit {
            let Some(next) = pending
                .iter()
                .position(|s| s.dependencies.iter().all(|d| !unfinished.contains(d)))
            else {
                break;
            };
            let spec = pending.remove(next);
            let clients = clients.clone();
            running.spawn(async move {
                let outcome = deploy_stack(&clients, &spec, options).await;
                (spec.name, outcome)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (name, outcome) = joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        match outcome {
            Ok(outcome) => {
                report(&name, &outcome);
                unfinished.remove(&name);
            }
            Err(e) if failure.is_none() => failure = Some(e),
            Err(e) => eprintln!("{} {e}", style("error:").red().bold()),
        }
    }
    failure.map_or(Ok(()), Err)
}

/// A stack whose creation failed holds nothing (the deploy deletes it first), and one made by a change set
/// never executed (REVIEW_IN_PROGRESS) holds nothing yet: neither has a template to compare with.
fn holds_resources(d: &Deployed) -> bool {
    !matches!(
        d.status.as_str(),
        "REVIEW_IN_PROGRESS" | "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED"
    )
}

async fn deployed_template(
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

/// A parameter whose value a deploy changes on a deployed stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterChange {
    pub key: String,
    /// `None`: the deployed stack has no value for it (the template adds the parameter).
    pub deployed: Option<String>,
    pub new: String,
    /// `NoEcho`: the values are not shown (CloudFormation reports the deployed one as `****`, so any given
    /// value counts as a change).
    pub hidden: bool,
}

/// The given `--parameters` values of a stack that differ from its deployed ones. Parameters without a given
/// value keep theirs (UsePreviousValue) and so change nothing.
pub fn parameter_changes(
    template: &serde_json::Value,
    given: Option<&BTreeMap<String, String>>,
    deployed: &BTreeMap<String, String>,
) -> Vec<ParameterChange> {
    given
        .into_iter()
        .flatten()
        .filter(|(k, v)| deployed.get(*k) != Some(*v))
        .map(|(k, v)| {
            // CloudFormation takes NoEcho as a boolean or the string "true".
            let no_echo = &template["Parameters"][k]["NoEcho"];
            ParameterChange {
                key: k.clone(),
                deployed: deployed.get(k).cloned(),
                new: v.clone(),
                hidden: *no_echo == true
                    || no_echo
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("true")),
            }
        })
        .collect()
}

/// The parameter changes of a stack, as the template diff prints its changes.
pub fn render_parameter_changes(stack: &str, changes: &[ParameterChange]) -> String {
    let mut out = format!("Stack {stack}\n  Parameter values\n");
    for c in changes {
        let line = if c.hidden {
            format!("  [~] {} (NoEcho: values not shown)", c.key)
        } else {
            let before = c
                .deployed
                .as_deref()
                .map_or_else(|| "(none)".to_owned(), |v| format!("{v:?}"));
            format!("  [~] {} {before} -> {:?}", c.key, c.new)
        };
        out.push_str(&format!("{}\n", style(line).yellow()));
    }
    out
}

/// What approval looks at for one stack: its deployed template (`None`: not deployed), the new one, and the
/// parameter values the deploy changes.
type ForApproval<'a> = (
    Option<serde_json::Value>,
    &'a serde_json::Value,
    Vec<ParameterChange>,
);

/// Shows the changes that need approval and asks for it once for the whole deploy; without a terminal to
/// ask, refuses. With `any-change`, a change of parameter values alone (the same template) counts.
fn approve(
    stacks: &BTreeMap<&str, ForApproval<'_>>,
    level: RequireApproval,
) -> Result<(), DeployError> {
    let mut needing = Vec::new();
    let mut review = String::new();
    for (name, (old, new, parameters)) in stacks {
        let sec: SecurityDiff = security::diff(old.as_ref(), new);
        let needs = match level {
            RequireApproval::Never => false,
            RequireApproval::Broadening => sec.is_broadening(),
            RequireApproval::AnyChange => {
                let d = diff::diff_templates(old.as_ref(), new);
                if !d.is_empty() {
                    review.push_str(&diff::render(name, old.is_some(), &d));
                }
                if !parameters.is_empty() {
                    review.push_str(&render_parameter_changes(name, parameters));
                }
                !d.is_empty() || !parameters.is_empty()
            }
        };
        if needs {
            if !sec.is_empty() {
                review.push_str(&security::render_table(name, &sec));
            }
            needing.push(*name);
        }
    }
    if needing.is_empty() {
        return Ok(());
    }
    let stacks = needing.join(", ");
    eprint!("{review}");
    if level == RequireApproval::Broadening {
        eprintln!("{}", style("These changes broaden permissions (+ rows above: what is allowed after the deploy that was not before).").yellow());
    }
    if !std::io::stdin().is_terminal() {
        let why = match level {
            RequireApproval::AnyChange => {
                "--require-approval any-change asks before any change".to_owned()
            }
            _ => "its changes broaden permissions (--require-approval broadening, the default)"
                .to_owned(),
        };
        return Err(DeployError::NeedsApproval { stacks, why });
    }
    if ask(&format!("Deploy {stacks} with these changes?"))? {
        Ok(())
    } else {
        Err(DeployError::ApprovalDeclined { stacks })
    }
}

fn report(stack: &str, outcome: &Outcome) {
    match outcome {
        Outcome::NoChanges => println!("{} {stack}: no changes", style("=").dim()),
        Outcome::Deployed { status, outputs } => {
            println!("{} {stack}: {status}", style("✓").green());
            for (k, v) in outputs {
                println!("  {stack}.{k} = {v}");
            }
        }
        Outcome::ChangeSetCreated { id, changes } => {
            println!(
                "{} {stack}: change set created, not executed ({} change(s))",
                style("?").yellow(),
                changes.len()
            );
            for c in changes {
                let replacement = match c.replacement.as_ref().map(|r| r.replacement.as_str()) {
                    Some("True") => " (replacement)",
                    Some("Conditional") => " (may replace)",
                    _ => "",
                };
                println!(
                    "  {:<7} {} {}{replacement}",
                    c.action, c.resource_type, c.logical_id
                );
            }
            println!("  review it, then `aws cloudformation execute-change-set --change-set-name {id}`, or deploy again");
        }
    }
}

/// Stacks pinned to an account or region must be deployed with credentials for exactly that.
async fn check_environments(
    clients: &Clients,
    stacks: &[&ManifestStack],
) -> Result<(), DeployError> {
    for s in stacks {
        if let Some(region) = s
            .environment
            .region
            .as_deref()
            .filter(|r| *r != clients.region)
        {
            return Err(DeployError::WrongEnvironment {
                stack: s.name.clone(),
                what: "region",
                wanted: region.into(),
                actual: clients.region.clone(),
                fix: "set AWS_REGION to it, or use a profile of that region",
            });
        }
        if let Some(account) = &s.environment.account {
            let actual = clients.account().await?;
            if account != actual {
                return Err(DeployError::WrongEnvironment {
                    stack: s.name.clone(),
                    what: "account",
                    wanted: account.clone(),
                    actual: actual.into(),
                    fix: "use credentials of that account (AWS_PROFILE)",
                });
            }
        }
    }
    Ok(())
}

async fn source_for(
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

/// Makes sure the stack can take a deployment: a stack whose creation failed holds nothing and is deleted
/// first (as CDK does); a stack in a state only a person can resolve is an error saying how.
async fn prepare(
    clients: &Clients,
    name: &str,
    prefixed: bool,
) -> Result<Option<Deployed>, DeployError> {
    let Some(d) = cfn::describe(&clients.cfn, name).await? else {
        return Ok(None);
    };
    match d.status.as_str() {
        s if !events::is_settled(s) => Err(DeployError::StackBusy { stack: name.into(), status: d.status.clone() }),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
            eprintln!("{name}: its creation failed earlier ({}), so it holds nothing; deleting it before creating it again", d.status);
            let marker = cfn::latest_event(&clients.cfn, &d.id).await?;
            cfn::delete_stack(&clients.cfn, name, &d.id).await?;
            let (status, events) = cfn::watch(&clients.cfn, name, &d.id, marker.as_deref(), 0, prefixed).await?;
            if status != "DELETE_COMPLETE" {
                return Err(failed(name, &status, &events));
            }
            Ok(None)
        }
        "DELETE_FAILED" => Err(DeployError::StackUnusable {
            stack: name.into(),
            status: d.status.clone(),
            fix: format!("destroy it again once what its events name is fixed (`cargo cfn destroy {name}`), then deploy"),
        }),
        "UPDATE_ROLLBACK_FAILED" => Err(DeployError::StackUnusable {
            stack: name.into(),
            status: d.status.clone(),
            fix: format!("finish the rollback with `aws cloudformation continue-update-rollback --stack-name {name}`, then deploy"),
        }),
        _ => Ok(Some(d)),
    }
}

/// The error for a stack that settled in anything but success: the failed resources and their reasons, and
/// whether CloudFormation rolled back.
fn failed(stack: &str, status: &str, evts: &[events::Event]) -> DeployError {
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
    }
}

/// Deploys one stack and waits for it. Success is reported only for CREATE_COMPLETE or UPDATE_COMPLETE.
pub async fn deploy_stack(
    clients: &Clients,
    spec: &StackSpec,
    options: DeployOptions,
) -> Result<Outcome, DeployError> {
    let name = spec.name.as_str();
    // Stacks deploying at once interleave their event lines: each line then starts with its stack's name.
    let prefixed = options.concurrency > 1;
    eprintln!("{}", style(format!("{name}: deploying")).bold());
    let existing = prepare(clients, name, prefixed).await?;
    let source = source_for(clients, name, &spec.body).await?;
    let new = template::parse(&spec.body).map_err(|message| DeployError::BadTemplate {
        path: name.into(),
        message,
    })?;
    let previous = existing
        .as_ref()
        .filter(|d| holds_resources(d))
        .map(|d| &d.parameters);
    let params = parameters::to_send(
        name,
        &parameters::declared(&new),
        &spec.parameters,
        previous,
    )?;
    let (stack_id, marker, total) = match options.method {
        Method::ChangeSet => {
            let create = existing
                .as_ref()
                .is_none_or(|d| d.status == "REVIEW_IN_PROGRESS");
            let (id, stack_id, changes) = match cfn::create_change_set(
                &clients.cfn,
                name,
                create,
                &source,
                &spec.tags,
                &params,
            )
            .await?
            {
                ChangeSet::NoChanges => {
                    if let Some(d) = &existing {
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
            if !options.execute {
                return Ok(Outcome::ChangeSetCreated { id, changes });
            }
            let marker = cfn::latest_event(&clients.cfn, &stack_id).await?;
            cfn::execute_change_set(&clients.cfn, name, &id).await?;
            (stack_id, marker, changes.len())
        }
        Method::Direct => {
            let deployed = match &existing {
                Some(_) => Some(deployed_template(clients, name).await?),
                None => None,
            };
            // UpdateStack does not say "no changes" on every endpoint; comparing first makes it certain.
            if let (Some(d), Some(old)) = (&existing, &deployed) {
                let same_parameters = spec
                    .parameters
                    .iter()
                    .all(|(k, v)| d.parameters.get(k) == Some(v));
                if *old == new && d.tags == spec.tags && same_parameters {
                    sync_termination_protection(clients, name, d, spec.termination_protection)
                        .await?;
                    return Ok(Outcome::NoChanges);
                }
            }
            let marker = match &existing {
                Some(d) => cfn::latest_event(&clients.cfn, &d.id).await?,
                None => None,
            };
            let Some(stack_id) = cfn::deploy_direct(
                &clients.cfn,
                name,
                existing.as_ref(),
                &source,
                &spec.tags,
                &params,
                spec.termination_protection,
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
    let (status, evts) = cfn::watch(
        &clients.cfn,
        name,
        &stack_id,
        marker.as_deref(),
        total,
        prefixed,
    )
    .await?;
    if !events::is_deploy_success(&status) {
        return Err(failed(name, &status, &evts));
    }
    let deployed = cfn::describe(&clients.cfn, &stack_id)
        .await?
        .ok_or_else(|| DeployError::StackFailed {
            stack: name.into(),
            status: "DELETE_COMPLETE".into(),
            note: " (deleted while deploying)".into(),
            failures: vec![],
        })?;
    sync_termination_protection(clients, name, &deployed, spec.termination_protection).await?;
    Ok(Outcome::Deployed {
        status,
        outputs: deployed.outputs,
    })
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

/// Deletes the chosen stacks and what depends on them, dependents first, after confirmation.
pub async fn destroy(
    clients: &Clients,
    assembly: &Assembly,
    names: &[String],
    force: bool,
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
        destroy_stack(clients, name, d).await?;
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

/// Asks a yes/no question on the terminal; anything but yes is no.
fn ask(question: &str) -> Result<bool, DeployError> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

async fn destroy_stack(clients: &Clients, name: &str, d: &Deployed) -> Result<(), DeployError> {
    if d.termination_protection {
        return Err(DeployError::TerminationProtected { stack: name.into() });
    }
    eprintln!("{}", style(format!("{name}: destroying")).bold());
    let deployed = deployed_template(clients, name).await?;
    let marker = cfn::latest_event(&clients.cfn, &d.id).await?;
    cfn::delete_stack(&clients.cfn, name, &d.id).await?;
    let (status, evts) = cfn::watch(
        &clients.cfn,
        name,
        &d.id,
        marker.as_deref(),
        template::resource_count(&deployed),
        false,
    )
    .await?;
    if status != "DELETE_COMPLETE" {
        return Err(failed(name, &status, &evts));
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
            failed("Api", "UPDATE_ROLLBACK_COMPLETE", &events).to_string(),
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
        let message = failed("Api", "ROLLBACK_COMPLETE", &events).to_string();
        assert!(
            message.contains(
                "(creation rolled back: the stack is empty, and the next deploy deletes it first)"
            ),
            "{message}"
        );
        assert!(message.ends_with("Api (AWS::CloudFormation::Stack) ROLLBACK_COMPLETE: No export named Base:Key:Arn found"), "{message}");
    }

    #[test]
    fn given_parameter_values_that_differ_from_the_deployed_ones_are_changes() {
        console::set_colors_enabled(false);
        let template = serde_json::json!({"Parameters": {
            "Setting": {"Type": "String"}, "Token": {"Type": "String", "NoEcho": "true"}, "Pin": {"Type": "String", "NoEcho": true}, "Size": {"Type": "String"}}});
        let deployed: BTreeMap<String, String> = [
            ("Setting", "v1"),
            ("Token", "****"),
            ("Pin", "****"),
            ("Size", "small"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        let given = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // No values given, or the deployed ones: no change.
        assert_eq!(parameter_changes(&template, None, &deployed), []);
        assert_eq!(
            parameter_changes(
                &template,
                Some(&given(&[("Setting", "v1"), ("Size", "small")])),
                &deployed
            ),
            []
        );
        let changes = parameter_changes(
            &template,
            Some(&given(&[
                ("Setting", "v2"),
                ("Size", "small"),
                ("Token", "secret"),
                ("New", "x"),
                ("Pin", "1234"),
            ])),
            &deployed,
        );
        assert_eq!(
            render_parameter_changes("Params", &changes),
            "Stack Params\n  Parameter values\n  [~] New (none) -> \"x\"\n  [~] Pin (NoEcho: values not shown)\n  \
             [~] Setting \"v1\" -> \"v2\"\n  [~] Token (NoEcho: values not shown)\n"
        );
    }
}
