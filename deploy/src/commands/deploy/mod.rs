//! `cargo cfn deploy`: the chosen stacks and their dependencies, in dependency order, each through a change set.
//!
//! - `plan`: what is checked before anything changes (moves to refactor, the replacement guard);
//! - `approval`: `--require-approval`;
//! - `stack`: deploying one stack (change set or direct, the stack policy, waiting);
//! - `report`: what is printed per stack.

mod approval;
mod plan;
mod report;
mod stack;

use std::collections::{BTreeMap, BTreeSet};

use cfnkit::synth::manifest::ManifestStack;
use console::style;

pub(crate) use report::report;
pub use stack::deploy_stack;

use crate::address::ResourceAddress;
use crate::assembly::Assembly;
use crate::assets;
use crate::aws::Clients;
use crate::cfn::{self, PlannedChange};
use crate::commands::{
    bootstrap_needed, deployed_template, holds_resources, require_bootstrap, Found,
};
use crate::error::DeployError;
use crate::express;
use crate::guard::Hazard;
use crate::hotswap;
use crate::parameters::{self, ParameterArg};
use crate::recover::Rollbacks;
use crate::refactor;
use crate::template;

/// Deploy the stacks (all when none are named) and the stacks they depend on, in dependency order.
///
/// Uploads the Lambda code zips not in the assets bucket yet, then deploys each stack through a change set
/// and waits, showing its events. A stack is reported deployed only when it reached CREATE_COMPLETE or
/// UPDATE_COMPLETE; an unchanged stack is reported as "no changes". Exit code 0 on success, 1 on failure.
///
/// Before changing anything it checks: the parameters; the bootstrap stack (exists, and its version is one
/// this cfnkit deploys with) when the deploy needs the assets bucket, that is when there are assets to
/// upload or a template over 51,200 bytes; that no stateful resource (table, bucket, key, queue...) is replaced
/// or removed unless --allow-replace names it; and, per --require-approval, that a person approved changes that
/// broaden permissions. Resources recorded as moved (`stack.moved`) are moved first, with CloudFormation's stack
/// refactoring. Every stack gets a stack policy denying replacement and deletion of its stateful resources.
///
/// A stack with an operation still running (an interrupted deploy) is waited for; one whose rollback failed is
/// reported with what blocks it (see --continue-rollback).
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
    /// Let this deploy replace or remove this stateful resource, losing what it holds (repeat for more). The
    /// stack policy is lifted for that resource during this update only, and put back after it.
    #[arg(long, value_name = "STACK/LogicalId")]
    pub allow_replace: Vec<ResourceAddress>,
    /// Also put drifted resources back as the templates say (a change set with DeploymentMode REVERT_DRIFT).
    #[arg(long)]
    pub revert_drift: bool,
    /// For a stack in UPDATE_ROLLBACK_FAILED: continue its rollback (ContinueUpdateRollback), then deploy.
    #[arg(long)]
    pub continue_rollback: bool,
    /// With --continue-rollback: a resource whose rollback failed to skip (repeat for more). CloudFormation
    /// then counts it as rolled back as it is: check it afterwards.
    #[arg(long, value_name = "STACK/LogicalId", requires = "continue_rollback")]
    pub skip_resource: Vec<ResourceAddress>,
    /// For a stack whose only changes are Lambda functions' code or environment variables: update the functions
    /// directly (seconds, not a change set's minute). CloudFormation's template then differs from what runs until
    /// the next deploy without --hotswap; a stack with any other change is deployed through a change set, and
    /// the line before it says why. For development accounts, as CDK's --hotswap.
    #[arg(long, conflicts_with_all = ["no_execute", "method", "revert_drift", "continue_rollback"])]
    pub hotswap: bool,
    /// CloudFormation's express mode: each stack's operation completes once its resources' configuration is
    /// applied, without waiting for them to be ready to serve (they become ready in the background). For
    /// development; refused, before anything changes, for stacks with custom resources or StackSets.
    #[arg(long)]
    pub express: bool,
}

pub async fn run(
    clients: &Clients,
    assembly: &Assembly,
    args: &Args,
) -> Result<Found, DeployError> {
    if args.revert_drift && args.method == Method::Direct {
        return Err(DeployError::RevertDriftNeedsChangeSet);
    }
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
            allow_replace: args.allow_replace.clone(),
            revert_drift: args.revert_drift,
            continue_rollback: args.continue_rollback,
            skip_resources: args.skip_resource.clone(),
            hotswap: args.hotswap,
            express: args.express,
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

#[derive(Clone, Debug)]
pub struct DeployOptions {
    pub method: Method,
    /// false: create the change set and stop, for review (`--no-execute`).
    pub execute: bool,
    pub approval: RequireApproval,
    /// How many stacks deploy at once (`--concurrency`); 1 deploys them one by one in the manifest's order.
    pub concurrency: usize,
    /// Stateful resources this deploy may replace or remove (`--allow-replace`).
    pub allow_replace: Vec<ResourceAddress>,
    /// `--revert-drift`.
    pub revert_drift: bool,
    /// `--continue-rollback`.
    pub continue_rollback: bool,
    /// `--skip-resource`.
    pub skip_resources: Vec<ResourceAddress>,
    /// `--hotswap`.
    pub hotswap: bool,
    /// `--express`.
    pub express: bool,
}

impl DeployOptions {
    /// One stack at a time, through change sets, executed, asking for nothing.
    pub fn unattended() -> Self {
        DeployOptions {
            method: Method::ChangeSet,
            execute: true,
            approval: RequireApproval::Never,
            concurrency: 1,
            allow_replace: Vec::new(),
            revert_drift: false,
            continue_rollback: false,
            skip_resources: Vec::new(),
            hotswap: false,
            express: false,
        }
    }

    /// What the deploy may do about this stack's failed rollback.
    fn rollbacks(&self, stack: &str) -> Rollbacks {
        Rollbacks {
            continue_rollback: self.continue_rollback,
            skip: self
                .skip_resources
                .iter()
                .filter(|a| a.stack == stack)
                .map(|a| a.logical_id.clone())
                .collect(),
        }
    }
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
        /// Stateful resources the change set would lose, allowed or not.
        hazards: Vec<Hazard>,
    },
    /// Its resources are moved by a refactor created but not executed (`--no-execute`); its change set comes
    /// after the refactor.
    AwaitsRefactor,
    /// Its functions updated directly (`--hotswap`): `Logical (code, environment: VAR)` each.
    Hotswapped {
        functions: Vec<String>,
        /// Whether CloudFormation's template of it now differs from what runs.
        drifted: bool,
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
/// assets bucket is needed, moves, the replacement guard, approval of the changes), then uploads the assets the
/// chosen stacks use, carries out the recorded moves, and deploys the stacks and their dependencies in
/// dependency order.
pub async fn deploy(
    clients: &Clients,
    assembly: &Assembly,
    names: &[String],
    params: &[ParameterArg],
    options: DeployOptions,
) -> Result<(), DeployError> {
    let selection = assembly.deploy_selection(names)?;
    check_environments(clients, &selection).await?;
    let chosen: Vec<&str> = selection.iter().map(|s| s.name.as_str()).collect();
    check_addresses(&options, &chosen)?;
    let mut stacks = Vec::new();
    for stack in &selection {
        let body = assembly.template(stack)?;
        let parsed = template::parse(&body).map_err(|message| DeployError::BadTemplate {
            path: stack.template.clone(),
            message,
        })?;
        if options.express {
            express::check(&stack.name, &parsed)?;
        }
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
    let used = assets::assets_for(assembly, &chosen);
    if let Some(needed_for) = bootstrap_needed(&selection, used.len()) {
        require_bootstrap(clients, "deploy", &needed_for).await?;
    }

    // What is deployed now, for the parameters, moves, the guard and approval.
    let mut current = BTreeMap::new();
    for ((stack, _, _), (_, decl)) in stacks.iter().zip(&declared) {
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
        let template = match &d {
            Some(_) => Some(deployed_template(clients, &stack.name).await?),
            None => None,
        };
        current.insert(stack.name.clone(), (d, template));
    }
    let new: BTreeMap<String, serde_json::Value> = stacks
        .iter()
        .map(|(s, _, t)| (s.name.clone(), t.clone()))
        .collect();
    let hotswaps = if options.hotswap {
        hotswap_plans(clients, &stacks, &current, &given).await?
    } else {
        BTreeMap::new()
    };
    let moves = plan::moves(clients, assembly, &chosen, &current, &new).await?;
    let moving = refactor::stacks(&moves);

    // A hotswap changes code and environment only: nothing it does can replace or remove a resource.
    let unguarded: BTreeSet<String> = moving.iter().chain(hotswaps.keys()).cloned().collect();
    plan::guard(clients, &stacks, &current, &unguarded, &given, &options).await?;

    if options.execute && options.approval != RequireApproval::Never {
        let mut review = BTreeMap::new();
        // A refactor's stacks change only by the moves (checked above), and moved resources keep their
        // physical IDs, so their permissions are what they were: nothing there to approve.
        for (stack, _, new) in stacks.iter().filter(|(s, _, _)| !moving.contains(&s.name)) {
            let (d, old) = &current[&stack.name];
            let changed = d
                .as_ref()
                .map(|d| approval::parameter_changes(new, given.get(&stack.name), &d.parameters))
                .unwrap_or_default();
            review.insert(stack.name.as_str(), (old.clone(), new, changed));
        }
        approval::approve(&review, options.approval)?;
    }
    if !used.is_empty() {
        let up = assets::upload(clients, assembly, &used).await?;
        println!(
            "assets: {} uploaded, {} already in the bucket",
            up.uploaded.len(),
            up.present.len()
        );
    }
    for (name, updates) in &hotswaps {
        let outcome = hotswap(clients, name, updates, &current[name].1, &new[name]).await?;
        report(name, &outcome);
    }
    let mut specs: Vec<StackSpec> = stacks
        .into_iter()
        .filter(|(stack, _, _)| !hotswaps.contains_key(&stack.name))
        .map(|(stack, body, _)| StackSpec {
            name: stack.name.clone(),
            body,
            tags: stack.tags.clone(),
            termination_protection: stack.termination_protection,
            parameters: given.remove(&stack.name).unwrap_or_default(),
            dependencies: stack.dependencies.clone(),
        })
        .collect();
    if !moves.is_empty() {
        let created_stacks = moving
            .iter()
            .any(|s| current.get(s).is_none_or(|(d, _)| d.is_none()));
        let executed =
            plan::refactor(clients, &moves, &specs, created_stacks, options.execute).await?;
        if !executed {
            for name in &moving {
                report(name, &Outcome::AwaitsRefactor);
            }
            specs.retain(|s| !moving.contains(&s.name));
        }
    }
    deploy_in_order(clients, specs, options).await
}

/// The stacks `--hotswap` updates directly, with their function updates; for each other stack, a line saying
/// why it goes through a change set.
async fn hotswap_plans(
    clients: &Clients,
    stacks: &[(&ManifestStack, String, serde_json::Value)],
    current: &plan::Current,
    given: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<BTreeMap<String, Vec<hotswap::FunctionUpdate>>, DeployError> {
    let mut plans = BTreeMap::new();
    for (stack, _, new) in stacks {
        let (d, old) = &current[&stack.name];
        let plan = hotswap::plan(
            clients,
            &stack.name,
            d.as_ref().zip(old.as_ref()),
            new,
            given.get(&stack.name).unwrap_or(&BTreeMap::new()),
            &stack.tags,
        )
        .await?;
        match plan {
            hotswap::Plan::Hotswap(updates) => {
                plans.insert(stack.name.clone(), updates);
            }
            hotswap::Plan::ChangeSet(why) => println!(
                "{} {}: not hotswapped, {why}: deploying it through a change set",
                style("→").cyan(),
                stack.name
            ),
        }
    }
    Ok(plans)
}

/// Updates a stack's functions directly, one after the other.
async fn hotswap(
    clients: &Clients,
    name: &str,
    updates: &[hotswap::FunctionUpdate],
    old: &Option<serde_json::Value>,
    new: &serde_json::Value,
) -> Result<Outcome, DeployError> {
    for update in updates {
        eprintln!("{name}: hotswapping {}", update.describe());
        hotswap::apply(clients, name, update).await?;
    }
    let drifted = old.as_ref() != Some(new);
    Ok(if updates.is_empty() && !drifted {
        Outcome::NoChanges
    } else {
        Outcome::Hotswapped {
            functions: updates.iter().map(|u| u.describe()).collect(),
            drifted,
        }
    })
}

/// `--allow-replace` and `--skip-resource` must name stacks of this deploy: a typo would otherwise pass silently
/// (and the guard refuse the real one all the same, with a confusing second look).
fn check_addresses(options: &DeployOptions, chosen: &[&str]) -> Result<(), DeployError> {
    for a in options.allow_replace.iter().chain(&options.skip_resources) {
        if !chosen.contains(&a.stack.as_str()) {
            return Err(DeployError::AllowanceForOtherStack {
                address: a.to_string(),
                stack: a.stack.clone(),
                deploying: chosen.join(", "),
            });
        }
    }
    Ok(())
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
            let options = options.clone();
            running.spawn(async move {
                let outcome = deploy_stack(&clients, &spec, &options).await;
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
