//! Hand-written constructs (the L2 layer): the level users write at, with secure defaults and least-privilege
//! grants, built on the generated L1 types of [`cfnkit_l1`].
//!
//! # Conventions
//!
//! Every construct in this module follows the same shape, so that knowing one means knowing them all. An app
//! imports what it needs with `use cfnkit::prelude::*;` ([`crate::prelude`]).
//!
//! - **One module per AWS service** ([`iam`], [`kms`], [`sqs`], [`sns`], [`events`], [`lambda`], [`dynamodb`],
//!   [`codedeploy`], [`pipelines`], [`cloudformation`]...);
//!   the IAM action names every grant uses live in one place, [`actions`]. No two modules import each other.
//! - **`new(scope, id, props)`**, where the scope is a [`crate::Scope`] or a [`crate::Stack`]
//!   ([`crate::AsScope`]) and the props struct implements `Default`: `Queue::new(&stack, "Orders", QueueProps {
//!   visibility_timeout: Some(Duration::from_secs(60)), ..Default::default() })`. Values a construct cannot do
//!   without (the principal a role is assumed by, a table's partition key) are arguments of `new`, not props.
//!   Every optional prop documents its default *as a behaviour* ("messages are encrypted with SQS-managed
//!   keys"), never as "defaults to None".
//! - **Props, not fluent setters** (CDK's "no fluent APIs"), for what is added to a construct too: event sources
//!   (`SqsEventSource::new(&queue, SqsEventSourceProps { .. })`, [`lambda::StreamEventSourceProps`] for DynamoDB
//!   and Kinesis) and API integrations (`LambdaIntegration::new(&function, LambdaIntegrationProps { .. })`, or
//!   just `&function` for the defaults). A function's environment comes from pairs: [`lambda::env`].
//! - **Props take typed references**: `&Key`, `&QueueRef`, [`std::time::Duration`], typed enums, never ARNs or raw
//!   seconds where a construct exists. The L1 layer's enums are used where the schemas allow (a codegen fixup
//!   gives them values where a schema is silent).
//! - **Props are validated apart from building** (aws-cdk-lib's `validate-props.ts`): every check lives in
//!   `impl XProps { fn validate(&self, path) -> Result<.., ConstructError> }`, which returns what it converted
//!   (durations as CloudFormation's seconds or days); `new` calls it first, then only maps the checked props to
//!   L1 resources, so nothing is added to the stack for props that fail. `new` returns
//!   `Result<Self, ConstructError>` whose message names the construct, the bad value and the fix.
//! - **Logical IDs are a public contract.** A construct's primary resource is added at `<construct path>/Resource`,
//!   so it takes the construct's id (`Order/OrdersQueue/Resource` is `OrdersQueue`); the resources it owns are
//!   added under its path with a descriptive id (`Order/OrdersQueue/Policy` is `OrdersQueuePolicy`).
//! - **One [`Construct`] trait**: every construct implements `path()` and `handle()` (its primary L1's typed
//!   handle: references, `DependsOn`, metadata, `add_property_override`), and gets `id()`, `resource_mut()` (the
//!   typed L1 properties), `apply_removal_policy()` and `add_metadata()` from the trait, so what the typed API
//!   does not cover is one line away, the same way on every construct.
//! - **Grants are intent-named** (`queue.grant_consume_messages(&function)`) and add statements scoped to the
//!   resource's ARN to the grantee's role; a grant on a resource encrypted with a customer-managed [`kms::Key`]
//!   also grants the key usage the intent needs. Anything that can receive grants implements [`Grantable`].
//!   Every grant returns a [`Grant`] (CDK's `iam.Grant`): the grantee and the statements added to its policy,
//!   with those for the resource's key apart.
//! - **Resources made elsewhere are imported** with `X::from_arn(id, arn)` (`Bucket::from_name`) or
//!   `X::from_attributes(id, XAttributes { .., encryption_key })`, which return the resource's reference type
//!   (`TableRef`, `QueueRef`, `TopicRef`, `KeyRef`, `BucketRef`, `StreamRef`, `SecretRef`, `EventBusRef`,
//!   `FunctionRef`). Grants, metrics and names live on the reference type, and each owned construct derefs to
//!   its own (a `Table` is a `TableRef` and more), so one implementation serves both, and a parameter typed
//!   `&TableRef` takes `&table` and an import alike. A grant on an import only adds to the grantee's policy;
//!   what edits the resource itself (resource and key policies, subscriptions, notifications) needs the owned
//!   construct. A literal ARN is checked (service, resource type) when imported.
//! - **Resource policies and key policies are kept in the construct** and rewritten into the L1 each time a
//!   statement is added, so grants and wiring made after a construct was created still land in the template.
//! - **Removal policies**: stateful resources (keys, tables, buckets, log groups) are retained by default;
//!   `apply_removal_policy` on any construct changes it. Stack and app tags reach every taggable resource a
//!   construct creates.

pub mod actions;
pub mod apigateway;
pub mod apigatewayv2;
pub mod cloudformation;
pub mod cloudwatch;
pub mod codedeploy;
pub mod cors;
pub mod dynamodb;
pub mod events;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod pipelines;
pub mod s3;
pub mod secretsmanager;
pub mod sns;
pub mod sqs;

use std::cell::RefMut;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Resource, ResourceHandle, Val, Value};

pub use iam::{
    Effect, Grant, Grantable, PolicyDocument, PolicyStatement, Principal, Role, RoleProps,
};

/// What every construct has: a place in the construct tree and one primary L1 resource, exposed as the escape
/// hatch. A construct implements the two required methods; the rest comes from here, so that every construct
/// offers the same accessors with the same meaning.
///
/// ```
/// use cfnkit::constructs::sqs::{Queue, QueueProps};
/// use cfnkit::constructs::Construct;
/// # fn main() -> Result<(), cfnkit::constructs::ConstructError> {
/// let app = cfnkit::App::new();
/// let queue = Queue::new(&app.stack("Jobs").scope(), "Work", QueueProps::default())?;
/// assert_eq!((queue.path(), queue.id()), ("Jobs/Work", "Work"));
/// queue.resource_mut().delay_seconds = Some(5.into()); // an L1 property the props do not cover
/// queue.apply_removal_policy(cfnkit::RemovalPolicy::Retain);
/// # Ok(()) }
/// ```
pub trait Construct {
    /// The L1 type of the primary resource (`cfnkit_l1::sqs::Queue` for a queue).
    type L1: Resource;

    /// The construct path (`Order/OrdersQueue`): where the construct was made, and what its resources' logical
    /// IDs derive from.
    fn path(&self) -> &str;
    /// The primary resource's typed handle: references, attributes, `DependsOn`, metadata,
    /// `add_property_override`.
    fn handle(&self) -> &<Self::L1 as Resource>::Handle;

    /// The construct id: the last part of the path (`OrdersQueue`).
    fn id(&self) -> &str {
        construct_id(self.path())
    }
    /// The primary resource's L1 properties, to change what the typed props do not cover.
    fn resource_mut(&self) -> RefMut<'_, Self::L1> {
        let handle: &ResourceHandle = self.handle();
        handle
            .downcast_mut::<Self::L1>()
            .unwrap_or_else(|| panic!("{} holds a {}", handle.path(), Self::L1::TYPE_NAME))
    }
    /// Sets the primary resource's `DeletionPolicy` and `UpdateReplacePolicy` (each construct documents its
    /// default: stateful ones are retained).
    fn apply_removal_policy(&self, policy: RemovalPolicy) {
        self.handle().apply_removal_policy(policy);
    }
    /// Adds a `Metadata` entry to the primary resource.
    fn add_metadata(&self, key: impl Into<String>, value: impl Into<Value>)
    where
        Self: Sized,
    {
        self.handle().add_metadata(key, value);
    }
}

/// The removal policy a construct writes on its L1 resource `R` unless told otherwise, from
/// [`crate::resource_types::STATEFUL`]: retain what holds data, delete what holds messages in transit. `R` must be
/// a stateful type: anything else is a bug of the construct, so it panics.
pub(crate) fn removal_default<R: Resource>() -> RemovalPolicy {
    crate::resource_types::stateful(R::TYPE_NAME)
        .unwrap_or_else(|| panic!("{} is not in resource_types::STATEFUL", R::TYPE_NAME))
        .holds
        .default_removal_policy()
}

/// The construct path of a construct whose primary resource is at `<path>/Resource`; the resource's own path
/// otherwise.
pub(crate) fn path_of(handle: &ResourceHandle) -> &str {
    handle
        .path()
        .strip_suffix("/Resource")
        .unwrap_or(handle.path())
}

/// A construct was given a value it cannot use. The message names the construct path, the value and the fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConstructError {
    /// A property value is out of range or malformed.
    #[error("{path}: {message}")]
    InvalidProp {
        /// The construct path (`Order/OrdersQueue`).
        path: String,
        /// What is wrong and how to fix it, naming the bad value.
        message: String,
    },
    /// Two props, or a prop and the wiring asked for, cannot be combined.
    #[error("{path}: {message}")]
    Conflict {
        /// The construct path.
        path: String,
        /// Which choices clash and what to do instead.
        message: String,
    },
}

/// SQS queue and SNS topic names share one rule: letters, digits, `-` and `_`, then `.fifo` for a FIFO one, at
/// most `max` characters in all. Checked at synth: CloudFormation would refuse the name only midway through a
/// deploy, after the stacks before it.
pub(crate) fn check_name(
    path: &str,
    prop: &str,
    name: &str,
    max: usize,
    what: &str,
) -> Result<(), ConstructError> {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    let valid = name.len() <= max
        && !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        return Ok(());
    }
    Err(ConstructError::invalid(
        path,
        format!(
            "{prop} must be 1 to {max} characters (`.fifo` included) of letters, digits, `-` and `_`, got \
             {name:?} ({} characters); or leave it out and CloudFormation names the {what}",
            name.chars().count()
        ),
    ))
}

impl ConstructError {
    pub(crate) fn invalid(path: &str, message: impl Into<String>) -> Self {
        ConstructError::InvalidProp {
            path: path.to_owned(),
            message: message.into(),
        }
    }
    pub(crate) fn conflict(path: &str, message: impl Into<String>) -> Self {
        ConstructError::Conflict {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

/// A Lambda function that other constructs can invoke (SNS subscriptions, EventBridge targets, API
/// integrations).
///
/// [`lambda::Function`] implements it, and so does [`lambda::FunctionRef`], which [`lambda::Function::from_arn`]
/// makes for a function made elsewhere. (A trait, and not `&FunctionRef`, because the modules that invoke
/// functions are used by `lambda` and cannot use it back.)
pub trait LambdaTarget {
    /// The function's ARN (or a qualified alias/version ARN).
    fn function_arn(&self) -> Val<String>;
    /// A short construct id naming the function, used in the ids of the resources that wire a source to it
    /// (`<rule>/<id>Permission`).
    fn target_id(&self) -> String;
}

/// Where the name sits in the resource part of an imported resource's ARN.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ArnResource {
    /// The resource part is the name (`arn:aws:sqs:eu-west-1:111122223333:orders`).
    Name,
    /// `<type>/<name>` (`table/orders`, `stream/events`, `event-bus/platform`, `key/<id>`).
    Slash(&'static str),
    /// `<type>:<name>[:...]` (`function:orders`, `secret:db-AbCdEf`).
    Colon(&'static str),
}

/// Checks a literal ARN given to an import constructor (`Table::from_arn`): its service and resource type, and a
/// name. An expression (a parameter, an import) is taken as it is; CloudFormation checks it.
pub(crate) fn check_imported_arn(
    id: &str,
    prop: &str,
    arn: &Val<String>,
    service: &str,
    resource: ArnResource,
) -> Result<(), ConstructError> {
    let Value::String(s) = arn.raw() else {
        return Ok(());
    };
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let name = match (parts.as_slice(), resource) {
        (["arn", _, svc, _, _, rest], _) if *svc == service => match resource {
            ArnResource::Name => Some(*rest),
            ArnResource::Slash(t) => rest.strip_prefix(t).and_then(|r| r.strip_prefix('/')),
            ArnResource::Colon(t) => rest
                .strip_prefix(t)
                .and_then(|r| r.strip_prefix(':'))
                .and_then(|r| r.split(':').next()),
        },
        _ => None,
    };
    if name.is_some_and(|n| !n.is_empty()) {
        return Ok(());
    }
    let form = match resource {
        ArnResource::Name => "<name>".to_owned(),
        ArnResource::Slash(t) => format!("{t}/<name>"),
        ArnResource::Colon(t) => format!("{t}:<name>"),
    };
    Err(ConstructError::invalid(
        id,
        format!(
            "{prop} must be an ARN arn:<partition>:{service}:<region>:<account>:{form}, got {s:?}"
        ),
    ))
}

/// The name in an imported resource's ARN (checked by [`check_imported_arn`]): a literal for a literal ARN,
/// `Fn::Select` of `Fn::Split` for an expression, so metrics and names work for both.
pub(crate) fn imported_name(arn: &Val<String>, resource: ArnResource) -> Val<String> {
    if let Value::String(s) = arn.raw() {
        let rest = s.splitn(6, ':').nth(5).unwrap_or_default();
        let name = match resource {
            ArnResource::Name => rest,
            ArnResource::Slash(_) => rest.split_once('/').map_or(rest, |(_, n)| n),
            ArnResource::Colon(_) => rest.split(':').nth(1).unwrap_or(rest),
        };
        return Val::from(name);
    }
    let colon = |i: i64| crate::fns::select(i, crate::fns::split(":", arn.clone()));
    match resource {
        ArnResource::Name => colon(5),
        ArnResource::Slash(_) => crate::fns::select(1, crate::fns::split("/", colon(5))),
        ArnResource::Colon(_) => colon(6),
    }
}

/// Field `index` of an ARN split on `:` (3 is the region, 4 the account): a literal for a literal ARN,
/// `Fn::Select` of `Fn::Split` otherwise.
pub(crate) fn arn_field(arn: &Val<String>, index: usize) -> Val<String> {
    match arn.raw() {
        Value::String(s) => Val::from(s.splitn(6, ':').nth(index).unwrap_or_default()),
        _ => crate::fns::select(index as i64, crate::fns::split(":", arn.clone())),
    }
}

/// A construct's own scope, kept so it can add resources after creation (a policy with the first statement).
/// `Debug` shows the path, so constructs can derive `Debug`.
#[derive(Clone)]
pub(crate) struct OwnScope(pub(crate) crate::Scope);

impl std::ops::Deref for OwnScope {
    type Target = crate::Scope;
    fn deref(&self) -> &crate::Scope {
        &self.0
    }
}

impl std::fmt::Debug for OwnScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.path())
    }
}

/// The last component of a construct path: the id it was created with.
pub(crate) fn construct_id(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A duration as whole seconds within `[min, max]`, or an error naming the prop, the value and the range.
pub(crate) fn seconds_in(
    path: &str,
    prop: &str,
    d: Duration,
    min: Duration,
    max: Duration,
) -> Result<i64, ConstructError> {
    if d.subsec_nanos() != 0 || d < min || d > max {
        return Err(ConstructError::invalid(
            path,
            format!(
                "{prop} must be a whole number of seconds between {} and {}, got {}",
                human(min),
                human(max),
                human(d)
            ),
        ));
    }
    Ok(d.as_secs() as i64)
}

/// A duration as whole days within `[min, max]`, or an error naming the prop, the value and the range.
pub(crate) fn days_in(
    path: &str,
    prop: &str,
    d: Duration,
    min: u64,
    max: u64,
) -> Result<i64, ConstructError> {
    let secs = d.as_secs();
    if d.subsec_nanos() != 0 || secs % 86_400 != 0 || secs / 86_400 < min || secs / 86_400 > max {
        return Err(ConstructError::invalid(
            path,
            format!(
                "{prop} must be a whole number of days from {min} to {max}, got {}",
                human(d)
            ),
        ));
    }
    Ok((secs / 86_400) as i64)
}

/// `90 seconds`, `15 minutes`, `14 days`, `1.5 seconds`: durations as people write them, for messages.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_nanos() != 0 {
        return format!("{} seconds", d.as_secs_f64());
    }
    let unit = |n: u64, name: &str| format!("{n} {name}{}", if n == 1 { "" } else { "s" });
    match s {
        0 => "0 seconds".to_owned(),
        s if s % 86_400 == 0 => unit(s / 86_400, "day"),
        s if s % 3_600 == 0 => unit(s / 3_600, "hour"),
        s if s % 60 == 0 => unit(s / 60, "minute"),
        s => unit(s, "second"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// The service modules this one uses in code (`super::sqs`, `crate::constructs::sqs`), comments left out.
    fn uses(source: &str, modules: &[String]) -> Vec<String> {
        let code: String = source
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        modules
            .iter()
            .filter(|m| {
                code.contains(&format!("super::{m}::"))
                    || code.contains(&format!("super::{m};"))
                    || code.contains(&format!("crate::constructs::{m}"))
            })
            .cloned()
            .collect()
    }

    /// A module that needs another one's types is understood (and changed) after it: two modules that need each
    /// other can only be understood together. The alarm actions and `Architecture` were such cycles.
    #[test]
    fn construct_modules_and_assets_form_no_import_cycle() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
        let modules: Vec<String> = std::fs::read_dir(root.join("constructs"))
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".rs")
                    .filter(|m| *m != "mod")
                    .map(str::to_owned)
            })
            .collect();
        let deps: BTreeMap<&str, Vec<String>> = modules
            .iter()
            .map(|m| {
                let d = uses(&read(root.join(format!("constructs/{m}.rs"))), &modules);
                (m.as_str(), d.into_iter().filter(|d| d != m).collect())
            })
            .collect();
        let reaches = |from: &str, to: &str| {
            let (mut seen, mut todo) = (BTreeSet::new(), vec![from.to_owned()]);
            while let Some(m) = todo.pop() {
                for d in &deps[m.as_str()] {
                    if seen.insert(d.clone()) {
                        todo.push(d.clone());
                    }
                }
            }
            seen.contains(to)
        };
        for a in &modules {
            for b in modules.iter().filter(|b| a < *b) {
                assert!(
                    !(reaches(a, b) && reaches(b, a)),
                    "{a} and {b} import each other"
                );
            }
        }
        for file in ["mod.rs", "build.rs", "bundle.rs", "package.rs"] {
            let code = read(root.join("assets").join(file));
            assert!(
                uses(&code, &["lambda".to_owned()]).is_empty()
                    && !code.contains("use crate::constructs"),
                "src/assets/{file} uses the constructs"
            );
        }
    }

    /// The shared accessors mean the same on every construct, whether it keeps its scope or only its handle.
    #[test]
    fn every_construct_answers_path_id_and_escape_hatches_alike() {
        fn check<C: Construct>(c: &C, path: &str) {
            assert_eq!(c.path(), path);
            assert_eq!(c.id(), path.rsplit('/').next().unwrap());
            let _ = c.resource_mut();
            c.apply_removal_policy(RemovalPolicy::Retain);
            let entry = c.handle().entry();
            assert_eq!(entry.deletion_policy, Some(RemovalPolicy::Retain), "{path}");
        }
        let app = crate::App::new();
        let scope = app.stack("S").scope();
        let queue = sqs::Queue::new(&scope, "Q", Default::default()).unwrap();
        check(&queue, "S/Q");
        let role = Role::new(
            &scope,
            "R",
            Principal::service("x.amazonaws.com"),
            RoleProps::default(),
        )
        .unwrap();
        check(&role, "S/R");
        let key = kms::Key::new(&scope, "K", Default::default()).unwrap();
        check(&key, "S/K");
        let api = apigateway::RestApi::new(&scope, "Api", Default::default()).unwrap();
        check(api.deployment_stage(), "S/Api/Stage");
        queue.add_metadata("note", "kept");
        assert_eq!(queue.handle().entry().metadata["note"], Value::from("kept"));
    }

    #[test]
    fn imported_arns_are_checked_when_literal_and_named_either_way() {
        let table = Val::from("arn:aws:dynamodb:eu-west-1:111122223333:table/orders");
        check_imported_arn(
            "Orders",
            "table_arn",
            &table,
            "dynamodb",
            ArnResource::Slash("table"),
        )
        .unwrap();
        assert_eq!(
            imported_name(&table, ArnResource::Slash("table")),
            Val::from("orders")
        );
        let function = Val::from("arn:aws:lambda:eu-west-1:111122223333:function:notify:live");
        check_imported_arn(
            "N",
            "function_arn",
            &function,
            "lambda",
            ArnResource::Colon("function"),
        )
        .unwrap();
        assert_eq!(
            imported_name(&function, ArnResource::Colon("function")),
            Val::from("notify")
        );
        let queue = Val::from("arn:aws:sqs:eu-west-1:111122223333:jobs.fifo");
        assert_eq!(
            imported_name(&queue, ArnResource::Name),
            Val::from("jobs.fifo")
        );

        let e = check_imported_arn(
            "Orders",
            "table_arn",
            &queue,
            "dynamodb",
            ArnResource::Slash("table"),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Orders: table_arn must be an ARN arn:<partition>:dynamodb:<region>:<account>:table/<name>, got \
             \"arn:aws:sqs:eu-west-1:111122223333:jobs.fifo\""
        );
        // An expression is CloudFormation's to check; its name is split out at deploy time.
        let imported = crate::fns::import_value("Shared:Orders:Arn");
        check_imported_arn(
            "Orders",
            "table_arn",
            &imported,
            "dynamodb",
            ArnResource::Slash("table"),
        )
        .unwrap();
        let name_part: Val<String> =
            crate::fns::select(5, crate::fns::split(":", imported.clone()));
        assert_eq!(
            imported_name(&imported, ArnResource::Slash("table")),
            crate::fns::select(1, crate::fns::split("/", name_part))
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(14 * 86_400)), "14 days");
        assert_eq!(human(Duration::from_secs(3_600)), "1 hour");
        assert_eq!(human(Duration::from_secs(90)), "90 seconds");
        assert_eq!(human(Duration::from_millis(1_500)), "1.5 seconds");
    }

    #[test]
    fn out_of_range_seconds_name_the_prop_the_range_and_the_value() {
        let e = seconds_in(
            "S/Q",
            "visibility_timeout",
            Duration::from_secs(13 * 3_600),
            Duration::ZERO,
            Duration::from_secs(12 * 3_600),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "S/Q: visibility_timeout must be a whole number of seconds between 0 seconds and 12 hours, got 13 hours"
        );
    }
}
