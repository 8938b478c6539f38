//! Lambda: [`Function`] (provided.al2023 on arm64, its own execution role and log group, X-Ray tracing) and its
//! event sources: [`SqsEventSource`], [`DynamoEventSource`], [`KinesisEventSource`].
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Orders");
//! let queue = Queue::new(&stack, "Jobs", QueueProps {
//!     visibility_timeout: Some(Duration::from_secs(60)),
//!     ..Default::default()
//! })?;
//! let table = Table::new(&stack, "Orders", Attribute::string("orderId"), TableProps {
//!     stream: Some(StreamViewType::NewImage),
//!     ..Default::default()
//! })?;
//! // provided.al2023 on arm64, a role of its own, a log group kept a year, X-Ray tracing: all defaults.
//! let worker = Function::new(&stack, "Worker", Code::cargo_bin("handlers", "worker"), FunctionProps {
//!     environment: env([("TABLE_NAME", table.table_name())]),
//!     timeout: Some(Duration::from_secs(10)),
//!     ..Default::default()
//! })?;
//! table.grant_read_write_data(&worker);
//! // Event sources grant what they read; SQS and streams report partial batch failures.
//! worker.add_event_source(SqsEventSource::new(&queue, Default::default()))?;
//! worker.add_event_source(DynamoEventSource::new(&table, Default::default()))?;
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val, Value};
use cfnkit_l1::lambda as l1;
use l1::event_source_mapping as esm;
use l1::function as fl1;

use super::cloudwatch::{Metric, Statistic};
use super::dynamodb::TableRef;
use super::iam::{Grant, Grantable, Principal, Role, RoleProps};
use super::kinesis::StreamRef;
use super::kms::{Key, KeyRef};
use super::logs::{LogGroup, LogGroupProps, Retention};
use super::sqs::{Queue, QueueRef};
use super::{
    actions, check_imported_arn, construct_id, human, imported_name, seconds_in, ArnResource,
    Construct, ConstructError, LambdaTarget, OwnScope,
};
use crate::{fns, AsScope};

/// What [`Code::cargo_bin`] writes as the hash part of the S3 key until `cfnkit package` fills in the SHA-256 of
/// the built zip. Plain `synth` keeps it, so templates (and snapshots) are stable and need no built binaries.
pub const ASSET_HASH_PLACEHOLDER: &str = crate::assets::HASH_PLACEHOLDER;

/// The bucket assets are uploaded to (an `Fn::Sub` pattern): one per account and region, which the deployer
/// creates once. See docs/assets.md.
pub const ASSET_BUCKET: &str = crate::assets::BUCKET;

pub use crate::assets::Architecture;

/// Where a function's code comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Code {
    /// A binary of a cargo package of this workspace, built by `cfnkit package` into a zip holding only
    /// `bootstrap`, for the function's architecture. The template names it in the assets bucket
    /// ([`ASSET_BUCKET`]) at `assets/<bin>/<sha256 of the zip>.zip`; the function resource gets the metadata
    /// `cfnkit:asset: {package, bin, architecture}`, which is how `package` finds what to build.
    Asset {
        /// The cargo package that has the binary (`order-handlers`). `None` (from [`Code::asset`]): `package`
        /// looks the binary up among the workspace's packages and refuses a name that two packages have.
        package: Option<String>,
        /// The binary target's name (`order_api` for `src/bin/order_api.rs`).
        bin: String,
        /// The hex SHA-256 of the zip, or [`ASSET_HASH_PLACEHOLDER`] until `package` knows it.
        hash: String,
    },
    /// A zip already in S3.
    S3 {
        /// The bucket's name.
        bucket: Val<String>,
        /// The zip's key.
        key: Val<String>,
    },
}

impl Code {
    /// The binary `bin` of the cargo package `package`, built and zipped by `cfnkit package` for the
    /// function's architecture (`Code::cargo_bin("order-handlers", "order_api")`).
    pub fn cargo_bin(package: impl Into<String>, bin: impl Into<String>) -> Self {
        Code::Asset {
            package: Some(package.into()),
            bin: bin.into(),
            hash: ASSET_HASH_PLACEHOLDER.to_owned(),
        }
    }
    /// The binary `bin` of whichever workspace package has a binary of that name; prefer
    /// [`Code::cargo_bin`], which says which package.
    pub fn asset(bin: impl Into<String>) -> Self {
        Code::Asset {
            package: None,
            bin: bin.into(),
            hash: ASSET_HASH_PLACEHOLDER.to_owned(),
        }
    }
    /// This asset with a known zip hash (hex SHA-256): for tests, or a zip built outside `cfnkit package`.
    /// Code that is not an asset is returned unchanged.
    pub fn with_hash(self, sha256: impl Into<String>) -> Self {
        match self {
            Code::Asset { package, bin, .. } => Code::Asset {
                package,
                bin,
                hash: sha256.into(),
            },
            other => other,
        }
    }
    /// The binary `bin` (of whichever package has it) whose zip has this hex SHA-256.
    pub fn asset_with_hash(bin: impl Into<String>, sha256: impl Into<String>) -> Self {
        Code::asset(bin).with_hash(sha256)
    }
    /// A zip at `s3://<bucket>/<key>`.
    pub fn s3(bucket: impl Into<Val<String>>, key: impl Into<Val<String>>) -> Self {
        Code::S3 {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// An asset's names go into S3 keys and file paths: checked before anything is built.
    fn validate(&self, path: &str) -> Result<(), ConstructError> {
        match self {
            Code::Asset { package, bin, hash } => {
                crate::assets::check_names(package.as_deref(), bin, hash)
                    .map_err(|e| ConstructError::invalid(path, e.to_string()))
            }
            Code::S3 { .. } => Ok(()),
        }
    }

    fn to_l1(&self) -> fl1::Code {
        match self {
            Code::Asset { bin, hash, .. } => fl1::Code {
                s3_bucket: Some(fns::sub(ASSET_BUCKET)),
                s3_key: Some(crate::assets::key(bin, hash).into()),
                ..Default::default()
            },
            Code::S3 { bucket, key } => fl1::Code {
                s3_bucket: Some(bucket.clone()),
                s3_key: Some(key.clone()),
                ..Default::default()
            },
        }
    }
}

/// X-Ray tracing of invocations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tracing {
    /// Lambda samples and traces requests itself; the role may send traces.
    #[default]
    Active,
    /// Traces only requests that arrive with a sampled trace header.
    PassThrough,
    /// No tracing configuration, and no X-Ray permissions on the role.
    Disabled,
}

/// Props of a [`Function`].
#[derive(Clone, Debug)]
pub struct FunctionProps<'a> {
    /// The runtime identifier. Without it `provided.al2023`, the OS-only runtime a Rust `bootstrap` runs on.
    pub runtime: fl1::Runtime,
    /// The handler. Without it `bootstrap`, the name of the binary in a custom-runtime zip.
    pub handler: String,
    /// The instruction set. Without it arm64.
    pub architecture: Architecture,
    /// A fixed function name. Without it CloudFormation generates a unique name.
    pub function_name: Option<Val<String>>,
    /// What the function does, shown in the console. Without it the function has no description.
    pub description: Option<String>,
    /// Environment variables ([`env()`] makes them from pairs). Without any the function has an empty environment.
    pub environment: BTreeMap<String, Val<String>>,
    /// A customer-managed key for the environment variables at rest. Without it Lambda encrypts them with its
    /// AWS-managed key (checkov's CKV_AWS_173 asks for a customer-managed key).
    pub environment_encryption: Option<&'a KeyRef>,
    /// The longest an invocation may run (1 second to 15 minutes). Without it 3 seconds, Lambda's default.
    pub timeout: Option<Duration>,
    /// Memory in MB (128 to 10,240); CPU grows with it. Without it 128 MB, Lambda's default.
    pub memory_size: Option<u32>,
    /// Concurrent executions reserved for (and limiting) the function. Without it the function shares the
    /// account's unreserved concurrency (checkov's CKV_AWS_115 asks for a limit).
    pub reserved_concurrency: Option<u32>,
    /// X-Ray tracing. Without it tracing is active.
    pub tracing: Tracing,
    /// Where asynchronous invocations that fail every retry go: the role is granted sending to it. Without it
    /// failed asynchronous events are dropped (checkov's CKV_AWS_116 asks for one).
    pub dead_letter_queue: Option<&'a QueueRef>,
    /// How long the function's log group keeps events. Without it one year.
    pub log_retention: Retention,
    /// A customer-managed key for the function's log group. Without it CloudWatch Logs encrypts with its own keys.
    pub log_encryption_key: Option<&'a Key>,
    /// What happens to the function's log group when it leaves the stack. Without it the log group is retained.
    pub log_removal_policy: RemovalPolicy,
}

impl Default for FunctionProps<'_> {
    fn default() -> Self {
        FunctionProps {
            runtime: fl1::Runtime::ProvidedAl2023,
            handler: "bootstrap".to_owned(),
            architecture: Architecture::Arm64,
            function_name: None,
            description: None,
            environment: BTreeMap::new(),
            environment_encryption: None,
            timeout: None,
            memory_size: None,
            reserved_concurrency: None,
            tracing: Tracing::Active,
            dead_letter_queue: None,
            log_retention: Retention::default(),
            log_encryption_key: None,
            log_removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// [`FunctionProps`] as [`FunctionProps::validate`] accepted them.
struct CheckedFunctionProps {
    /// In whole seconds.
    timeout: Option<i64>,
}

impl FunctionProps<'_> {
    /// Every check of the props (and of the `code` they go with), before anything is built: timeout and memory
    /// ranges, the handler, environment variable names, asset names, the log group's retention.
    fn validate(&self, path: &str, code: &Code) -> Result<CheckedFunctionProps, ConstructError> {
        let timeout = self
            .timeout
            .map(|d| {
                seconds_in(
                    path,
                    "timeout",
                    d,
                    Duration::from_secs(1),
                    Duration::from_secs(900),
                )
            })
            .transpose()?;
        if let Some(m) = self.memory_size {
            if !(128..=10_240).contains(&m) {
                return Err(ConstructError::invalid(
                    path,
                    format!("memory_size must be from 128 to 10240 MB, got {m}"),
                ));
            }
        }
        if self.handler.is_empty() {
            return Err(ConstructError::invalid(
                path,
                "handler must not be empty: custom runtimes use `bootstrap`",
            ));
        }
        for name in self.environment.keys() {
            let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || name.starts_with("AWS_") {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "environment variable names must start with a letter, contain only letters, digits \
                         and `_`, and not start with the reserved `AWS_`, got {name:?}"
                    ),
                ));
            }
        }
        code.validate(path)?;
        // The log group's own check, under the path the log group will have, before the role is made.
        LogGroupProps {
            retention: self.log_retention,
            ..Default::default()
        }
        .validate(&format!("{path}/LogGroup"))?;
        Ok(CheckedFunctionProps { timeout })
    }
}

/// A function's environment from `(name, value)` pairs, for [`FunctionProps::environment`]:
/// `environment: env([("TABLE_NAME", table.table_name()), ("STAGE", "prod".into())])`. Names are checked when the
/// function is made.
pub fn env<K: Into<String>, V: Into<Val<String>>>(
    variables: impl IntoIterator<Item = (K, V)>,
) -> BTreeMap<String, Val<String>> {
    variables
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// Why a traced function's role has `Resource::*` (cdk-nag IAM5), written by [`Function`] as the suppression of
/// exactly that item.
pub const XRAY_REASON: &str = "X-Ray tracing (FunctionProps.tracing, active by default): xray:PutTraceSegments \
     and xray:PutTelemetryRecords have no resource-level permissions, IAM accepts only Resource `*` for them";

/// Why a [`Function`] runs outside a VPC (checkov CKV_AWS_117), as the construct writes it.
pub const NO_VPC_REASON: &str = "cfnkit's Function runs outside a VPC: it reaches AWS APIs over TLS with IAM \
     authentication, and a VPC would add NAT gateways or interface endpoints without narrowing what it can reach";

/// Why a [`Function`] without [`FunctionProps::dead_letter_queue`] needs none (checkov CKV_AWS_116).
pub const NO_DEAD_LETTER_QUEUE_REASON: &str = "no FunctionProps.dead_letter_queue: a Lambda dead-letter queue \
     receives failed asynchronous invocations only; synchronous callers (APIs, SQS and stream event sources) get \
     the error, and failed SQS messages move to the source queue's dead-letter queue";

/// Why a [`Function`] without [`FunctionProps::reserved_concurrency`] reserves none (checkov CKV_AWS_115).
pub const NO_RESERVED_CONCURRENCY_REASON: &str = "no FunctionProps.reserved_concurrency: a reservation is taken \
     from every other function of the account and caps this one, a choice per workload; set it to bound the \
     load the function can put on what it calls";

/// Why a [`Function`] without [`FunctionProps::environment_encryption`] uses Lambda's key (checkov CKV_AWS_173).
pub const AWS_MANAGED_ENVIRONMENT_KEY_REASON: &str = "no FunctionProps.environment_encryption: the environment \
     is encrypted at rest with Lambda's AWS-managed key; give a customer-managed key to control and audit its use \
     (secrets belong in Secrets Manager, not in the environment)";

/// Lambda's default timeout, used when [`FunctionProps::timeout`] is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A Lambda function with an execution role made for it and a log group of its own.
///
/// - The role (`<id>/ServiceRole`, logical ID `<Id>ServiceRole`) is assumed by `lambda.amazonaws.com`, has no
///   managed policies (cdk-nag IAM4) and starts with only: writing to the function's own log group, sending
///   traces when tracing is on (X-Ray accepts only `*`), and sending to the dead-letter queue when there is one.
///   Grants and event sources add to it.
/// - The log group (`<id>/LogGroup`, logical ID `<Id>LogGroup`) is named by CloudFormation (or
///   `/aws/lambda/<function_name>` when the function has a fixed name) and the function logs to it through
///   `LoggingConfig.LogGroup`, so there is no reference cycle and retention always applies.
#[derive(Clone, Debug)]
pub struct Function {
    reference: FunctionRef,
    scope: OwnScope,
    handle: l1::FunctionHandle,
    role: Role,
    log_group: LogGroup,
    timeout: Duration,
}

/// A function as invokers see it: its ARN and name. A [`Function`] made here derefs to one; [`Function::from_arn`]
/// makes one for a function made elsewhere. Both are [`LambdaTarget`]s (subscriptions, rule targets, API
/// integrations, authorizers, rotation).
#[derive(Clone, Debug)]
pub struct FunctionRef {
    /// The construct path, or the id of an imported function: what wiring resources are named after.
    path: String,
    /// What triggers invoke: the function's ARN, or its alias's once it is deployed gradually.
    function_arn: Val<String>,
    function_name: Val<String>,
    /// How many triggers took the ARN so far (shared by clones), so that `deploy_gradually` can refuse a
    /// function already wired to triggers that would bypass its alias.
    triggers_wired: Rc<Cell<usize>>,
    /// Whether triggers invoke an alias (`deploy_gradually`).
    through_alias: bool,
}

impl FunctionRef {
    /// Lets the grantee invoke the function.
    pub fn grant_invoke(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        grantee
            .grant_role()
            .grant(actions::LAMBDA_INVOKE, [self.function_arn()])
    }
    /// A metric of the function (`AWS/Lambda`, dimension `FunctionName`).
    pub fn metric(&self, metric_name: &str) -> Metric {
        Metric::new("AWS/Lambda", metric_name).dimension("FunctionName", self.function_name())
    }
    /// `Errors`: invocations that failed (sum over 5 minutes).
    pub fn metric_errors(&self) -> Metric {
        self.metric("Errors").statistic(Statistic::Sum)
    }
    /// `Throttles`: invocations refused for lack of concurrency (sum over 5 minutes).
    pub fn metric_throttles(&self) -> Metric {
        self.metric("Throttles").statistic(Statistic::Sum)
    }
    /// `Invocations` (sum over 5 minutes).
    pub fn metric_invocations(&self) -> Metric {
        self.metric("Invocations").statistic(Statistic::Sum)
    }
    /// `Duration` (average over 5 minutes; use `.statistic(Statistic::Percentile(99.0))` for tail latency).
    pub fn metric_duration(&self) -> Metric {
        self.metric("Duration")
    }
    /// The ARN invokers use: the function's, or its alias's once it is deployed gradually
    /// ([`Function::deploy_gradually`]).
    pub fn function_arn(&self) -> Val<String> {
        self.function_arn.clone()
    }
    /// The function name.
    pub fn function_name(&self) -> Val<String> {
        self.function_name.clone()
    }
}

impl LambdaTarget for FunctionRef {
    fn function_arn(&self) -> Val<String> {
        self.triggers_wired.set(self.triggers_wired.get() + 1);
        self.function_arn.clone()
    }
    fn target_id(&self) -> String {
        construct_id(&self.path).to_owned()
    }
}

impl std::ops::Deref for Function {
    type Target = FunctionRef;
    fn deref(&self) -> &FunctionRef {
        &self.reference
    }
}

impl Function {
    /// A function made elsewhere, by ARN (`arn:<partition>:lambda:<region>:<account>:function:<name>`, maybe
    /// with a version or alias; a literal one is checked): it can be invoked and granted invoking, and `id`
    /// names the resources that wire a source to it (`<rule>/<id>Permission`).
    pub fn from_arn(
        id: &str,
        function_arn: impl Into<Val<String>>,
    ) -> Result<FunctionRef, ConstructError> {
        let arn = function_arn.into();
        check_imported_arn(
            id,
            "function_arn",
            &arn,
            "lambda",
            ArnResource::Colon("function"),
        )?;
        Ok(FunctionRef {
            path: id.to_owned(),
            function_name: imported_name(&arn, ArnResource::Colon("function")),
            function_arn: arn,
            triggers_wired: Rc::default(),
            through_alias: false,
        })
    }

    /// A function at `<scope>/<id>` (logical ID `<Id>`) running `code`.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        code: Code,
        props: FunctionProps<'_>,
    ) -> Result<Function, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path(), &code)?;

        let role = Role::new(
            &scope,
            "ServiceRole",
            Principal::service("lambda.amazonaws.com"),
            RoleProps::default(),
        )?;
        let log_group = LogGroup::new(
            &scope,
            "LogGroup",
            LogGroupProps {
                log_group_name: props
                    .function_name
                    .as_ref()
                    .map(|n| fns::sub_with("/aws/lambda/${Name}", [("Name", n.clone())])),
                retention: props.log_retention,
                encryption_key: props.log_encryption_key,
                removal_policy: props.log_removal_policy,
            },
        )?;
        log_group.grant_write(&role);
        if props.log_encryption_key.is_none() {
            crate::rules::skip_checkov(
                log_group.handle(),
                "CKV_AWS_158",
                &super::logs::logs_key_reason("FunctionProps.log_encryption_key"),
            );
        }
        let tracing = match props.tracing {
            Tracing::Active => Some(fl1::Mode::Active),
            Tracing::PassThrough => Some(fl1::Mode::PassThrough),
            Tracing::Disabled => None,
        };
        if tracing.is_some() {
            role.grant(actions::XRAY_WRITE, ["*"]);
            // The wildcard is this construct's own doing (tracing is on by default), so is its suppression:
            // exactly `Resource::*`, which a user's grant naming ARNs never matches.
            crate::rules::suppress_only(
                role.handle(),
                &crate::rules::IAM5,
                &["Resource::*"],
                XRAY_REASON,
            );
        }
        if let Some(dlq) = props.dead_letter_queue {
            dlq.grant_send_messages(&role);
        }
        if let Some(key) = props.environment_encryption {
            key.grant_decrypt(&role);
        }

        let has_environment = !props.environment.is_empty();
        let function = fl1::Function {
            code: Some(code.to_l1().into()),
            role: Some(role.role_arn()),
            runtime: Some(props.runtime.into()),
            handler: Some(props.handler.into()),
            architectures: Some(Val::from(vec![match props.architecture {
                Architecture::Arm64 => fl1::Architectures::Arm64,
                Architecture::X86_64 => fl1::Architectures::X86_64,
            }])),
            function_name: props.function_name,
            description: props.description.map(Val::from),
            environment: (!props.environment.is_empty()).then(|| {
                Val::from(fl1::Environment {
                    variables: Some(Val::from_raw(Value::Map(
                        props
                            .environment
                            .into_iter()
                            .map(|(k, v)| (k, v.into_raw()))
                            .collect(),
                    ))),
                })
            }),
            kms_key_arn: props.environment_encryption.map(|k| k.key_arn()),
            timeout: checked.timeout.map(Val::from),
            memory_size: props.memory_size.map(Val::from),
            reserved_concurrent_executions: props.reserved_concurrency.map(Val::from),
            tracing_config: tracing.map(|m| {
                Val::from(fl1::TracingConfig {
                    mode: Some(m.into()),
                })
            }),
            dead_letter_config: props.dead_letter_queue.map(|q| {
                Val::from(fl1::DeadLetterConfig {
                    target_arn: Some(q.queue_arn()),
                })
            }),
            logging_config: Some(Val::from(fl1::LoggingConfig {
                log_group: Some(log_group.log_group_name()),
                ..Default::default()
            })),
            ..Default::default()
        };
        let handle: l1::FunctionHandle = scope.add("Resource", function);
        // checkov's function checks that ask for a choice this construct makes on the user's behalf, each with
        // the prop that changes it. An app that knows better writes its own reason over these
        // (`rules::skip_checkov` with the same check replaces it).
        crate::rules::skip_checkov(&handle, "CKV_AWS_117", NO_VPC_REASON);
        if props.dead_letter_queue.is_none() {
            crate::rules::skip_checkov(&handle, "CKV_AWS_116", NO_DEAD_LETTER_QUEUE_REASON);
        }
        if props.reserved_concurrency.is_none() {
            crate::rules::skip_checkov(&handle, "CKV_AWS_115", NO_RESERVED_CONCURRENCY_REASON);
        }
        if has_environment && props.environment_encryption.is_none() {
            crate::rules::skip_checkov(&handle, "CKV_AWS_173", AWS_MANAGED_ENVIRONMENT_KEY_REASON);
        }
        if let Code::Asset { package, bin, .. } = &code {
            // How `cfnkit package` finds what to build, and for which architecture (see src/assets).
            handle.add_metadata(
                crate::assets::METADATA_KEY,
                crate::assets::AssetSpec {
                    package: package.clone(),
                    bin: bin.clone(),
                    architecture: props.architecture,
                }
                .to_metadata(),
            );
        }
        Ok(Function {
            reference: FunctionRef {
                path: scope.path().to_owned(),
                function_arn: handle.attr_arn(),
                function_name: handle.ref_(),
                triggers_wired: Rc::default(),
                through_alias: false,
            },
            scope: OwnScope(scope),
            handle,
            role,
            log_group,
            timeout: props.timeout.unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    /// Wires an event source to the function: an `AWS::Lambda::EventSourceMapping` at
    /// `<function>/<SourceId>EventSource` and the grants the function needs to read the source.
    pub fn add_event_source(
        &self,
        source: impl EventSource,
    ) -> Result<l1::EventSourceMappingHandle, ConstructError> {
        source.bind(self)
    }

    /// The timeout (3 seconds, Lambda's default, when not set).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// The execution role.
    pub fn role(&self) -> &Role {
        &self.role
    }
    /// The function's log group.
    pub fn log_group(&self) -> &LogGroup {
        &self.log_group
    }

    fn add_mapping(
        &self,
        source_id: &str,
        mut mapping: l1::EventSourceMapping,
    ) -> l1::EventSourceMappingHandle {
        self.triggers_wired.set(self.triggers_wired.get() + 1);
        if self.through_alias {
            mapping.function_name = Some(self.function_arn.clone());
        }
        self.scope.add(&format!("{source_id}EventSource"), mapping)
    }

    /// The scope the function's resources are made in (`codedeploy` adds the version and alias there).
    pub(crate) fn own_scope(&self) -> &crate::Scope {
        &self.scope
    }
    /// From now on triggers invoke `alias_arn` (see `Function::deploy_gradually`).
    pub(crate) fn invoke_through(&mut self, alias_arn: Val<String>) {
        self.reference.function_arn = alias_arn;
        self.reference.through_alias = true;
    }
    /// Whether triggers invoke an alias.
    pub(crate) fn is_deployed_gradually(&self) -> bool {
        self.through_alias
    }
    /// How many triggers were wired to the function so far.
    pub(crate) fn triggers_wired(&self) -> usize {
        self.triggers_wired.get()
    }
}

impl Construct for Function {
    type L1 = l1::Function;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::FunctionHandle {
        &self.handle
    }
}

impl Grantable for Function {
    fn grant_role(&self) -> &Role {
        &self.role
    }
}

impl LambdaTarget for Function {
    fn function_arn(&self) -> Val<String> {
        LambdaTarget::function_arn(&self.reference)
    }
    fn target_id(&self) -> String {
        self.reference.target_id()
    }
}

/// Something that delivers records to a function through an event source mapping.
pub trait EventSource {
    /// Adds the mapping to `function` and grants what it needs.
    fn bind(&self, function: &Function) -> Result<l1::EventSourceMappingHandle, ConstructError>;
}

impl<T: EventSource + ?Sized> EventSource for &T {
    fn bind(&self, function: &Function) -> Result<l1::EventSourceMappingHandle, ConstructError> {
        (**self).bind(function)
    }
}

fn batch_size(path: &str, n: Option<u32>, max: u32) -> Result<Option<i64>, ConstructError> {
    match n {
        Some(n) if n == 0 || n > max => Err(ConstructError::invalid(
            path,
            format!("batch_size must be from 1 to {max}, got {n}"),
        )),
        n => Ok(n.map(i64::from)),
    }
}

fn batching_window(path: &str, d: Option<Duration>) -> Result<Option<i64>, ConstructError> {
    d.map(|d| {
        seconds_in(
            path,
            "max_batching_window",
            d,
            Duration::ZERO,
            Duration::from_secs(300),
        )
    })
    .transpose()
}

/// The image of a DynamoDB stream record a filter reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DynamoImage {
    /// The item after the change (`dynamodb.NewImage`): inserts and modifications.
    New,
    /// The item before the change (`dynamodb.OldImage`): modifications and removals.
    Old,
}

/// One filter of an event source mapping (Lambda's `FilterCriteria`): a record reaches the function only when
/// some filter of its source matches it. Typed from the payload's Rust type where the payload is one, as
/// [`super::events::EventPattern`] is for rules, so a renamed field or a value its type cannot hold is an error
/// at synth, not a filter that silently matches nothing:
///
/// ```
/// use cfnkit::constructs::lambda::{DynamoImage, FilterPattern};
/// #[derive(schemars::JsonSchema)]
/// #[serde(rename_all = "camelCase")]
/// #[allow(dead_code)]
/// struct Order { order_id: String, total_cents: u64, express: bool }
///
/// # fn main() -> Result<(), cfnkit::constructs::lambda::FilterError> {
/// // An SQS message whose JSON body is an express `Order`.
/// let sqs = FilterPattern::sqs_body::<Order>().equals("express", true)?;
/// assert_eq!(sqs.to_json(), serde_json::json!({"body": {"express": [true]}}));
/// // A DynamoDB stream record inserting an `Order` of more than 100 dollars.
/// let ddb = FilterPattern::dynamodb_image::<Order>(DynamoImage::New)
///     .event_name(["INSERT"])
///     .numeric("totalCents", ">", 10_000)?;
/// assert_eq!(
///     ddb.to_json(),
///     serde_json::json!({
///         "eventName": ["INSERT"],
///         "dynamodb": {"NewImage": {"totalCents": {"N": [{"numeric": [">", 10000]}]}}}
///     })
/// );
/// assert!(FilterPattern::sqs_body::<Order>().equals("expres", true).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FilterPattern {
    pattern: serde_json::Map<String, serde_json::Value>,
    /// Where the typed payload's fields go, and their JSON Schema (`properties`), when the pattern is typed.
    payload: Option<Payload>,
}

#[derive(Clone, Debug, PartialEq)]
struct Payload {
    type_name: String,
    path: Vec<&'static str>,
    properties: serde_json::Map<String, serde_json::Value>,
    /// A DynamoDB image: values are wrapped in attribute values.
    dynamodb: bool,
}

/// A filter that does not fit the payload's type, or one Lambda would refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The payload type has no field of this wire name.
    #[error("{type_name} has no field `{field}` (its fields: {known}); filter on one of those")]
    UnknownField {
        /// The payload's Rust type.
        type_name: String,
        /// The wire name filtered on.
        field: String,
        /// The type's fields, comma-separated.
        known: String,
    },
    /// The field cannot hold the value filtered on.
    #[error("field `{field}` of {type_name} is {expected}, so it never equals {value}; filter on a {expected}")]
    ValueMismatch {
        /// The payload's Rust type.
        type_name: String,
        /// The field's wire name.
        field: String,
        /// What the field holds (`a string`, `an integer`...).
        expected: String,
        /// The value filtered on, as JSON.
        value: String,
    },
    /// A typed filter method on a pattern made without a type.
    #[error("`{method}` filters a typed payload: start from FilterPattern::sqs_body, kinesis_data or dynamodb_image")]
    Untyped {
        /// The method called.
        method: &'static str,
    },
}

impl FilterPattern {
    /// A pattern on the whole record, as Lambda takes it (`{"body": {"status": ["ready"]}}`): unchecked.
    pub fn raw(pattern: serde_json::Value) -> Self {
        FilterPattern {
            pattern: match pattern {
                serde_json::Value::Object(m) => m,
                _ => serde_json::Map::new(),
            },
            payload: None,
        }
    }
    /// SQS messages whose JSON body is a `T`: the fields filtered on are checked against `T`.
    pub fn sqs_body<T: schemars::JsonSchema>() -> Self {
        Self::typed::<T>(vec!["body"], false)
    }
    /// Kinesis records whose JSON data is a `T`: the fields filtered on are checked against `T`.
    pub fn kinesis_data<T: schemars::JsonSchema>() -> Self {
        Self::typed::<T>(vec!["data"], false)
    }
    /// DynamoDB stream records whose item (the `image` of it) is a `T`: the fields filtered on are checked
    /// against `T` and written as attribute values (`S` for strings, `N` for numbers, `BOOL`).
    pub fn dynamodb_image<T: schemars::JsonSchema>(image: DynamoImage) -> Self {
        let image = match image {
            DynamoImage::New => "NewImage",
            DynamoImage::Old => "OldImage",
        };
        Self::typed::<T>(vec!["dynamodb", image], true)
    }
    fn typed<T: schemars::JsonSchema>(path: Vec<&'static str>, dynamodb: bool) -> Self {
        let settings = schemars::generate::SchemaSettings::draft07().with(|s| {
            s.inline_subschemas = true;
        });
        let schema = schemars::SchemaGenerator::new(settings)
            .into_root_schema_for::<T>()
            .to_value();
        FilterPattern {
            pattern: serde_json::Map::new(),
            payload: Some(Payload {
                type_name: T::schema_name().into_owned(),
                path,
                properties: schema["properties"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                dynamodb,
            }),
        }
    }
    /// Records of these DynamoDB event names (`INSERT`, `MODIFY`, `REMOVE`), or any top-level record field.
    pub fn event_name<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        let names: Vec<serde_json::Value> = names.into_iter().map(|n| n.into().into()).collect();
        self.pattern.insert("eventName".to_owned(), names.into());
        self
    }
    /// The payload's `field` equals `value` (called again on the same field: equals either).
    pub fn equals(
        self,
        field: &str,
        value: impl Into<serde_json::Value>,
    ) -> Result<Self, FilterError> {
        let value = value.into();
        self.checked_rule(field, "equals", &value, value.clone())
    }
    /// The payload's numeric `field` compares with `value` (`op` is `<`, `<=`, `=`, `>=` or `>`).
    pub fn numeric(
        self,
        field: &str,
        op: &str,
        value: impl Into<serde_json::Number>,
    ) -> Result<Self, FilterError> {
        let number = serde_json::Value::Number(value.into());
        let rule = serde_json::json!({"numeric": [op, number]});
        self.checked_rule(field, "numeric", &number, rule)
    }
    /// The payload's `field` is present (`true`) or absent (`false`).
    pub fn exists(self, field: &str, present: bool) -> Result<Self, FilterError> {
        let payload = self
            .payload
            .as_ref()
            .ok_or(FilterError::Untyped { method: "exists" })?;
        payload.property(field)?;
        self.insert(field, None, serde_json::json!({"exists": present}))
    }

    fn checked_rule(
        self,
        field: &str,
        method: &'static str,
        value: &serde_json::Value,
        rule: serde_json::Value,
    ) -> Result<Self, FilterError> {
        let payload = self
            .payload
            .as_ref()
            .ok_or(FilterError::Untyped { method })?;
        let property = payload.property(field)?;
        let types = json_types(property);
        let kind = json_type(value);
        let fits = types.is_empty()
            || types
                .iter()
                .any(|t| *t == kind || (*t == "number" && kind == "integer"));
        let in_enum = property["enum"]
            .as_array()
            .is_none_or(|values| values.contains(value));
        if !fits || !in_enum {
            return Err(FilterError::ValueMismatch {
                type_name: payload.type_name.clone(),
                field: field.to_owned(),
                expected: if in_enum {
                    types.join(" or ")
                } else {
                    format!("one of {}", property["enum"])
                },
                value: value.to_string(),
            });
        }
        // A DynamoDB image holds attribute values: numbers are `N` (their rules compare as numbers), strings
        // `S`, booleans `BOOL`.
        let wrapper = payload.dynamodb.then_some(match kind {
            "integer" | "number" => "N",
            "boolean" => "BOOL",
            _ => "S",
        });
        let rule = match (wrapper, rule) {
            (Some("N"), serde_json::Value::Number(n)) => serde_json::json!({"numeric": ["=", n]}),
            (_, rule) => rule,
        };
        self.insert(field, wrapper, rule)
    }

    fn insert(
        self,
        field: &str,
        wrapper: Option<&str>,
        rule: serde_json::Value,
    ) -> Result<Self, FilterError> {
        let payload = self
            .payload
            .clone()
            .ok_or(FilterError::Untyped { method: "insert" })?;
        Ok(self.push_rule(&payload, field, wrapper, rule))
    }

    fn push_rule(
        mut self,
        payload: &Payload,
        field: &str,
        wrapper: Option<&str>,
        rule: serde_json::Value,
    ) -> Self {
        let mut parts: Vec<&str> = payload.path.clone();
        parts.push(field);
        let (last, parents) = match wrapper {
            Some(w) => (w, parts),
            None => {
                let last = parts.pop().expect("a field");
                (last, parts)
            }
        };
        let mut node = &mut self.pattern;
        for part in parents {
            node = node
                .entry(part.to_owned())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
                .as_object_mut()
                .expect("a filter's path holds objects");
        }
        match node
            .entry(last.to_owned())
            .or_insert_with(|| serde_json::Value::Array(Vec::new()))
        {
            serde_json::Value::Array(rules) => rules.push(rule),
            other => *other = serde_json::Value::Array(vec![rule]),
        }
        self
    }

    /// The pattern as Lambda takes it (a filter's `Pattern`, as JSON).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.pattern.clone())
    }
}

impl Payload {
    fn property(&self, field: &str) -> Result<&serde_json::Value, FilterError> {
        self.properties
            .get(field)
            .ok_or_else(|| FilterError::UnknownField {
                type_name: self.type_name.clone(),
                field: field.to_owned(),
                known: self
                    .properties
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// The JSON types a property's schema allows (`null` left out: a filter on a value tests a present one).
fn json_types(property: &serde_json::Value) -> Vec<&str> {
    match &property["type"] {
        serde_json::Value::String(t) => vec![t.as_str()],
        serde_json::Value::Array(ts) => ts
            .iter()
            .filter_map(serde_json::Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Lambda's `FilterCriteria` for these filters, checked: 1 to 20 filters (the schema's bound), each pattern at
/// most 4,096 characters. No filters: no `FilterCriteria`, every record is delivered.
fn filter_criteria(
    path: &str,
    filters: &[FilterPattern],
) -> Result<Option<Val<esm::FilterCriteria>>, ConstructError> {
    if filters.is_empty() {
        return Ok(None);
    }
    if filters.len() > 20 {
        return Err(ConstructError::invalid(
            path,
            format!(
                "filters must be at most 20, got {}; merge patterns",
                filters.len()
            ),
        ));
    }
    let mut items = Vec::new();
    for f in filters {
        let pattern = f.to_json().to_string();
        if pattern.len() > 4_096 || f.pattern.is_empty() {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "a filter pattern must be 1 to 4096 characters and match something, got {} characters: \
                     {pattern:.80}",
                    pattern.len()
                ),
            ));
        }
        items.push(esm::Filter {
            pattern: Some(pattern.into()),
        });
    }
    Ok(Some(Val::from(esm::FilterCriteria {
        filters: Some(Val::from(items)),
    })))
}

/// Props of an [`SqsEventSource`].
#[derive(Clone, Debug)]
pub struct SqsEventSourceProps {
    /// Largest batch (1 to 10,000; above 10 needs a batching window). Without it 10, Lambda's default.
    pub batch_size: Option<u32>,
    /// How long Lambda gathers messages before invoking (0 to 5 minutes; not for FIFO queues). Without it
    /// messages are delivered as soon as available.
    pub max_batching_window: Option<Duration>,
    /// The most concurrent invocations this source drives (2 to 1,000). Without it up to the function's
    /// concurrency.
    pub max_concurrency: Option<u32>,
    /// Whether the mapping is enabled. On unless turned off.
    pub enabled: bool,
    /// Which messages reach the function (any filter matching lets one through; the others are deleted from the
    /// queue unseen): [`FilterPattern::sqs_body`] for a JSON body of a Rust type. Without any every message does.
    pub filters: Vec<FilterPattern>,
}

impl Default for SqsEventSourceProps {
    fn default() -> Self {
        SqsEventSourceProps {
            batch_size: None,
            max_batching_window: None,
            max_concurrency: None,
            enabled: true,
            filters: Vec::new(),
        }
    }
}

/// [`SqsEventSourceProps`] as [`SqsEventSourceProps::validate`] accepted them.
struct CheckedSqsEventSourceProps {
    batch_size: Option<i64>,
    max_batching_window: Option<i64>,
    filter_criteria: Option<Val<esm::FilterCriteria>>,
}

impl SqsEventSourceProps {
    /// Every check of the props for `queue` feeding `function`, before anything is wired: the visibility
    /// timeout against the function's timeout, the batch and its window, the concurrency.
    fn validate(
        &self,
        queue: &Queue,
        function: &Function,
    ) -> Result<CheckedSqsEventSourceProps, ConstructError> {
        let path = function.path();
        let visibility = queue.visibility_timeout();
        let needed = function.timeout() * 6;
        if visibility < needed {
            return Err(ConstructError::conflict(
                path,
                format!(
                    "the visibility timeout of queue {} ({}) must be at least 6 times the function timeout ({}): \
                     set the queue's visibility_timeout to at least {} or shorten the function's timeout",
                    queue.path(),
                    human(visibility),
                    human(function.timeout()),
                    human(needed)
                ),
            ));
        }
        let batch = batch_size(path, self.batch_size, 10_000)?;
        let window = batching_window(path, self.max_batching_window)?;
        if batch.is_some_and(|b| b > 10) && window.unwrap_or(0) == 0 {
            return Err(ConstructError::invalid(
                path,
                "a batch_size above 10 needs a max_batching_window of at least 1 second",
            ));
        }
        if queue.is_fifo() && window.is_some() {
            return Err(ConstructError::conflict(
                path,
                "FIFO queues do not support max_batching_window: drop it",
            ));
        }
        if let Some(c) = self.max_concurrency {
            if !(2..=1000).contains(&c) {
                return Err(ConstructError::invalid(
                    path,
                    format!("max_concurrency must be from 2 to 1000, got {c}"),
                ));
            }
        }
        Ok(CheckedSqsEventSourceProps {
            batch_size: batch,
            max_batching_window: window,
            filter_criteria: filter_criteria(path, &self.filters)?,
        })
    }
}

/// An SQS queue as an event source: `function.add_event_source(SqsEventSource::new(&queue, props))`. Partial
/// batch responses (`ReportBatchItemFailures`) are always on, so one bad message does not make the whole batch
/// visible again; the handler reports the failed message ids.
///
/// Wiring checks that the queue's visibility timeout is at least 6 times the function's timeout (AWS's
/// guidance, and a rule of the rule pack): a shorter one lets messages reappear while a retried batch is still
/// being processed. So the queue is a [`Queue`] made here, whose visibility timeout is known.
#[derive(Clone, Debug)]
pub struct SqsEventSource<'a> {
    queue: &'a Queue,
    props: SqsEventSourceProps,
}

impl<'a> SqsEventSource<'a> {
    /// `queue` delivering to the function it is added to.
    pub fn new(queue: &'a Queue, props: SqsEventSourceProps) -> Self {
        SqsEventSource { queue, props }
    }
}

impl EventSource for SqsEventSource<'_> {
    fn bind(&self, function: &Function) -> Result<l1::EventSourceMappingHandle, ConstructError> {
        let checked = self.props.validate(self.queue, function)?;
        self.queue.grant_consume_messages(function);
        let mapping = l1::EventSourceMapping {
            event_source_arn: Some(self.queue.queue_arn()),
            function_name: Some(function.function_name()),
            batch_size: checked.batch_size.map(Val::from),
            maximum_batching_window_in_seconds: checked.max_batching_window.map(Val::from),
            function_response_types: Some(Val::from(vec![
                esm::FunctionResponseTypes::ReportBatchItemFailures,
            ])),
            scaling_config: self.props.max_concurrency.map(|c| {
                Val::from(esm::ScalingConfig {
                    maximum_concurrency: Some(c.into()),
                })
            }),
            enabled: (!self.props.enabled).then(|| false.into()),
            filter_criteria: checked.filter_criteria,
            ..Default::default()
        };
        let handle = function.add_mapping(self.queue.id(), mapping);
        // The mapping is validated against the role's permissions when it is created.
        handle.add_depends_on(function.role().handle());
        Ok(handle)
    }
}

/// Where a stream event source starts reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartingPosition {
    /// Only records written after the mapping is created.
    Latest,
    /// Every record still in the stream: the default, so that records written between the table's (or
    /// stream's) creation and the mapping's, in the same deploy, are not skipped.
    #[default]
    TrimHorizon,
}

impl StartingPosition {
    fn to_l1(self) -> esm::StartingPosition {
        match self {
            StartingPosition::Latest => esm::StartingPosition::Latest,
            StartingPosition::TrimHorizon => esm::StartingPosition::TrimHorizon,
        }
    }
}

/// Props of the stream event sources, [`DynamoEventSource`] and [`KinesisEventSource`].
#[derive(Clone, Debug)]
pub struct StreamEventSourceProps<'a> {
    /// Where reading starts. Without it every record still in the stream ([`StartingPosition::TrimHorizon`]).
    pub starting_position: StartingPosition,
    /// Largest batch (1 to 10,000). Without it Lambda's default, 100.
    pub batch_size: Option<u32>,
    /// How long Lambda gathers records before invoking (0 to 5 minutes). Without it records are delivered as
    /// soon as available.
    pub max_batching_window: Option<Duration>,
    /// Whether a failing batch is split in two and retried. On unless turned off, so one poison record does
    /// not hold up the shard.
    pub bisect_batch_on_error: bool,
    /// Retries of a failing batch (-1 for until the record expires, to 10,000). Without it (`Some(3)`, the
    /// default) 3, so a poison record moves to the on-failure destination instead of blocking the shard for a
    /// day; `None` leaves Lambda's default (retry until the record expires).
    pub max_retry_attempts: Option<i32>,
    /// Oldest record the function is sent (1 minute to 7 days). Without it records are sent until they expire
    /// from the stream.
    pub max_record_age: Option<Duration>,
    /// Concurrent batches per shard (1 to 10). Without it 1.
    pub parallelization_factor: Option<u32>,
    /// Where records of a batch that failed every retry are described: the function is granted sending to it.
    /// Without it they are dropped.
    pub on_failure: Option<&'a QueueRef>,
    /// Which records reach the function (any filter matching lets one through; the others are skipped):
    /// [`FilterPattern::dynamodb_image`] or [`FilterPattern::kinesis_data`] for a payload of a Rust type. Without
    /// any every record does.
    pub filters: Vec<FilterPattern>,
}

impl Default for StreamEventSourceProps<'_> {
    fn default() -> Self {
        StreamEventSourceProps {
            starting_position: StartingPosition::TrimHorizon,
            batch_size: None,
            max_batching_window: None,
            bisect_batch_on_error: true,
            max_retry_attempts: Some(3),
            max_record_age: None,
            parallelization_factor: None,
            on_failure: None,
            filters: Vec::new(),
        }
    }
}

/// [`StreamEventSourceProps`] as [`StreamEventSourceProps::validate`] accepted them, in CloudFormation's units.
struct CheckedStreamEventSourceProps {
    batch_size: Option<i64>,
    max_batching_window: Option<i64>,
    max_record_age: Option<i64>,
    filter_criteria: Option<Val<esm::FilterCriteria>>,
}

impl StreamEventSourceProps<'_> {
    /// Every check of the props, before anything is wired (errors name the function, at `path`).
    fn validate(&self, path: &str) -> Result<CheckedStreamEventSourceProps, ConstructError> {
        let batch = batch_size(path, self.batch_size, 10_000)?;
        let window = batching_window(path, self.max_batching_window)?;
        if let Some(n) = self.max_retry_attempts {
            if !(-1..=10_000).contains(&n) {
                return Err(ConstructError::invalid(
                    path,
                    format!("max_retry_attempts must be from -1 (infinite) to 10000, got {n}"),
                ));
            }
        }
        let age = self
            .max_record_age
            .map(|d| {
                seconds_in(
                    path,
                    "max_record_age",
                    d,
                    Duration::from_secs(60),
                    Duration::from_secs(604_800),
                )
            })
            .transpose()?;
        if let Some(p) = self.parallelization_factor {
            if !(1..=10).contains(&p) {
                return Err(ConstructError::invalid(
                    path,
                    format!("parallelization_factor must be from 1 to 10, got {p}"),
                ));
            }
        }
        Ok(CheckedStreamEventSourceProps {
            batch_size: batch,
            max_batching_window: window,
            max_record_age: age,
            filter_criteria: filter_criteria(path, &self.filters)?,
        })
    }

    /// The mapping from `source_arn` to `function`, granting sending to the on-failure queue.
    fn mapping(
        &self,
        function: &Function,
        source_arn: Val<String>,
    ) -> Result<l1::EventSourceMapping, ConstructError> {
        let checked = self.validate(function.path())?;
        if let Some(q) = self.on_failure {
            q.grant_send_messages(function);
        }
        Ok(l1::EventSourceMapping {
            event_source_arn: Some(source_arn),
            function_name: Some(function.function_name()),
            starting_position: Some(self.starting_position.to_l1().into()),
            batch_size: checked.batch_size.map(Val::from),
            maximum_batching_window_in_seconds: checked.max_batching_window.map(Val::from),
            bisect_batch_on_function_error: Some(self.bisect_batch_on_error.into()),
            maximum_retry_attempts: self.max_retry_attempts.map(Val::from),
            maximum_record_age_in_seconds: checked.max_record_age.map(Val::from),
            parallelization_factor: self.parallelization_factor.map(Val::from),
            function_response_types: Some(Val::from(vec![
                esm::FunctionResponseTypes::ReportBatchItemFailures,
            ])),
            filter_criteria: checked.filter_criteria,
            destination_config: self.on_failure.map(|q| {
                Val::from(esm::DestinationConfig {
                    on_failure: Some(Val::from(esm::OnFailure {
                        destination: Some(q.queue_arn()),
                    })),
                })
            }),
            ..Default::default()
        })
    }
}

/// A DynamoDB table's stream as an event source: `function.add_event_source(DynamoEventSource::new(&table,
/// props))`. The table must have a stream (`TableProps { stream: Some(..) }`, or an imported table's
/// `table_stream_arn`). `ReportBatchItemFailures` is always on, bisecting on error is on and retries are
/// limited to 3.
#[derive(Clone, Debug)]
pub struct DynamoEventSource<'a> {
    table: &'a TableRef,
    props: StreamEventSourceProps<'a>,
}

impl<'a> DynamoEventSource<'a> {
    /// `table`'s stream delivering to the function it is added to.
    pub fn new(table: &'a TableRef, props: StreamEventSourceProps<'a>) -> Self {
        DynamoEventSource { table, props }
    }
}

impl EventSource for DynamoEventSource<'_> {
    fn bind(&self, function: &Function) -> Result<l1::EventSourceMappingHandle, ConstructError> {
        let Some(stream_arn) = self.table.table_stream_arn() else {
            return Err(ConstructError::conflict(
                function.path(),
                format!(
                    "table {} has no stream to read: give it one with TableProps::stream (`stream: \
                     Some(StreamViewType::NewImage)`), or, for an imported table, TableAttributes::table_stream_arn",
                    self.table.path
                ),
            ));
        };
        let mapping = self.props.mapping(function, stream_arn)?;
        self.table.grant_stream_read(function)?;
        let handle = function.add_mapping(construct_id(&self.table.path), mapping);
        handle.add_depends_on(function.role().handle());
        Ok(handle)
    }
}

/// A Kinesis data stream as an event source: `function.add_event_source(KinesisEventSource::new(&stream,
/// props))`, for a [`super::kinesis::Stream`] made here or one imported (`Stream::from_arn`,
/// `Stream::from_attributes`). The mapping is named after the stream (`<function>/<StreamId>EventSource`) and
/// the function is granted reading it (and decrypting with its customer-managed key). `ReportBatchItemFailures`
/// is always on, bisecting on error is on and retries are limited to 3.
#[derive(Clone, Debug)]
pub struct KinesisEventSource<'a> {
    stream: &'a StreamRef,
    props: StreamEventSourceProps<'a>,
}

impl<'a> KinesisEventSource<'a> {
    /// `stream` delivering to the function it is added to.
    pub fn new(stream: &'a StreamRef, props: StreamEventSourceProps<'a>) -> Self {
        KinesisEventSource { stream, props }
    }
}

impl EventSource for KinesisEventSource<'_> {
    fn bind(&self, function: &Function) -> Result<l1::EventSourceMappingHandle, ConstructError> {
        let mapping = self.props.mapping(function, self.stream.stream_arn())?;
        function
            .grant_role()
            .grant(actions::KINESIS_READ, [self.stream.stream_arn()]);
        if let Some(key) = self.stream.encryption_key() {
            key.grant_decrypt(function);
        }
        let handle = function.add_mapping(construct_id(&self.stream.path), mapping);
        handle.add_depends_on(function.role().handle());
        Ok(handle)
    }
}
