//! Continuous delivery of a cfnkit app on CloudFormation's own engines (CDK Pipelines' job): a [`Pipeline`]
//! (CodePipeline) whose stages are
//!
//! 1. `Source`: a Git repository through a CodeStar connection, or a zip in S3 ([`PipelineSource`]);
//! 2. `Build`: CodeBuild runs the app's tests and `package` (pinned toolchain, cargo registry and target directory
//!    cached in the artifacts bucket), uploads the Lambda zips to the assets bucket, and hands the templates on;
//! 3. `UpdatePipeline`: the pipeline's own stack first, so a changed pipeline redeploys itself and restarts;
//! 4. per [`DeployStage`] (an environment, `Dev` then `Prod`), after a manual approval when asked: each stack in
//!    the app's deploy order as a CloudFormation change set, created then executed. A stack's change set is
//!    created once the stacks it depends on are executed, and stacks that do not depend on each other share a
//!    `runOrder`, so CodePipeline deploys them in parallel.
//!
//! Artifacts, build logs and the cache are encrypted with a key of the pipeline. The pipeline's role may start
//! this build, read the source, and create and execute change sets of exactly the app's stacks; CloudFormation
//! deploys with a role of its own ([`Pipeline::deploy_role`]) limited to the AWS services the templates use.
//!
//! # Other accounts and regions
//!
//! A [`DeployStage`] with an `env` deploys to that account and region; the pipeline's own stack must then have
//! its account and region set (`stack.set_env`), so that cfnkit knows which stages leave them.
//!
//! - **Another account**: the target account is bootstrapped with `cargo cfn bootstrap --trust <pipeline
//!   account>` first. The stage's actions assume its deploy role (`RoleArn` of the action,
//!   `cfnkit-deploy-<account>-<region>`) and CloudFormation deploys with its execution role
//!   (`cfnkit-exec-<account>-<region>`, the `RoleArn` of the configuration). The pipeline's role may assume
//!   those deploy roles, and the artifacts bucket's policy and key's policy let them read the artifacts: IAM
//!   checks that those roles exist when the pipeline's stack is deployed, hence bootstrap first.
//! - **Another region**: the stage's actions carry `Region`, and CodePipeline copies the artifacts to a bucket
//!   in that region, encrypted with a key of that region. One stack cannot create resources in another region,
//!   so that bucket and key are props ([`PipelineProps::artifact_stores`], from a stack of that region); a stage
//!   in a region without one is an error. The pipeline's role may write them and CloudFormation's role read
//!   them; for a stage that is also in another account, that bucket's and key's policies must let the target's
//!   deploy role read, which is up to the stack that makes them.

use std::collections::{BTreeMap, BTreeSet};

use cfnkit_core::{RemovalPolicy, Val, Value};
use cfnkit_l1::codebuild as cb;
use cfnkit_l1::codepipeline as cp;
use cp::pipeline as cpl;
use serde_json::json;

use super::iam::{Principal, Role, RoleProps};
use super::kms::{Key, KeyProps};
use super::logs::{LogGroup, LogGroupProps};
use super::s3::{Bucket, BucketEncryption, BucketProps, BucketRef};
use super::{actions, Construct, ConstructError, OwnScope, PolicyStatement};
use crate::environments::BootstrapRole;
use crate::synth::{Assembly, Node, StackArtifact};
use crate::{fns, AsScope, Environment};

/// Where the pipeline's source comes from.
#[derive(Clone, Debug)]
pub enum PipelineSource<'a> {
    /// A Git repository (GitHub, GitLab, Bitbucket) through a CodeStar connection, built on every push to
    /// `branch`.
    Connection {
        /// The connection's ARN (`arn:aws:codestar-connections:...` or `arn:aws:codeconnections:...`).
        connection_arn: Val<String>,
        /// `owner/repository`.
        repository: String,
        /// The branch whose pushes start the pipeline.
        branch: String,
    },
    /// A zip of the repository in a versioned bucket, built when the object changes.
    S3 {
        /// The versioned bucket holding the zip.
        bucket: &'a BucketRef,
        /// The object's key (`source/app.zip`).
        key: String,
    },
}

/// One environment the pipeline deploys: a pipeline stage deploying `stacks` in the app's deploy order.
#[derive(Clone, Debug, Default)]
pub struct DeployStage {
    /// The stage name (`Dev`, `Prod`): letters, digits, `.`, `-` and `_`.
    pub name: String,
    /// The stacks this stage deploys. Each stack of the app is deployed by exactly one stage, after the stacks
    /// it depends on (in this stage or an earlier one).
    pub stacks: Vec<String>,
    /// Whether a person approves in CodePipeline (a stage `Approve<name>`) before this stage deploys.
    pub approval_before: bool,
    /// The account and region the stage deploys to (see "Other accounts and regions" above). Without it, or for
    /// an unset account or region, the pipeline's own.
    pub env: Option<Environment>,
}

/// The pipeline's artifact store in another region: a versioned bucket and a KMS key of that region, made by a
/// stack of that region (one stack cannot create resources in another region).
#[derive(Clone, Debug)]
pub struct RegionalArtifactStore {
    /// The bucket's name.
    pub bucket_name: String,
    /// The ARN of the key that encrypts the artifacts there.
    pub key_arn: Val<String>,
}

/// Props of a [`Pipeline`].
#[derive(Clone, Debug)]
pub struct PipelineProps {
    /// What the build runs first; a failure stops the pipeline. Without it `cargo test --workspace --locked`.
    pub test_command: String,
    /// What builds the templates and Lambda zips into `cfnkit.out`. Without it
    /// `cargo run --locked -- package --out cfnkit.out`.
    pub package_command: String,
    /// The Rust toolchain the build installs (rustup). Without it 1.95.0, the toolchain this repository is built
    /// with.
    pub rust_toolchain: String,
    /// The longest a build may run (5 to 2,160 minutes). Without it 60 minutes.
    pub build_timeout_minutes: u32,
    /// The artifact store of each region other than the pipeline's that a stage deploys to, by region
    /// (`us-west-2`). Without it, every stage deploys in the pipeline's region, and a stage in another region is
    /// an error.
    pub artifact_stores: BTreeMap<String, RegionalArtifactStore>,
}

impl Default for PipelineProps {
    fn default() -> Self {
        PipelineProps {
            test_command: "cargo test --workspace --locked".to_owned(),
            package_command: "cargo run --locked -- package --out cfnkit.out".to_owned(),
            rust_toolchain: "1.95.0".to_owned(),
            build_timeout_minutes: 60,
            artifact_stores: BTreeMap::new(),
        }
    }
}

/// A stack as a stage deploys it: its run orders (create, execute) and what it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackDeployment {
    /// The stack's name.
    pub stack: String,
    /// The `runOrder` of the action creating the change set; executing it is the next one.
    pub run_order: u32,
}

/// Where a stage deploys, relative to the pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct StageTarget {
    /// The stage's region, when it is not the pipeline's.
    region: Option<String>,
    /// The stage's account, when it is not the pipeline's.
    account: Option<String>,
}

impl StageTarget {
    /// The deploy role the stage's actions assume (another account's bootstrap role).
    fn action_role(&self) -> Option<Val<String>> {
        let account = self.account.as_deref()?;
        Some(BootstrapRole::Deploy.arn(account, self.region.as_deref()))
    }
}

/// [`PipelineProps`] and the stages as [`PipelineProps::validate`] accepted them.
struct CheckedPipeline {
    /// Per stage, its stacks with their run orders, in the app's deploy order.
    stages: Vec<Vec<StackDeployment>>,
    /// Per stage, where it deploys.
    targets: Vec<StageTarget>,
    /// The AWS services (IAM prefixes) the deployed templates (and the pipeline's own) use.
    services: BTreeSet<String>,
}

/// Stage and action names: CodePipeline's pattern.
fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'))
}

impl PipelineProps {
    /// Every check before anything is built: the stage names, every stack deployed by exactly one stage after
    /// its dependencies, no template parameter without a default (a change set action passes none), the build
    /// timeout.
    fn validate(
        &self,
        path: &str,
        app: &Assembly,
        self_stack: &str,
        own_env: &Environment,
        stages: &[DeployStage],
    ) -> Result<CheckedPipeline, ConstructError> {
        if !(5..=2160).contains(&self.build_timeout_minutes) {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "build_timeout_minutes must be from 5 to 2160, got {}",
                    self.build_timeout_minutes
                ),
            ));
        }
        if stages.is_empty() {
            return Err(ConstructError::invalid(
                path,
                "a pipeline needs at least one DeployStage",
            ));
        }
        let mut stage_of: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, stage) in stages.iter().enumerate() {
            let reserved = ["Source", "Build", "UpdatePipeline"];
            if !valid_name(&stage.name) || reserved.contains(&stage.name.as_str()) {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "stage names are 1 to 100 letters, digits, `.`, `@`, `-` or `_`, and not {reserved:?}, \
                         got {:?}",
                        stage.name
                    ),
                ));
            }
            if stages[..i].iter().any(|s| s.name == stage.name) {
                return Err(ConstructError::invalid(
                    path,
                    format!("two stages are named {:?}: name each once", stage.name),
                ));
            }
            for stack in &stage.stacks {
                if app.stack(stack).is_none() {
                    let known: Vec<&str> = app.stacks.iter().map(|s| s.name.as_str()).collect();
                    return Err(ConstructError::invalid(
                        path,
                        format!(
                            "stage {} deploys {stack:?}, which the app does not have: one of {}",
                            stage.name,
                            known.join(", ")
                        ),
                    ));
                }
                if stack == self_stack {
                    return Err(ConstructError::conflict(
                        path,
                        format!("stage {} deploys the pipeline's own stack {stack}: the UpdatePipeline stage does", stage.name),
                    ));
                }
                if let Some(other) = stage_of.insert(stack, i) {
                    return Err(ConstructError::conflict(
                        path,
                        format!(
                            "{stack} is deployed by stages {} and {}: give it to one",
                            stages[other].name, stage.name
                        ),
                    ));
                }
            }
        }
        let missing: Vec<&str> = app
            .stacks
            .iter()
            .map(|s| s.name.as_str())
            .filter(|s| *s != self_stack && !stage_of.contains_key(s))
            .collect();
        if !missing.is_empty() {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "no stage deploys {}: add each to a DeployStage's stacks",
                    missing.join(", ")
                ),
            ));
        }

        let mut checked = vec![Vec::new(); stages.len()];
        let mut level: BTreeMap<&str, u32> = BTreeMap::new();
        // The assembly's stacks are in deploy order: dependencies come first.
        for s in app.stacks.iter().filter(|s| s.name != self_stack) {
            let i = stage_of[s.name.as_str()];
            let mut l = 1;
            for dep in &s.dependencies {
                match stage_of.get(dep.as_str()) {
                    Some(&d) if d == i => l = l.max(level[dep.as_str()] + 1),
                    Some(&d) if d < i => {}
                    _ => {
                        let where_ = stage_of
                            .get(dep.as_str())
                            .map(|&d| format!("by the later stage {}", stages[d].name))
                            .unwrap_or_else(|| "by no stage".to_owned());
                        return Err(ConstructError::conflict(
                            path,
                            format!(
                                "{} (stage {}) depends on {dep}, which is deployed {where_}: deploy {dep} in \
                                 stage {} or before",
                                s.name, stages[i].name, stages[i].name
                            ),
                        ));
                    }
                }
            }
            level.insert(&s.name, l);
            for (name, has_default) in parameters(s) {
                if !has_default {
                    return Err(ConstructError::invalid(
                        path,
                        format!(
                            "{} has the parameter {name} without a Default, and a change set action passes no \
                             parameter values: give it a Default",
                            s.name
                        ),
                    ));
                }
            }
            checked[i].push(StackDeployment {
                stack: s.name.clone(),
                run_order: 2 * l - 1,
            });
        }
        let mut services: BTreeSet<String> =
            SELF_SERVICES.iter().map(|s| (*s).to_owned()).collect();
        for s in app.stacks.iter() {
            services.extend(resource_types(s).iter().filter_map(|t| service_of(t)));
        }
        if let Some(own) = own_env
            .region
            .as_ref()
            .filter(|r| self.artifact_stores.contains_key(*r))
        {
            return Err(ConstructError::conflict(
                path,
                format!(
                    "artifact_stores has an entry for {own}, the pipeline's own region, whose store is the \
                     pipeline's artifacts bucket: remove it"
                ),
            ));
        }
        let targets = stages
            .iter()
            .map(|stage| self.target(path, self_stack, own_env, stage))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CheckedPipeline {
            stages: checked,
            targets,
            services,
        })
    }

    /// Where `stage` deploys: its account and region when they are not the pipeline's, with an artifact store for
    /// its region.
    fn target(
        &self,
        path: &str,
        self_stack: &str,
        own_env: &Environment,
        stage: &DeployStage,
    ) -> Result<StageTarget, ConstructError> {
        let Some(env) = &stage.env else {
            return Ok(StageTarget::default());
        };
        let leaves = |field: &str, stage_value: &Option<String>, own: &Option<String>| {
            match (stage_value, own) {
            (None, _) => Ok(None),
            (Some(s), Some(o)) if s == o => Ok(None),
            (Some(s), Some(_)) => Ok(Some(s.clone())),
            (Some(s), None) => Err(ConstructError::invalid(
                path,
                format!(
                    "stage {} deploys to {field} {s}, and the pipeline's stack {self_stack} has no {field}: set it \
                     with `stack.set_env`, so that the stages in other {field}s are known",
                    stage.name
                ),
            )),
        }
        };
        let account = leaves("account", &env.account, &own_env.account)?;
        let region = leaves("region", &env.region, &own_env.region)?;
        if let Some(r) = &region {
            if !self.artifact_stores.contains_key(r) {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "stage {} deploys to region {r}, where the pipeline has no artifact store: CodePipeline \
                         copies the artifacts to a bucket of each region it deploys to, which the pipeline's stack \
                         cannot create in another region. Make a versioned bucket and a KMS key in {r} (a stack \
                         with `set_env` there) and pass them as PipelineProps::artifact_stores[\"{r}\"]",
                        stage.name
                    ),
                ));
            }
        }
        Ok(StageTarget { region, account })
    }
}

/// The services of the pipeline's own stack, which `UpdatePipeline` deploys with the same role.
const SELF_SERVICES: &[&str] = &["codebuild", "codepipeline", "iam", "kms", "logs", "s3"];

/// IAM prefixes that are not the lowercased service part of the type name (`AWS::<Service>::<Type>`).
const SERVICE_PREFIXES: &[(&str, &str)] = &[
    ("ApiGatewayV2", "apigateway"),
    ("CertificateManager", "acm"),
    ("Cognito", "cognito-idp"),
    ("ElasticLoadBalancingV2", "elasticloadbalancing"),
];

/// The IAM prefix of the service that manages a resource type (`AWS::DynamoDB::Table` -> `dynamodb`); `None`
/// for custom resources.
fn service_of(type_name: &str) -> Option<String> {
    let service = type_name.strip_prefix("AWS::")?.split("::").next()?;
    Some(
        SERVICE_PREFIXES
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, p)| (*p).to_owned())
            .unwrap_or_else(|| service.to_ascii_lowercase()),
    )
}

fn resource_types(s: &StackArtifact) -> Vec<String> {
    match s.template.get("Resources") {
        Some(Node::Map(rs)) => rs
            .iter()
            .filter_map(|(_, r)| match r.get("Type") {
                Some(Node::String(t)) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The stack's parameters, and whether each has a default.
fn parameters(s: &StackArtifact) -> Vec<(String, bool)> {
    match s.template.get("Parameters") {
        Some(Node::Map(ps)) => ps
            .iter()
            .map(|(name, p)| (name.clone(), p.get("Default").is_some()))
            .collect(),
        _ => Vec::new(),
    }
}

/// What the change set actions allow CloudFormation to do: IAM resources with names, and macros (the
/// `AWS::LanguageExtensions` transform some intrinsics add).
const CAPABILITIES: &str = "CAPABILITY_IAM,CAPABILITY_NAMED_IAM,CAPABILITY_AUTO_EXPAND";
/// The change set each deploy action creates and executes.
const CHANGE_SET: &str = "cfnkit-pipeline";
/// The build's output artifact: the `package` output directory.
const SYNTH_ARTIFACT: &str = "Synth";
const SOURCE_ARTIFACT: &str = "Source";

/// A CodePipeline pipeline deploying a cfnkit app's stacks (see the module documentation).
#[derive(Clone, Debug)]
pub struct Pipeline {
    scope: OwnScope,
    handle: cp::PipelineHandle,
    role: Role,
    build_role: Role,
    deploy_role: Role,
    key: Key,
    artifacts: Bucket,
    stages: Vec<(String, Vec<StackDeployment>)>,
}

impl Pipeline {
    /// A pipeline at `<scope>/<id>` deploying `app` (the synthesized app whose stacks it deploys, in its deploy
    /// order) from `source`, environment by environment as `stages` say. The stack the pipeline is in deploys
    /// itself in the `UpdatePipeline` stage, so `app` may include it or not.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        app: &Assembly,
        source: PipelineSource<'_>,
        stages: Vec<DeployStage>,
        props: PipelineProps,
    ) -> Result<Pipeline, ConstructError> {
        let scope = scope.as_scope().child(id);
        let self_stack = scope.stack().name().to_string();
        let own_env = scope.stack().0.borrow().env.clone();
        let checked = props.validate(scope.path(), app, &self_stack, &own_env, &stages)?;

        let key = Key::new(
            &scope,
            "ArtifactKey",
            KeyProps {
                description: Some(format!(
                    "Artifacts, cache and build logs of {}",
                    scope.path()
                )),
                ..Default::default()
            },
        )?;
        let artifacts = Bucket::new(
            &scope,
            "Artifacts",
            BucketProps {
                encryption: BucketEncryption::Kms(&key),
                // Artifacts and caches are rebuilt by any run: nothing to keep once the pipeline is gone.
                removal_policy: RemovalPolicy::Delete,
                ..Default::default()
            },
        )?;
        let logs = LogGroup::new(
            &scope,
            "BuildLogs",
            LogGroupProps {
                encryption_key: Some(&key),
                ..Default::default()
            },
        )?;

        // CodeBuild: tests, package, asset upload.
        let build_role = Role::new(
            &scope,
            "BuildRole",
            Principal::service("codebuild.amazonaws.com"),
            RoleProps::default(),
        )?;
        logs.grant_write(&build_role);
        // The bucket's grants include the key use (envelope encryption of artifacts and cache).
        artifacts.grant_read_write(&build_role);
        let assets_bucket = format!("arn:${{AWS::Partition}}:s3:::{}", crate::assets::BUCKET);
        let assets = fns::sub(format!("{assets_bucket}/assets/*"));
        build_role.grant(actions::S3_ASSETS_UPLOAD, [assets.clone()]);
        build_role.grant(actions::S3_ASSETS_LIST, [fns::sub(&assets_bucket)]);
        let project = scope.add::<cb::Project>(
            "Build",
            cb::Project {
                description: Some(
                    "Tests the app, packages its templates and Lambda zips, uploads the zips"
                        .into(),
                ),
                service_role: Some(build_role.role_arn()),
                source: Some(Val::from(cb::project::Source {
                    type_: Some("CODEPIPELINE".into()),
                    build_spec: Some(buildspec(&props).into()),
                    ..Default::default()
                })),
                artifacts: Some(Val::from(cb::project::Artifacts {
                    type_: Some("CODEPIPELINE".into()),
                    ..Default::default()
                })),
                environment: Some(Val::from(cb::project::Environment {
                    type_: Some("LINUX_CONTAINER".into()),
                    image: Some("aws/codebuild/amazonlinux-x86_64-standard:5.0".into()),
                    compute_type: Some("BUILD_GENERAL1_LARGE".into()),
                    privileged_mode: Some(false.into()),
                    environment_variables: Some(Val::from(vec![
                        cb::project::EnvironmentVariable {
                            name: Some("ASSETS_BUCKET".into()),
                            value: Some(fns::sub(crate::assets::BUCKET)),
                            type_: Some("PLAINTEXT".into()),
                        },
                    ])),
                    ..Default::default()
                })),
                encryption_key: Some(key.key_arn()),
                cache: Some(Val::from(cb::project::ProjectCache {
                    type_: Some("S3".into()),
                    location: Some(fns::sub_with(
                        "${Bucket}/build-cache",
                        [("Bucket", artifacts.bucket_name())],
                    )),
                    ..Default::default()
                })),
                logs_config: Some(Val::from(cb::project::LogsConfig {
                    cloud_watch_logs: Some(Val::from(cb::project::CloudWatchLogsConfig {
                        status: Some("ENABLED".into()),
                        group_name: Some(logs.log_group_name()),
                        ..Default::default()
                    })),
                    ..Default::default()
                })),
                timeout_in_minutes: Some(i64::from(props.build_timeout_minutes).into()),
                ..Default::default()
            },
        );

        // CloudFormation's role: the services the templates use, nothing else.
        let deploy_role = Role::new(
            &scope,
            "DeployRole",
            Principal::service("cloudformation.amazonaws.com"),
            RoleProps {
                description: Some(format!(
                    "CloudFormation deploying the stacks of {}: the services their templates use",
                    scope.path()
                )),
                ..Default::default()
            },
        )?;
        let service_actions: Vec<String> =
            checked.services.iter().map(|s| format!("{s}:*")).collect();
        let service_actions: Vec<&str> = service_actions.iter().map(String::as_str).collect();
        deploy_role.grant(&service_actions, ["*"]);
        // CloudFormation reads the Lambda zips with the deploying role's credentials.
        deploy_role.grant(actions::S3_ASSETS_READ, [assets]);
        // CloudFormation reads the templates from the artifacts.
        artifacts.grant_read(&deploy_role);
        let mut items: Vec<String> = service_actions
            .iter()
            .map(|a| format!("Action::{a}"))
            .collect();
        items.push("Resource::*".to_owned());
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        crate::rules::suppress_only(
            deploy_role.handle(),
            &crate::rules::IAM5,
            &items,
            "CloudFormation creates, updates and deletes every resource of the deployed templates, whose names and \
             ARNs are only known once created: the role is limited to the services those templates use",
        );

        // The pipeline's own role.
        let role = Role::new(
            &scope,
            "Role",
            Principal::service("codepipeline.amazonaws.com"),
            RoleProps::default(),
        )?;
        artifacts.grant_read_write(&role);
        role.grant(actions::CODEBUILD_RUN, [project.attr_arn()]);
        // The stacks the pipeline's role deploys itself: its own, and those of stages in its account (in their
        // region). Another account's stacks are deployed by that account's deploy role.
        let own_stacks: Vec<(&str, &str)> =
            std::iter::once((self_stack.as_str(), "${AWS::Region}"))
                .chain(
                    checked
                        .stages
                        .iter()
                        .zip(&checked.targets)
                        .filter(|(_, t)| t.account.is_none())
                        .flat_map(|(ds, t)| {
                            let region = t.region.as_deref().unwrap_or("${AWS::Region}");
                            ds.iter().map(move |d| (d.stack.as_str(), region))
                        }),
                )
                .collect();
        let stack_arns: Vec<Val<String>> = own_stacks
            .iter()
            .map(|(name, region)| {
                fns::sub(format!(
                    "arn:${{AWS::Partition}}:cloudformation:{region}:${{AWS::AccountId}}:stack/{name}/*"
                ))
            })
            .collect();
        role.grant(actions::CLOUDFORMATION_CHANGE_SETS, stack_arns);
        let target_roles: Vec<Val<String>> =
            dedup(checked.targets.iter().filter_map(StageTarget::action_role));
        if !target_roles.is_empty() {
            role.grant(actions::STS_ASSUME_ROLE, target_roles.clone());
            // The target accounts' deploy roles read the templates from the artifacts, under the key.
            let to_targets = |statement: PolicyStatement| {
                target_roles
                    .iter()
                    .fold(statement, |s, r| s.principal(Principal::aws(r.clone())))
            };
            // In a key policy, `*` is this key.
            key.add_to_resource_policy(to_targets(
                PolicyStatement::allow()
                    .actions(actions::KMS_ARTIFACTS_READ)
                    .resource("*"),
            ));
            artifacts.add_to_resource_policy(to_targets(
                PolicyStatement::allow()
                    .actions(actions::S3_ARTIFACTS_READ)
                    .resource(artifacts.arn_for_objects("*")),
            ));
        }
        // The stores of other regions: CodePipeline (the pipeline's role) copies the artifacts there, and
        // CloudFormation's role reads the templates there for stages of this account.
        let used_regions: BTreeSet<&str> = checked
            .targets
            .iter()
            .filter_map(|t| t.region.as_deref())
            .collect();
        let mut store_items = Vec::new();
        for region in &used_regions {
            let store = &props.artifact_stores[*region];
            let objects = format!("arn:${{AWS::Partition}}:s3:::{}/*", store.bucket_name);
            role.grant(actions::S3_ARTIFACTS_REPLICATE, [fns::sub(&objects)]);
            role.grant(actions::KMS_ENCRYPT_DECRYPT, [store.key_arn.clone()]);
            deploy_role.grant(actions::S3_ARTIFACTS_READ, [fns::sub(&objects)]);
            deploy_role.grant(actions::KMS_ARTIFACTS_READ, [store.key_arn.clone()]);
            store_items.push(format!(
                "Resource::arn:<AWS::Partition>:s3:::{}/*",
                store.bucket_name
            ));
        }
        if !store_items.is_empty() {
            let store_items: Vec<&str> = store_items.iter().map(String::as_str).collect();
            for r in [&role, &deploy_role] {
                crate::rules::suppress_only(
                    r.handle(),
                    &crate::rules::IAM5,
                    &store_items,
                    "the pipeline's artifact stores in other regions: object ARNs name keys, and each run writes new \
                     ones",
                );
            }
        }
        role.add_to_policy(
            super::PolicyStatement::allow()
                .actions(actions::IAM_PASS_ROLE)
                .resource(deploy_role.role_arn())
                .condition(
                    "StringEquals",
                    "iam:PassedToService",
                    "cloudformation.amazonaws.com",
                ),
        );
        // The wildcards these grants need, each suppressed with why (cdk-nag IAM5's items). The artifacts bucket's
        // object grants (`<Bucket>/*`) suppress their own.
        let assets_objects = format!(
            "Resource::{}/assets/*",
            assets_bucket.replace("${", "<").replace('}', ">")
        );
        for r in [&build_role, &deploy_role] {
            crate::rules::suppress_only(
                r.handle(),
                &crate::rules::IAM5,
                &[&assets_objects],
                "the Lambda zips under assets/ of the assets bucket, named by their content's hash",
            );
        }
        let stack_items: Vec<String> = own_stacks
            .iter()
            .map(|(name, region)| {
                let region = region.replace("${", "<").replace('}', ">");
                format!("Resource::arn:<AWS::Partition>:cloudformation:{region}:<AWS::AccountId>:stack/{name}/*")
            })
            .collect();
        let stack_items: Vec<&str> = stack_items.iter().map(String::as_str).collect();
        crate::rules::suppress_only(
            role.handle(),
            &crate::rules::IAM5,
            &stack_items,
            "a stack's ARN ends in the id CloudFormation gives it when created: the pipeline's stacks by name",
        );
        for check in [
            "CKV_AWS_107",
            "CKV_AWS_108",
            "CKV_AWS_109",
            "CKV_AWS_110",
            "CKV_AWS_111",
        ] {
            crate::rules::skip_checkov(
                deploy_role.handle(),
                check,
                "CloudFormation's role creates the resources of the deployed templates, IAM roles and policies \
                 included: only CloudFormation may assume it, the pipeline passes it, and it is limited to the \
                 services the templates use",
            );
        }
        let source_action = match &source {
            PipelineSource::Connection {
                connection_arn,
                repository,
                branch,
            } => {
                role.grant(actions::CODESTAR_USE_CONNECTION, [connection_arn.clone()]);
                action(
                    "Checkout",
                    cpl::Category::Source,
                    "CodeStarSourceConnection",
                    json_config([
                        ("ConnectionArn", connection_arn.clone().into_raw()),
                        ("FullRepositoryId", repository.as_str().into()),
                        ("BranchName", branch.as_str().into()),
                        ("OutputArtifactFormat", "CODE_ZIP".into()),
                    ]),
                    &[],
                    Some(SOURCE_ARTIFACT),
                    1,
                )
            }
            PipelineSource::S3 {
                bucket,
                key: object,
            } => {
                bucket.objects(object).grant_read(&role);
                role.grant(actions::S3_GET_BUCKET_VERSIONING, [bucket.bucket_arn()]);
                action(
                    "Checkout",
                    cpl::Category::Source,
                    "S3",
                    json_config([
                        ("S3Bucket", bucket.bucket_name().into_raw()),
                        ("S3ObjectKey", object.as_str().into()),
                    ]),
                    &[],
                    Some(SOURCE_ARTIFACT),
                    1,
                )
            }
        };

        let mut pipeline_stages = vec![
            stage("Source", vec![source_action]),
            stage(
                "Build",
                vec![action(
                    "TestAndPackage",
                    cpl::Category::Build,
                    "CodeBuild",
                    json_config([("ProjectName", project.ref_().into_raw())]),
                    &[SOURCE_ARTIFACT],
                    Some(SYNTH_ARTIFACT),
                    1,
                )],
            ),
            stage(
                "UpdatePipeline",
                change_set_actions(
                    &self_stack,
                    1,
                    &StageTarget::default(),
                    &deploy_role.role_arn(),
                ),
            ),
        ];
        let mut deployed = Vec::new();
        for ((stage_props, deployments), target) in
            stages.iter().zip(checked.stages).zip(&checked.targets)
        {
            if stage_props.approval_before {
                pipeline_stages.push(stage(
                    &format!("Approve{}", stage_props.name),
                    vec![action(
                        "Approve",
                        cpl::Category::Approval,
                        "Manual",
                        json_config([(
                            "CustomData",
                            format!("Deploy to {}?", stage_props.name).into(),
                        )]),
                        &[],
                        None,
                        1,
                    )],
                ));
            }
            // Another account's stacks are deployed by its bootstrap execution role.
            let cloudformation_role = match &target.account {
                Some(account) => BootstrapRole::Execution.arn(account, target.region.as_deref()),
                None => deploy_role.role_arn(),
            };
            let actions = deployments
                .iter()
                .flat_map(|d| {
                    change_set_actions(&d.stack, d.run_order, target, &cloudformation_role)
                })
                .collect();
            pipeline_stages.push(stage(&stage_props.name, actions));
            deployed.push((stage_props.name.clone(), deployments));
        }

        let own_store = store_of(artifacts.bucket_name(), key.key_arn());
        let handle = scope.add::<cp::Pipeline>(
            "Resource",
            cp::Pipeline {
                role_arn: Some(role.role_arn()),
                pipeline_type: Some(cpl::PipelineType::V2.into()),
                // The pipeline restarts when UpdatePipeline changed it, so the rest runs as newly defined.
                restart_execution_on_update: Some(true.into()),
                artifact_store: used_regions
                    .is_empty()
                    .then(|| Val::from(own_store.clone())),
                // With actions in other regions, CodePipeline wants a store per region, its own included.
                artifact_stores: (!used_regions.is_empty()).then(|| {
                    let own_region = own_env
                        .region
                        .clone()
                        .expect("validate: set when stages leave it");
                    let mut stores = vec![cpl::ArtifactStoreMap {
                        region: Some(own_region.into()),
                        artifact_store: Some(Val::from(own_store.clone())),
                    }];
                    stores.extend(used_regions.iter().map(|r| {
                        let store = &props.artifact_stores[*r];
                        cpl::ArtifactStoreMap {
                            region: Some((*r).into()),
                            artifact_store: Some(Val::from(store_of(
                                store.bucket_name.as_str().into(),
                                store.key_arn.clone(),
                            ))),
                        }
                    }));
                    Val::from(stores)
                }),
                stages: Some(Val::from(pipeline_stages)),
                ..Default::default()
            },
        );
        // The role's policy must exist before the pipeline first runs (it starts on creation).
        handle.add_depends_on(role.handle());
        Ok(Pipeline {
            scope: OwnScope(scope),
            handle,
            role,
            build_role,
            deploy_role,
            key,
            artifacts,
            stages: deployed,
        })
    }

    /// The stages that deploy the app, with each stack's run order: what the `Prepare` (create change set) action
    /// of each stack has; its `Deploy` (execute) action has the next.
    pub fn deployments(&self) -> &[(String, Vec<StackDeployment>)] {
        &self.stages
    }
    /// The pipeline's role.
    pub fn role(&self) -> &Role {
        &self.role
    }
    /// The build project's role.
    pub fn build_role(&self) -> &Role {
        &self.build_role
    }
    /// The role CloudFormation deploys the stacks with.
    pub fn deploy_role(&self) -> &Role {
        &self.deploy_role
    }
    /// The key of the artifacts, the cache and the build logs.
    pub fn key(&self) -> &Key {
        &self.key
    }
    /// The artifacts bucket.
    pub fn artifacts(&self) -> &Bucket {
        &self.artifacts
    }
}

impl Construct for Pipeline {
    type L1 = cp::Pipeline;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &cp::PipelineHandle {
        &self.handle
    }
}

fn store_of(bucket: Val<String>, key_arn: Val<String>) -> cpl::ArtifactStore {
    cpl::ArtifactStore {
        type_: Some(cpl::Type::S3.into()),
        location: Some(bucket),
        encryption_key: Some(Val::from(cpl::EncryptionKey {
            id: Some(key_arn),
            type_: Some("KMS".into()),
        })),
    }
}

/// The values once each, in their first order.
fn dedup(values: impl Iterator<Item = Val<String>>) -> Vec<Val<String>> {
    let mut out: Vec<Val<String>> = Vec::new();
    for v in values {
        if !out.iter().any(|o| o.raw() == v.raw()) {
            out.push(v);
        }
    }
    out
}

fn json_config<const N: usize>(entries: [(&str, Value); N]) -> Val<cfnkit_core::Json> {
    Val::from_raw(Value::map(entries))
}

fn stage(name: &str, actions: Vec<cpl::ActionDeclaration>) -> cpl::StageDeclaration {
    cpl::StageDeclaration {
        name: Some(name.into()),
        actions: Some(Val::from(actions)),
        ..Default::default()
    }
}

#[allow(clippy::too_many_arguments)]
fn action(
    name: &str,
    category: cpl::Category,
    provider: &str,
    configuration: Val<cfnkit_core::Json>,
    inputs: &[&str],
    output: Option<&str>,
    run_order: u32,
) -> cpl::ActionDeclaration {
    cpl::ActionDeclaration {
        name: Some(name.into()),
        action_type_id: Some(Val::from(cpl::ActionTypeId {
            category: Some(category.into()),
            owner: Some("AWS".into()),
            provider: Some(provider.into()),
            version: Some("1".into()),
        })),
        configuration: Some(configuration),
        input_artifacts: (!inputs.is_empty()).then(|| {
            Val::from(
                inputs
                    .iter()
                    .map(|i| cpl::InputArtifact {
                        name: Some((*i).into()),
                    })
                    .collect::<Vec<_>>(),
            )
        }),
        output_artifacts: output.map(|o| {
            Val::from(vec![cpl::OutputArtifact {
                name: Some(o.into()),
                ..Default::default()
            }])
        }),
        run_order: Some(i64::from(run_order).into()),
        ..Default::default()
    }
}

/// `<Stack>.Prepare` (create or replace the change set) at `run_order`, then `<Stack>.Deploy` (execute it), in
/// `target`'s region and account; CloudFormation deploys with `cloudformation_role`.
fn change_set_actions(
    stack: &str,
    run_order: u32,
    target: &StageTarget,
    cloudformation_role: &Val<String>,
) -> Vec<cpl::ActionDeclaration> {
    let prepare = action(
        &format!("{stack}.Prepare"),
        cpl::Category::Deploy,
        "CloudFormation",
        json_config([
            ("ActionMode", "CHANGE_SET_REPLACE".into()),
            ("StackName", stack.into()),
            ("ChangeSetName", CHANGE_SET.into()),
            (
                "TemplatePath",
                format!("{SYNTH_ARTIFACT}::{stack}.template.json").into(),
            ),
            ("Capabilities", CAPABILITIES.into()),
            ("RoleArn", cloudformation_role.clone().into_raw()),
        ]),
        &[SYNTH_ARTIFACT],
        None,
        run_order,
    );
    let deploy = action(
        &format!("{stack}.Deploy"),
        cpl::Category::Deploy,
        "CloudFormation",
        json_config([
            ("ActionMode", "CHANGE_SET_EXECUTE".into()),
            ("StackName", stack.into()),
            ("ChangeSetName", CHANGE_SET.into()),
        ]),
        &[],
        None,
        run_order + 1,
    );
    [prepare, deploy]
        .into_iter()
        .map(|a| cpl::ActionDeclaration {
            region: target.region.clone().map(Val::from),
            role_arn: target.action_role(),
            ..a
        })
        .collect()
}

/// The build: the pinned toolchain and the zig linker `package` needs, the tests, `package`, the zips to the
/// assets bucket; the `package` output is the artifact, and cargo's registry and target directory the cache.
fn buildspec(props: &PipelineProps) -> String {
    let spec = json!({
        "version": "0.2",
        "phases": {
            "install": {"commands": [
                format!(
                    "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal \
                     --default-toolchain {}",
                    props.rust_toolchain
                ),
                "pip3 install --quiet cargo-zigbuild==0.24.0 ziglang==0.15.2",
            ]},
            "build": {"commands": [
                ". \"$HOME/.cargo/env\"",
                props.test_command,
                props.package_command,
                "aws s3 sync cfnkit.out/assets \"s3://${ASSETS_BUCKET}/assets\"",
            ]},
        },
        "artifacts": {"base-directory": "cfnkit.out", "files": ["**/*"]},
        "cache": {"paths": ["/root/.cargo/registry/**/*", "/root/.cargo/git/**/*", "target/**/*"]},
    });
    serde_json::to_string_pretty(&spec).expect("a buildspec serializes")
}
