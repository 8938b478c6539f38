//! CodeDeploy for Lambda: gradual deploys of a [`Function`] through an alias
//! ([`Function::deploy_gradually`]), with canary, linear or all-at-once traffic shifting, automatic rollback
//! when an alarm fires, and optional pre- and post-traffic hook functions.
//!
//! CloudFormation does the deploy itself: the alias carries the `CodeDeployLambdaAliasUpdate` update policy, so
//! when a stack update publishes a new version, CloudFormation hands the alias update to CodeDeploy, which
//! shifts traffic to the new version step by step and rolls the alias back (and fails the stack update) on a
//! failed hook or an alarm.

use std::time::Duration;

use cfnkit_core::{ResourceHandle, Val, Value};
use cfnkit_l1::codedeploy as l1;
use cfnkit_l1::lambda as lambda_l1;
use l1::deployment_config as config_l1;
use l1::deployment_group as group_l1;
use sha2::{Digest, Sha256};

use super::cloudwatch::Alarm;
use super::iam::{Grant, Grantable, Principal, Role, RoleProps};
use super::lambda::Function;
use super::{actions, human, Construct, ConstructError};
use crate::fns;

/// How CodeDeploy moves traffic from the alias's current version to the new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LambdaDeploymentConfig {
    /// All traffic at once (hooks and alarms still run, and a failure rolls back).
    AllAtOnce,
    /// `percentage` of the traffic for `interval`, then the rest.
    Canary {
        /// Traffic shifted first, 1 to 99 percent.
        percentage: u32,
        /// How long the canary runs before the rest is shifted, in whole minutes.
        interval: Duration,
    },
    /// `percentage` more of the traffic every `interval` until all of it is shifted.
    Linear {
        /// Traffic shifted at each step, 1 to 99 percent.
        percentage: u32,
        /// Time between steps, in whole minutes.
        interval: Duration,
    },
}

const MINUTE: u64 = 60;

impl LambdaDeploymentConfig {
    /// `CodeDeployDefault.LambdaCanary10Percent5Minutes`.
    pub const CANARY_10_PERCENT_5_MINUTES: Self = Self::canary(10, 5);
    /// `CodeDeployDefault.LambdaCanary10Percent10Minutes`.
    pub const CANARY_10_PERCENT_10_MINUTES: Self = Self::canary(10, 10);
    /// `CodeDeployDefault.LambdaCanary10Percent15Minutes`.
    pub const CANARY_10_PERCENT_15_MINUTES: Self = Self::canary(10, 15);
    /// `CodeDeployDefault.LambdaCanary10Percent30Minutes`.
    pub const CANARY_10_PERCENT_30_MINUTES: Self = Self::canary(10, 30);
    /// `CodeDeployDefault.LambdaLinear10PercentEvery1Minute`.
    pub const LINEAR_10_PERCENT_EVERY_1_MINUTE: Self = Self::linear(10, 1);
    /// `CodeDeployDefault.LambdaLinear10PercentEvery2Minutes`.
    pub const LINEAR_10_PERCENT_EVERY_2_MINUTES: Self = Self::linear(10, 2);
    /// `CodeDeployDefault.LambdaLinear10PercentEvery3Minutes`.
    pub const LINEAR_10_PERCENT_EVERY_3_MINUTES: Self = Self::linear(10, 3);
    /// `CodeDeployDefault.LambdaLinear10PercentEvery10Minutes`.
    pub const LINEAR_10_PERCENT_EVERY_10_MINUTES: Self = Self::linear(10, 10);

    const fn canary(percentage: u32, minutes: u64) -> Self {
        LambdaDeploymentConfig::Canary {
            percentage,
            interval: Duration::from_secs(minutes * MINUTE),
        }
    }
    const fn linear(percentage: u32, minutes: u64) -> Self {
        LambdaDeploymentConfig::Linear {
            percentage,
            interval: Duration::from_secs(minutes * MINUTE),
        }
    }

    /// The name of CodeDeploy's own configuration with these values, when there is one: no resource is needed
    /// for it.
    fn predefined_name(&self) -> Option<String> {
        let (kind, percentage, minutes) = match *self {
            LambdaDeploymentConfig::AllAtOnce => {
                return Some("CodeDeployDefault.LambdaAllAtOnce".to_owned())
            }
            LambdaDeploymentConfig::Canary {
                percentage,
                interval,
            } => ("Canary", percentage, interval.as_secs() / MINUTE),
            LambdaDeploymentConfig::Linear {
                percentage,
                interval,
            } => ("Linear", percentage, interval.as_secs() / MINUTE),
        };
        match (kind, percentage, minutes) {
            ("Canary", 10, 5 | 10 | 15 | 30) => Some(format!(
                "CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes"
            )),
            ("Linear", 10, 1) => {
                Some("CodeDeployDefault.LambdaLinear10PercentEvery1Minute".to_owned())
            }
            ("Linear", 10, 2 | 3 | 10) => Some(format!(
                "CodeDeployDefault.LambdaLinear10PercentEvery{minutes}Minutes"
            )),
            _ => None,
        }
    }

    /// The percentage and whole minutes of a canary or linear configuration, checked: CodeDeploy takes
    /// intervals in minutes, and 0 or 100 percent would not be gradual (use [`LambdaDeploymentConfig::AllAtOnce`]).
    fn validate(&self, path: &str) -> Result<Option<(i64, i64)>, ConstructError> {
        let (what, percentage, interval) = match *self {
            LambdaDeploymentConfig::AllAtOnce => return Ok(None),
            LambdaDeploymentConfig::Canary {
                percentage,
                interval,
            } => ("canary", percentage, interval),
            LambdaDeploymentConfig::Linear {
                percentage,
                interval,
            } => ("linear", percentage, interval),
        };
        if !(1..=99).contains(&percentage) {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "a {what} deployment shifts 1 to 99 percent of the traffic at a step, got {percentage}; for \
                     all of it at once use LambdaDeploymentConfig::AllAtOnce"
                ),
            ));
        }
        let secs = interval.as_secs();
        if interval.subsec_nanos() != 0 || secs == 0 || secs % MINUTE != 0 {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "a {what} deployment's interval must be a whole number of minutes (at least 1), got {}",
                    human(interval)
                ),
            ));
        }
        Ok(Some((i64::from(percentage), (secs / MINUTE) as i64)))
    }
}

/// Props of [`Function::deploy_gradually`].
#[derive(Clone, Debug)]
pub struct DeployGraduallyProps<'a> {
    /// How traffic moves to a new version.
    pub config: LambdaDeploymentConfig,
    /// Alarms that stop a deployment and roll the alias back when they fire (read by CodeDeploy while traffic
    /// shifts). Without any, only a failed hook or a stopped deployment rolls back.
    pub alarms: Vec<&'a Alarm>,
    /// A function CodeDeploy invokes before any traffic reaches the new version (to test it through its
    /// version ARN); it reports its verdict with `PutLifecycleEventHookExecutionStatus`, which it is granted.
    /// Without it traffic starts shifting at once.
    pub pre_traffic_hook: Option<&'a Function>,
    /// A function CodeDeploy invokes once all traffic is on the new version, the same way. Without it the
    /// deployment ends when the traffic is shifted.
    pub post_traffic_hook: Option<&'a Function>,
    /// The alias's name (letters, digits, `-` and `_`, not only digits). Without it `live`.
    pub alias_name: String,
}

impl Default for DeployGraduallyProps<'_> {
    fn default() -> Self {
        DeployGraduallyProps {
            config: LambdaDeploymentConfig::CANARY_10_PERCENT_5_MINUTES,
            alarms: Vec::new(),
            pre_traffic_hook: None,
            post_traffic_hook: None,
            alias_name: "live".to_owned(),
        }
    }
}

/// [`DeployGraduallyProps`] as [`DeployGraduallyProps::validate`] accepted them.
struct CheckedDeployGraduallyProps {
    /// Percentage and minutes of a custom configuration.
    custom: Option<(i64, i64)>,
}

impl DeployGraduallyProps<'_> {
    /// Every check before anything is built: the configuration, the alias name, hooks that are not the
    /// function itself, and the function not being wired to triggers yet.
    fn validate(&self, function: &Function) -> Result<CheckedDeployGraduallyProps, ConstructError> {
        let path = function.path();
        let checked = self.config.validate(path)?;
        let name = &self.alias_name;
        let valid = (1..=128).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && !name.chars().all(|c| c.is_ascii_digit());
        if !valid {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "alias_name must be 1 to 128 letters, digits, `-` or `_`, and not only digits (those name \
                     versions), got {name:?}"
                ),
            ));
        }
        for (prop, hook) in [
            ("pre_traffic_hook", self.pre_traffic_hook),
            ("post_traffic_hook", self.post_traffic_hook),
        ] {
            if hook.is_some_and(|h| h.path() == path) {
                return Err(ConstructError::conflict(
                    path,
                    format!("{prop} is the function being deployed: give it a function of its own that tests it"),
                ));
            }
        }
        if function.is_deployed_gradually() {
            return Err(ConstructError::conflict(
                path,
                "deploy_gradually was already called on this function: call it once",
            ));
        }
        let wired = function.triggers_wired();
        if wired > 0 {
            return Err(ConstructError::conflict(
                path,
                format!(
                    "{wired} trigger(s) (event sources, API integrations, rule targets, subscriptions) were wired \
                     to the function before deploy_gradually, and they would bypass the alias: call \
                     deploy_gradually right after Function::new"
                ),
            ));
        }
        Ok(CheckedDeployGraduallyProps { custom: checked })
    }
}

/// What [`Function::deploy_gradually`] made, under the function's path: the published version
/// (`<Fn>Version`), the alias every trigger invokes (`<Fn>Alias`), and the CodeDeploy application
/// (`<Fn>DeploymentApplication`), deployment group (`<Fn>Deployment`), its service role
/// (`<Fn>DeploymentServiceRole`) and, for a configuration CodeDeploy does not predefine, the deployment
/// configuration (`<Fn>DeploymentConfig`).
#[derive(Clone, Debug)]
pub struct GradualDeployment {
    path: String,
    version: lambda_l1::VersionHandle,
    alias: lambda_l1::AliasHandle,
    application: l1::ApplicationHandle,
    group: l1::DeploymentGroupHandle,
    role: Role,
}

impl GradualDeployment {
    /// The alias's ARN: what the function's triggers invoke.
    pub fn alias_arn(&self) -> Val<String> {
        self.alias.ref_()
    }
    /// The alias's typed handle.
    pub fn alias(&self) -> &lambda_l1::AliasHandle {
        &self.alias
    }
    /// The published version's typed handle.
    pub fn version(&self) -> &lambda_l1::VersionHandle {
        &self.version
    }
    /// The CodeDeploy application's name.
    pub fn application_name(&self) -> Val<String> {
        self.application.ref_()
    }
    /// The role CodeDeploy deploys with.
    pub fn role(&self) -> &Role {
        &self.role
    }
}

impl Construct for GradualDeployment {
    type L1 = l1::DeploymentGroup;
    fn path(&self) -> &str {
        &self.path
    }
    fn handle(&self) -> &l1::DeploymentGroupHandle {
        &self.group
    }
}

impl Function {
    /// Deploys this function gradually from now on: a published version, an alias (`live` unless told
    /// otherwise) that every trigger wired afterwards invokes (event sources, API integrations, rule targets,
    /// subscriptions), and a CodeDeploy deployment group that shifts the alias to each new version as
    /// `props.config` says, rolling back on the alarms and hooks of `props`.
    ///
    /// Call it right after [`Function::new`]: a trigger wired before would invoke the function's latest code
    /// directly, bypassing the deployment, so that is refused.
    ///
    /// A new version is published when the code's S3 key (its zip's hash, filled in by `package`) or the
    /// function's properties as they are at this call change: the version's description carries both, and a
    /// changed description replaces the version.
    pub fn deploy_gradually(
        &mut self,
        props: DeployGraduallyProps<'_>,
    ) -> Result<GradualDeployment, ConstructError> {
        let checked = props.validate(self)?;
        let scope = self.own_scope().clone();
        let path = format!("{}/Deployment", scope.path());

        let version = scope.add::<lambda_l1::Version>(
            "Version",
            lambda_l1::Version {
                function_name: Some(self.function_name()),
                description: Some(version_description(self.handle()).into()),
                ..Default::default()
            },
        );
        let alias = scope.add::<lambda_l1::Alias>(
            "Alias",
            lambda_l1::Alias {
                function_name: Some(self.function_name()),
                function_version: Some(version.attr_version()),
                name: Some(props.alias_name.as_str().into()),
                description: Some(
                    "Invoked by every trigger of the function; CodeDeploy shifts it to new versions".into(),
                ),
                ..Default::default()
            },
        );
        // Built from the function's ARN rather than the alias's Ref: the alias's update policy names the
        // deployment group, whose role this ARN goes into, so a Ref would be a cycle.
        let alias_arn = fns::sub_with(
            format!("${{Function}}:{}", props.alias_name),
            [("Function", self.handle().attr_arn())],
        );

        let deployment = scope.child("Deployment");
        let application = deployment.add::<l1::Application>(
            "Application",
            l1::Application {
                compute_platform: Some(l1::application::ComputePlatform::Lambda.into()),
                ..Default::default()
            },
        );
        let role = Role::new(
            &deployment,
            "ServiceRole",
            Principal::service("codedeploy.amazonaws.com"),
            RoleProps {
                description: Some(format!("CodeDeploy shifting the alias of {}", scope.path())),
                ..Default::default()
            },
        )?;
        role.grant(
            actions::CODEDEPLOY_LAMBDA_ALIAS,
            [self.handle().attr_arn(), alias_arn.clone()],
        );
        if !props.alarms.is_empty() {
            role.grant(
                actions::CODEDEPLOY_DESCRIBE_ALARMS,
                props.alarms.iter().map(|a| a.alarm_arn()),
            );
        }
        let hooks: Vec<&Function> = [props.pre_traffic_hook, props.post_traffic_hook]
            .into_iter()
            .flatten()
            .collect();
        if !hooks.is_empty() {
            role.grant(
                actions::LAMBDA_INVOKE,
                hooks.iter().map(|h| h.handle().attr_arn()),
            );
        }

        let config_name = match (props.config.predefined_name(), checked.custom) {
            (Some(name), _) => Some(Val::from(name)),
            (None, Some((percentage, minutes))) => {
                let routing = match props.config {
                    LambdaDeploymentConfig::Canary { .. } => config_l1::TrafficRoutingConfig {
                        type_: Some(config_l1::TrafficRoutingConfigType::TimeBasedCanary.into()),
                        time_based_canary: Some(Val::from(config_l1::TimeBasedCanary {
                            canary_interval: Some(minutes.into()),
                            canary_percentage: Some(percentage.into()),
                        })),
                        ..Default::default()
                    },
                    _ => config_l1::TrafficRoutingConfig {
                        type_: Some(config_l1::TrafficRoutingConfigType::TimeBasedLinear.into()),
                        time_based_linear: Some(Val::from(config_l1::TimeBasedLinear {
                            linear_interval: Some(minutes.into()),
                            linear_percentage: Some(percentage.into()),
                        })),
                        ..Default::default()
                    },
                };
                let config = deployment.add::<l1::DeploymentConfig>(
                    "Config",
                    l1::DeploymentConfig {
                        compute_platform: Some(config_l1::ComputePlatform::Lambda.into()),
                        traffic_routing_config: Some(routing.into()),
                        ..Default::default()
                    },
                );
                Some(config.ref_())
            }
            // All at once is predefined.
            (None, None) => None,
        };

        let mut rollback_events = vec![group_l1::Events::DeploymentFailure];
        if !props.alarms.is_empty() {
            rollback_events.push(group_l1::Events::DeploymentStopOnAlarm);
        }
        let group = deployment.add::<l1::DeploymentGroup>(
            "Resource",
            l1::DeploymentGroup {
                application_name: Some(application.ref_()),
                // Named, so that the hooks' grant can spell the group's ARN without a reference to it (which
                // would be a cycle: the group's role may invoke the hooks). The application holds this group only.
                deployment_group_name: Some(props.alias_name.as_str().into()),
                service_role_arn: Some(role.role_arn()),
                deployment_config_name: config_name,
                deployment_style: Some(Val::from(group_l1::DeploymentStyle {
                    deployment_option: Some(group_l1::DeploymentOption::WithTrafficControl.into()),
                    deployment_type: Some(group_l1::DeploymentType::BlueGreen.into()),
                })),
                alarm_configuration: (!props.alarms.is_empty()).then(|| {
                    Val::from(group_l1::AlarmConfiguration {
                        enabled: Some(true.into()),
                        alarms: Some(Val::from(
                            props
                                .alarms
                                .iter()
                                .map(|a| group_l1::Alarm {
                                    name: Some(a.alarm_name()),
                                })
                                .collect::<Vec<_>>(),
                        )),
                        ..Default::default()
                    })
                }),
                auto_rollback_configuration: Some(Val::from(group_l1::AutoRollbackConfiguration {
                    enabled: Some(true.into()),
                    events: Some(Val::from(rollback_events)),
                })),
                ..Default::default()
            },
        );
        // CodeDeploy must be able to use its role before it is handed its first deployment.
        group.add_depends_on(role.handle());

        let group_arn = fns::sub_with(
            format!(
                "arn:${{AWS::Partition}}:codedeploy:${{AWS::Region}}:${{AWS::AccountId}}:deploymentgroup:\
                 ${{Application}}/{}",
                props.alias_name
            ),
            [("Application", application.ref_())],
        );
        for hook in &hooks {
            hook.grant_role()
                .grant(actions::CODEDEPLOY_HOOK_STATUS, [group_arn.clone()]);
        }

        let mut update = vec![
            ("ApplicationName", application.ref_().into_raw()),
            ("DeploymentGroupName", group.ref_().into_raw()),
        ];
        if let Some(h) = props.pre_traffic_hook {
            update.push(("BeforeAllowTrafficHook", h.function_name().into_raw()));
        }
        if let Some(h) = props.post_traffic_hook {
            update.push(("AfterAllowTrafficHook", h.function_name().into_raw()));
        }
        alias.set_update_policy(Value::map([(
            "CodeDeployLambdaAliasUpdate",
            Value::map(update),
        )]));

        self.invoke_through(alias.ref_());
        Ok(GradualDeployment {
            path,
            version,
            alias,
            application,
            group,
            role,
        })
    }
}

/// The version's description: the code's S3 key (with the asset hash `package` fills in, see
/// `assets::substitute`) and a digest of the function's other properties, so that a change of either replaces
/// the version, which is how CloudFormation publishes a new one.
fn version_description(function: &ResourceHandle) -> String {
    let entry = function.entry();
    let mut properties = entry.resource.properties();
    let code = properties.remove("Code");
    let key = match code.as_ref() {
        Some(Value::Map(code)) => match code.get("S3Key") {
            Some(Value::String(key)) => key.clone(),
            _ => "(not an S3 key)".to_owned(),
        },
        _ => "(no code)".to_owned(),
    };
    let digest = Sha256::digest(format!("{properties:?}").as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("code {key}, configuration {hex}")
}

impl GradualDeployment {
    /// Lets the grantee report a hook's verdict to this deployment group (for a hook added outside
    /// [`DeployGraduallyProps`]).
    pub fn grant_put_lifecycle_event_hook_execution_status(
        &self,
        grantee: &(impl Grantable + ?Sized),
    ) -> Grant {
        let group_arn = fns::sub_with(
            "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:${Application}/${Group}",
            [
                ("Application", self.application.ref_()),
                ("Group", self.group.ref_()),
            ],
        );
        grantee
            .grant_role()
            .grant(actions::CODEDEPLOY_HOOK_STATUS, [group_arn])
    }
}
