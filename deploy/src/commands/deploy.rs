//! `cargo cfn deploy`: the chosen stacks and their dependencies, in dependency order, each through a change set.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;

use cfnkit::synth::manifest::ManifestStack;
use console::style;

use crate::assembly::Assembly;
use crate::assets;
use crate::aws::Clients;
use crate::cfn::{self, ChangeSet, Deployed, PlannedChange};
use crate::commands::Found;
use crate::commands::{
    ask, bootstrap_needed, deployed_template, failed, holds_resources, require_bootstrap,
    source_for,
};
use crate::diff;
use crate::error::DeployError;
use crate::events;
use crate::parameters::{self, ParameterArg};
use crate::security::{self, SecurityDiff};
use crate::template;

/// Deploy the stacks (all when none are named) and the stacks they depend on, in dependency order.
///
/// Uploads the Lambda code zips not in the assets bucket yet, then deploys each stack through a change set
/// and waits, showing its events. A stack is reported deployed only when it reached CREATE_COMPLETE or
/// UPDATE_COMPLETE; an unchanged stack is reported as "no changes". Exit code 0 on success, 1 on failure.
///
/// Before changing anything it checks: the parameters; the bootstrap stack (exists, and its version is one
/// this cfnkit deploys with) when the deploy needs the assets bucket, that is when there are assets to
/// upload or a template over 51,200 bytes; and, per --require-approval, that a person approved changes that
/// broaden permissions.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to deploy, with the stacks they depend on (all when none are named).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Create the change sets and print their changes, without executing them.
    #[arg(long)]
    pub no_execute: bool,
    /// How to deploy: through change sets, or CreateStack/UpdateStack directly.
    #[arg(long, value_enum, default_value_t = Method::ChangeSet)]
    pub method: Method,
    /// Which changes need approval: `broadening` (IAM statements, managed policies, resource policies,
    /// Lambda permissions, security group rules added, or a Deny removed), `any-change`, or `never`. On a
    /// terminal the changes are shown and a yes is asked for, once for the whole deploy; without one the
    /// deploy is refused before anything changes. Not asked with --no-execute.
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening)]
    pub require_approval: RequireApproval,
    /// A template parameter's value: STACK:KEY=VALUE for one stack, KEY=VALUE for every deployed stack that
    /// declares KEY (STACK:KEY wins). Repeat for more. Parameters without a value keep their deployed value,
    /// or take their Default when the stack is created.
    #[arg(long = "parameters", value_name = "[STACK:]KEY=VALUE")]
    pub parameters: Vec<ParameterArg>,
    /// How many stacks deploy at once. A stack starts once the stacks it depends on are done; with more
    /// than one, each event line starts with its stack's name and no progress bar is drawn.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
}

pub async fn run(
    clients: &Clients,
    assembly: &Assembly,
    args: &Args,
) -> Result<Found, DeployError> {
    deploy(
        clients,
        assembly,
        &args.stacks,
        &args.parameters,
        DeployOptions {
            method: args.method,
            execute: !args.no_execute,
            approval: args.require_approval,
            concurrency: usize::from(args.concurrency),
        },
    )
    .await?;
    Ok(Found::Nothing)
}

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

pub(crate) fn report(stack: &str, outcome: &Outcome) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
