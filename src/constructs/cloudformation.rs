//! CloudFormation: [`StackSet`], one stack rolled out to many accounts (organizational units, or listed accounts)
//! and regions, with the concurrency, failure tolerance and region order of the rollout.
//!
//! The stack every account gets is an ordinary cfnkit [`Stack`], built with the usual API in an [`App`] of its
//! own (it is deployed by the stack set, not as a stack of the app). [`StackSet::new`] synthesizes it as
//! `cargo run -- synth` would, runs the rule pack on it, and puts its JSON in the stack set's `TemplateBody`.
//!
//! ```
//! use cfnkit::constructs::cloudformation::{StackSet, StackSetProps, StackSetTargets};
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! // What every account of the workload OUs gets, in each region: an encrypted alert topic.
//! let baseline = App::new();
//! let template = baseline.stack("AccountBaseline");
//! Topic::new(&template, "Alerts", TopicProps::default())?;
//!
//! let app = App::new();
//! let org = app.stack("Organization");
//! let set = StackSet::new(&org, "Baseline", &template, StackSetProps {
//!     targets: StackSetTargets::organizational_units(["ou-ab12-34cd56ef"]),
//!     regions: vec!["eu-west-1".into(), "eu-central-1".into()],
//!     ..Default::default()
//! })?;
//! assert!(set.capabilities().is_empty(), "no IAM resources, nothing to acknowledge");
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::cloudformation::stack_set as l1;
pub use cfnkit_l1::cloudformation::stack_set::{
    AccountFilterType, CallAs, Capability, RegionConcurrencyType,
};
use serde_json::Value as Json;

use super::{removal_default, Construct, ConstructError, OwnScope};
#[cfg(doc)]
use crate::App;
use crate::{AsScope, Stack};

/// CloudFormation's limit on a stack set's `TemplateBody`, in bytes.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// Who creates the stack instances in the target accounts.
#[derive(Clone, Debug)]
pub enum StackSetPermissions {
    /// AWS Organizations creates the roles: the stack set targets organizational units and is created from the
    /// management account or a delegated administrator ([`StackSetProps::call_as`]).
    ServiceManaged {
        /// What happens when accounts join or leave the target organizational units.
        auto_deploy: AutoDeploy,
    },
    /// Roles made beforehand: an administration role in this account that CloudFormation assumes, and an
    /// execution role of the same name in every target account. The stack set targets listed accounts.
    SelfManaged {
        /// The administration role's ARN. Without it CloudFormation uses
        /// `arn:<partition>:iam::<this account>:role/AWSCloudFormationStackSetAdministrationRole`.
        administration_role_arn: Option<Val<String>>,
        /// The execution role's name in the target accounts. Without it `AWSCloudFormationStackSetExecutionRole`.
        execution_role_name: Option<String>,
    },
}

impl Default for StackSetPermissions {
    /// Service-managed, deploying to accounts as they join the target organizational units.
    fn default() -> Self {
        StackSetPermissions::ServiceManaged {
            auto_deploy: AutoDeploy::default(),
        }
    }
}

/// Automatic deployment of a service-managed stack set to the accounts that join its organizational units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoDeploy {
    /// Accounts that join later get nothing until the stack set is updated.
    Disabled,
    /// An account that joins a target organizational unit gets the stack; one that leaves loses it unless
    /// `retain_stacks_on_account_removal`.
    Enabled {
        /// Keep the stack (and its resources) in an account that leaves the organizational units.
        retain_stacks_on_account_removal: bool,
    },
}

impl Default for AutoDeploy {
    /// Enabled, and an account that leaves keeps its stack (AWS CDK's default): leaving an OU never deletes
    /// resources in an account.
    fn default() -> Self {
        AutoDeploy::Enabled {
            retain_stacks_on_account_removal: true,
        }
    }
}

/// The accounts a stack set deploys to: organizational units (service-managed permissions), narrowed or widened
/// by listed accounts, or listed accounts alone (self-managed permissions).
#[derive(Clone, Debug, Default)]
pub struct StackSetTargets {
    /// Organizational unit ids (`ou-ab12-34cd56ef`) or the organization's root id (`r-ab12`): every account in
    /// them, and in the units below them. Service-managed permissions only.
    pub organizational_unit_ids: Vec<String>,
    /// Account ids (12 digits). With self-managed permissions, the accounts deployed to; with service-managed ones,
    /// accounts that [`StackSetTargets::account_filter`] adds to or removes from the organizational units.
    pub accounts: Vec<String>,
    /// How [`StackSetTargets::accounts`] combine with the organizational units (service-managed permissions):
    /// `Union` adds them, `Intersection` deploys to them only, `Difference` to every account but them. Without it
    /// the stack set deploys to the organizational units' accounts, and `accounts` must be empty.
    pub account_filter: Option<AccountFilterType>,
}

impl StackSetTargets {
    /// Every account of these organizational units (or root).
    pub fn organizational_units<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        StackSetTargets {
            organizational_unit_ids: ids.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
    /// These accounts (self-managed permissions).
    pub fn accounts<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        StackSetTargets {
            accounts: ids.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
}

/// How many accounts a rollout works on at once, or may fail in, per region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// A number of accounts.
    Count(u32),
    /// A percentage (0 to 100) of the target accounts, rounded down (CloudFormation rounds the concurrency of
    /// `max_concurrent` down too, but to at least one account).
    Percentage(u32),
}

/// How a create, update or delete of the stack set rolls out.
#[derive(Clone, Debug)]
pub struct StackSetOperation {
    /// Accounts deployed at once in a region. Without it one at a time (`Count(1)`), CloudFormation's default.
    pub max_concurrent: Concurrency,
    /// Accounts that may fail in a region before the operation stops there and skips the regions left. Without
    /// it none (`Count(0)`): the first failure stops the rollout. With counts for both, `max_concurrent` is at
    /// most `failure_tolerance + 1` (CloudFormation's strict failure tolerance).
    pub failure_tolerance: Concurrency,
    /// The order regions are deployed in, a subset of [`StackSetProps::regions`]. Without it the order of
    /// `regions`.
    pub region_order: Vec<String>,
    /// One region after the other (`Sequential`) or all at once (`Parallel`). Without it `Sequential`, so a
    /// failure in the first region stops the rollout before the others.
    pub region_concurrency: RegionConcurrencyType,
}

impl Default for StackSetOperation {
    fn default() -> Self {
        StackSetOperation {
            max_concurrent: Concurrency::Count(1),
            failure_tolerance: Concurrency::Count(0),
            region_order: Vec::new(),
            region_concurrency: RegionConcurrencyType::Sequential,
        }
    }
}

/// Props of a [`StackSet`]. The template is an argument of [`StackSet::new`]; `targets` and `regions` must be
/// given.
#[derive(Clone, Debug)]
pub struct StackSetProps {
    /// The stack set's name (letters, digits and `-`, starting with a letter, at most 128). Without it
    /// `<stack name>-<construct id>` (`Observability-Baseline`). Changing it replaces the stack set, which deletes
    /// every stack instance.
    pub stack_set_name: Option<String>,
    /// Without it the template's own `Description` (from [`Stack::set_description`]), if any.
    pub description: Option<String>,
    /// Without it service-managed permissions with automatic deployment ([`StackSetPermissions::default`]).
    pub permissions: StackSetPermissions,
    /// Where the stack instances go. Must be given: without targets the stack set deploys nowhere.
    pub targets: StackSetTargets,
    /// The regions deployed to in each target account (`eu-west-1`). Must be given.
    pub regions: Vec<String>,
    /// How operations roll out. Without it one account at a time, one region after the other, stopping at the
    /// first failure.
    pub operation: StackSetOperation,
    /// Values of the template's parameters, by name. A parameter without a `Default` in the template must have
    /// one here.
    pub parameters: BTreeMap<String, Val<String>>,
    /// Whether this stack is deployed in the organization's management account (`Self_`) or in a delegated
    /// administrator account for StackSets (`DelegatedAdmin`). Service-managed permissions only. Without it
    /// `Self_`.
    pub call_as: CallAs,
    /// Operations that do not conflict run at once, and the others queue (`ManagedExecution`). On unless turned
    /// off (AWS CDK's default), so that updating the stack set while an instance operation runs does not fail.
    pub managed_execution: bool,
    /// What happens to the stack set when it leaves the stack or is replaced. Without it it is retained: deleting
    /// a stack set deletes its stack instances, and their resources, in every target account and region.
    pub removal_policy: Option<RemovalPolicy>,
}

impl Default for StackSetProps {
    fn default() -> Self {
        StackSetProps {
            stack_set_name: None,
            description: None,
            permissions: StackSetPermissions::default(),
            targets: StackSetTargets::default(),
            regions: Vec::new(),
            operation: StackSetOperation::default(),
            parameters: BTreeMap::new(),
            call_as: CallAs::Self_,
            managed_execution: true,
            removal_policy: None,
        }
    }
}

/// The stack set's template, synthesized and judged by the rule pack: what `new` puts in `TemplateBody`.
struct Template {
    /// The name of the stack it came from, for messages.
    stack: String,
    /// Compact JSON: the limit is on bytes, and the snapshot of the outer template shows it on one line anyway.
    body: String,
    description: Option<String>,
    /// Every parameter, and whether it has a default.
    parameters: BTreeMap<String, bool>,
    has_transform: bool,
    capabilities: Vec<Capability>,
}

impl Template {
    /// Synthesizes `stack` alone, as `cargo run -- synth` does (synth's checks, then the rule pack), so that the
    /// template every account gets is judged like every other template.
    fn synthesize(path: &str, own: &Stack, stack: &Stack) -> Result<Template, ConstructError> {
        let name = stack.name();
        if Rc::ptr_eq(&own.0, &stack.0) {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "the template of a stack set cannot be the stack it is in ({name}): build the template in an \
                     App of its own (`App::new().stack(\"AccountBaseline\")`)"
                ),
            ));
        }
        let app = crate::App {
            stacks: Rc::new(std::cell::RefCell::new(vec![stack.clone()])),
            tags: Default::default(),
        };
        let checked = crate::synth::synth_checked(&app).map_err(|e| {
            ConstructError::invalid(
                path,
                format!(
                    "its template, stack {name}, is not one synth accepts: {e}\nfix the template's stack (or \
                     suppress a finding on its resource, with the reason)"
                ),
            )
        })?;
        let node = &checked.assembly().stacks[0].template;
        let body = serde_json::to_string(node).expect("a Node always serializes");
        let json: Json = serde_json::from_str(&body).expect("synth writes JSON");
        let resources = json["Resources"].as_object().cloned().unwrap_or_default();

        let with_assets: Vec<&String> = resources
            .iter()
            .filter(|(_, r)| r["Metadata"].get(crate::assets::METADATA_KEY).is_some())
            .map(|(id, _)| id)
            .collect();
        if !with_assets.is_empty() {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "its template, stack {name}, has Lambda code from cfnkit assets ({}): assets are uploaded to this \
                     account's assets bucket, which the target accounts cannot read; give those functions inline \
                     code, or code in a bucket every target account can read",
                    join(with_assets)
                ),
            ));
        }
        if body.len() > TEMPLATE_BODY_LIMIT {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "its template, stack {name}, is {} bytes of JSON, over CloudFormation's limit of 51,200 bytes \
                     for a stack set's TemplateBody: split the stack into two stack sets, or move what is not \
                     needed in every account out of it",
                    body.len()
                ),
            ));
        }
        Ok(Template {
            stack: name.to_string(),
            description: json["Description"].as_str().map(str::to_owned),
            parameters: json["Parameters"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, p)| (k.clone(), p.get("Default").is_some()))
                .collect(),
            has_transform: json.get("Transform").is_some(),
            capabilities: capabilities(&resources),
            body,
        })
    }
}

/// What CloudFormation asks to acknowledge for these resources: `CAPABILITY_NAMED_IAM` when an IAM resource has a
/// custom name (it covers the unnamed ones too), else `CAPABILITY_IAM` when there is an IAM resource.
fn capabilities(resources: &serde_json::Map<String, Json>) -> Vec<Capability> {
    let (mut iam, mut named) = (false, false);
    for r in resources.values() {
        let type_name = r["Type"].as_str().unwrap_or_default();
        if let Some(t) = crate::resource_types::IAM_CAPABILITY_TYPES
            .iter()
            .find(|t| t.type_name == type_name)
        {
            iam = true;
            named |= t
                .name_property
                .is_some_and(|p| r["Properties"].get(p).is_some());
        }
    }
    match (iam, named) {
        (_, true) => vec![Capability::CapabilityNamedIam],
        (true, false) => vec![Capability::CapabilityIam],
        _ => Vec::new(),
    }
}

fn join<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`StackSetProps`] as [`StackSetProps::validate`] accepted them.
struct CheckedStackSetProps {
    stack_set_name: String,
    /// `regions` in the order they are deployed.
    region_order: Vec<String>,
}

impl StackSetProps {
    /// Every check of the props and of how they fit the template, before anything is built; every problem is
    /// reported, in one error.
    fn validate(
        &self,
        path: &str,
        stack_name: &str,
        template: &Template,
    ) -> Result<CheckedStackSetProps, ConstructError> {
        let mut problems: Vec<String> = Vec::new();
        let id = super::construct_id(path);
        let stack_set_name = self
            .stack_set_name
            .clone()
            .unwrap_or_else(|| format!("{stack_name}-{id}"));
        let valid_name = stack_set_name.len() <= 128
            && stack_set_name.starts_with(|c: char| c.is_ascii_alphabetic())
            && stack_set_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid_name {
            problems.push(format!(
                "stack set name {stack_set_name:?}{} is not 1 to 128 letters, digits and `-` starting with a \
                 letter: set stack_set_name",
                if self.stack_set_name.is_none() {
                    " (from the stack name and construct id)"
                } else {
                    ""
                }
            ));
        }

        self.check_targets(&mut problems);
        let region_order = self.check_regions(&mut problems);
        self.check_operation(&mut problems);

        for key in self.parameters.keys() {
            if !template.parameters.contains_key(key) {
                problems.push(format!(
                    "parameters: {key:?} is not a parameter of the template (stack {}), whose parameters are: \
                     [{}]; drop it or declare it in the template",
                    template.stack,
                    join(template.parameters.keys())
                ));
            }
        }
        for (key, has_default) in &template.parameters {
            if !has_default && !self.parameters.contains_key(key) {
                problems.push(format!(
                    "the template's parameter {key} has no default: give its value in parameters"
                ));
            }
        }
        if template.has_transform
            && matches!(self.permissions, StackSetPermissions::ServiceManaged { .. })
        {
            problems.push(format!(
                "the template (stack {}) has a Transform, which needs CAPABILITY_AUTO_EXPAND, and service-managed \
                 stack sets take no macros: drop the transform from the template or use self-managed permissions",
                template.stack
            ));
        }

        if problems.is_empty() {
            Ok(CheckedStackSetProps {
                stack_set_name,
                region_order,
            })
        } else {
            Err(ConstructError::invalid(path, problems.join("; ")))
        }
    }

    fn check_targets(&self, problems: &mut Vec<String>) {
        let t = &self.targets;
        for ou in duplicates(&t.organizational_unit_ids) {
            problems.push(format!(
                "targets.organizational_unit_ids names {ou:?} twice"
            ));
        }
        for ou in t
            .organizational_unit_ids
            .iter()
            .filter(|o| !is_ou_or_root(o))
        {
            problems.push(format!(
                "targets.organizational_unit_ids: {ou:?} is not an organizational unit id (`ou-`, 4 to 32 \
                 lowercase letters or digits, `-`, 8 to 32 more: \"ou-ab12-34cd56ef\") or a root id (\"r-ab12\")"
            ));
        }
        for a in duplicates(&t.accounts) {
            problems.push(format!("targets.accounts names {a:?} twice"));
        }
        for a in t
            .accounts
            .iter()
            .filter(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            problems.push(format!(
                "targets.accounts: {a:?} is not an AWS account id (12 digits, leading zeros included)"
            ));
        }
        let filter = match &t.account_filter {
            None | Some(AccountFilterType::None) => None,
            Some(f) => Some(f.as_str()),
        };
        match &self.permissions {
            StackSetPermissions::ServiceManaged { .. } => {
                if t.organizational_unit_ids.is_empty() {
                    problems.push(
                        "service-managed permissions deploy to organizational units: give \
                         targets.organizational_unit_ids (accounts alone need StackSetPermissions::SelfManaged)"
                            .to_owned(),
                    );
                }
                match (filter, t.accounts.is_empty()) {
                    (None, false) => problems.push(format!(
                        "targets.accounts ({}) with service-managed permissions only narrow or widen the \
                         organizational units: set targets.account_filter to Some(AccountFilterType::Union) to add \
                         them, Intersection to deploy to them only, or Difference to deploy to every account but \
                         them",
                        join(&t.accounts)
                    )),
                    (Some(f), true) => problems.push(format!(
                        "targets.account_filter {f} needs the accounts it filters: list them in targets.accounts, \
                         or drop the filter"
                    )),
                    _ => {}
                }
            }
            StackSetPermissions::SelfManaged {
                execution_role_name,
                ..
            } => {
                if !t.organizational_unit_ids.is_empty() {
                    problems.push(format!(
                        "self-managed permissions deploy to listed accounts, not organizational units ({}): list \
                         targets.accounts, or use StackSetPermissions::ServiceManaged",
                        join(&t.organizational_unit_ids)
                    ));
                }
                if t.accounts.is_empty() && t.organizational_unit_ids.is_empty() {
                    problems.push(
                        "self-managed permissions deploy to listed accounts: give targets.accounts"
                            .to_owned(),
                    );
                }
                if let Some(f) = filter {
                    problems.push(format!(
                        "targets.account_filter {f} filters organizational units, which only service-managed \
                         permissions target: drop it"
                    ));
                }
                if self.call_as == CallAs::DelegatedAdmin {
                    problems.push(
                        "call_as DELEGATED_ADMIN applies to service-managed permissions only: drop it (a \
                         self-managed stack set belongs to the account that creates it)"
                            .to_owned(),
                    );
                }
                if let Some(role) = execution_role_name {
                    let valid = (1..=64).contains(&role.len())
                        && role
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
                    if !valid {
                        problems.push(format!(
                            "execution_role_name {role:?} is not a role name (1 to 64 letters, digits and \
                             `_+=,.@-`)"
                        ));
                    }
                }
            }
        }
    }

    /// Checks the regions and returns them in deploy order.
    fn check_regions(&self, problems: &mut Vec<String>) -> Vec<String> {
        if self.regions.is_empty() {
            problems.push(
                "regions is empty: name the regions every target account gets the stack in (`regions: \
                 vec![\"eu-west-1\".into()]`)"
                    .to_owned(),
            );
        }
        for r in self.regions.iter().filter(|r| !is_region(r)) {
            problems.push(format!(
                "regions: {r:?} is not a region name like \"eu-west-1\" or \"us-gov-west-1\""
            ));
        }
        for r in duplicates(&self.regions) {
            problems.push(format!("regions names {r:?} twice"));
        }
        let order = &self.operation.region_order;
        for r in duplicates(order) {
            problems.push(format!("operation.region_order names {r:?} twice"));
        }
        for r in order.iter().filter(|r| !self.regions.contains(r)) {
            problems.push(format!(
                "operation.region_order names {r:?}, which is not in regions [{}]: add it to regions or drop it \
                 from region_order",
                join(&self.regions)
            ));
        }
        // The regions left out of region_order follow it, in the order of `regions`.
        let mut deploy_order = order.clone();
        deploy_order.extend(self.regions.iter().filter(|r| !order.contains(r)).cloned());
        deploy_order
    }

    fn check_operation(&self, problems: &mut Vec<String>) {
        let op = &self.operation;
        match op.max_concurrent {
            Concurrency::Count(0) => problems.push(
                "operation.max_concurrent must be at least Count(1) (or a Percentage from 1 to 100), got Count(0)"
                    .to_owned(),
            ),
            Concurrency::Percentage(p) if !(1..=100).contains(&p) => problems.push(format!(
                "operation.max_concurrent must be a Percentage from 1 to 100, got Percentage({p})"
            )),
            _ => {}
        }
        if let Concurrency::Percentage(p) = op.failure_tolerance {
            if p > 100 {
                problems.push(format!(
                    "operation.failure_tolerance must be a Percentage from 0 to 100, got Percentage({p})"
                ));
            }
        }
        if let (Concurrency::Count(max), Concurrency::Count(tolerance)) =
            (op.max_concurrent, op.failure_tolerance)
        {
            if max > tolerance.saturating_add(1) {
                problems.push(format!(
                    "operation.max_concurrent Count({max}) is more than failure_tolerance Count({tolerance}) + 1, \
                     which CloudFormation refuses (strict failure tolerance): lower max_concurrent to Count({}) or \
                     raise failure_tolerance to Count({})",
                    tolerance.saturating_add(1),
                    max - 1
                ));
            }
        }
    }
}

/// The values given more than once, each once, in order.
fn duplicates(items: &[String]) -> Vec<&String> {
    let mut seen = BTreeSet::new();
    let mut twice = Vec::new();
    for i in items {
        if !seen.insert(i) && !twice.contains(&i) {
            twice.push(i);
        }
    }
    twice
}

/// `ou-<4 to 32>-<8 to 32>` or `r-<4 to 32>`, lowercase letters and digits: the patterns of the
/// `OrganizationalUnitIds` property.
fn is_ou_or_root(id: &str) -> bool {
    let part = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if let Some(rest) = id.strip_prefix("ou-") {
        return rest
            .split_once('-')
            .is_some_and(|(root, ou)| part(root, 4) && part(ou, 8));
    }
    id.strip_prefix("r-").is_some_and(|root| part(root, 4))
}

/// A region name: `<2 letters>-<words>-<digit(s)>` (`eu-west-1`, `us-gov-west-1`, `ap-southeast-5`).
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A CloudFormation stack set (`AWS::CloudFormation::StackSet`): a cfnkit stack deployed to every target account
/// and region, retained by default.
#[derive(Clone, Debug)]
pub struct StackSet {
    scope: OwnScope,
    handle: l1::StackSetHandle,
    template_body: String,
    capabilities: Vec<Capability>,
}

impl StackSet {
    /// A stack set at `<scope>/<id>` (logical ID `<Id>`) deploying `template`, a stack made in an [`App`] of its
    /// own. The template is synthesized and checked now, so build it completely before calling `new`: what is
    /// added to it later is not deployed.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        template: &Stack,
        props: StackSetProps,
    ) -> Result<StackSet, ConstructError> {
        let scope = scope.as_scope().child(id);
        let own = scope.stack().clone();
        let body = Template::synthesize(scope.path(), &own, template)?;
        let checked = props.validate(scope.path(), &own.name(), &body)?;

        let targets = &props.targets;
        let vals = |v: &[String]| Val::from(v.iter().map(Val::from).collect::<Vec<Val<String>>>());
        let deployment_targets = l1::DeploymentTargets {
            organizational_unit_ids: (!targets.organizational_unit_ids.is_empty())
                .then(|| vals(&targets.organizational_unit_ids)),
            accounts: (!targets.accounts.is_empty()).then(|| vals(&targets.accounts)),
            account_filter_type: targets
                .account_filter
                .clone()
                .filter(|f| *f != AccountFilterType::None)
                .map(Val::from),
            ..Default::default()
        };
        let op = &props.operation;
        let (max_count, max_percentage) = split(op.max_concurrent);
        let (tolerance_count, tolerance_percentage) = split(op.failure_tolerance);
        let mut stack_set = l1::StackSet {
            stack_set_name: Some(checked.stack_set_name.into()),
            description: props
                .description
                .or_else(|| body.description.clone())
                .map(Val::from),
            template_body: Some(body.body.clone().into()),
            capabilities: (!body.capabilities.is_empty()).then(|| {
                Val::from(
                    body.capabilities
                        .iter()
                        .cloned()
                        .map(Val::from)
                        .collect::<Vec<_>>(),
                )
            }),
            parameters: (!props.parameters.is_empty()).then(|| {
                Val::from(
                    props
                        .parameters
                        .into_iter()
                        .map(|(k, v)| {
                            Val::from(l1::Parameter {
                                parameter_key: Some(k.into()),
                                parameter_value: Some(v),
                            })
                        })
                        .collect::<Vec<_>>(),
                )
            }),
            managed_execution: Some(Val::from(l1::ManagedExecution {
                active: Some(props.managed_execution.into()),
            })),
            operation_preferences: Some(Val::from(l1::OperationPreferences {
                max_concurrent_count: max_count,
                max_concurrent_percentage: max_percentage,
                failure_tolerance_count: tolerance_count,
                failure_tolerance_percentage: tolerance_percentage,
                region_concurrency_type: Some(op.region_concurrency.clone().into()),
                region_order: Some(vals(&checked.region_order)),
                ..Default::default()
            })),
            stack_instances_group: Some(Val::from(vec![Val::from(l1::StackInstances {
                deployment_targets: Some(deployment_targets.into()),
                regions: Some(vals(&props.regions)),
                ..Default::default()
            })])),
            ..Default::default()
        };
        match props.permissions {
            StackSetPermissions::ServiceManaged { auto_deploy } => {
                stack_set.permission_model = Some(l1::PermissionModel::ServiceManaged.into());
                stack_set.call_as = Some(props.call_as.into());
                stack_set.auto_deployment = Some(Val::from(match auto_deploy {
                    AutoDeploy::Disabled => l1::AutoDeployment {
                        enabled: Some(false.into()),
                        ..Default::default()
                    },
                    AutoDeploy::Enabled {
                        retain_stacks_on_account_removal,
                    } => l1::AutoDeployment {
                        enabled: Some(true.into()),
                        retain_stacks_on_account_removal: Some(
                            retain_stacks_on_account_removal.into(),
                        ),
                        ..Default::default()
                    },
                }));
            }
            StackSetPermissions::SelfManaged {
                administration_role_arn,
                execution_role_name,
            } => {
                stack_set.permission_model = Some(l1::PermissionModel::SelfManaged.into());
                stack_set.administration_role_arn = administration_role_arn;
                stack_set.execution_role_name = execution_role_name.map(Val::from);
            }
        }
        let handle: l1::StackSetHandle = scope.add("Resource", stack_set);
        template
            .0
            .borrow_mut()
            .template_of
            .push((scope.path().to_owned(), Rc::downgrade(&own.0)));
        handle.apply_removal_policy(
            props
                .removal_policy
                .unwrap_or(removal_default::<l1::StackSet>()),
        );
        Ok(StackSet {
            scope: OwnScope(scope),
            handle,
            template_body: body.body,
            capabilities: body.capabilities,
        })
    }

    /// The template every stack instance is made from, as JSON: what the stack set's `TemplateBody` holds. Write
    /// it out to lint it (cfn-lint, checkov) like the app's own templates.
    pub fn template_body(&self) -> &str {
        &self.template_body
    }
    /// What the stack set acknowledges for its template's IAM resources (`CAPABILITY_IAM`, or
    /// `CAPABILITY_NAMED_IAM` when one has a custom name): none without IAM resources.
    pub fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }
    /// The stack set's id (`StackSetId`, `<name>:<uuid>`).
    pub fn stack_set_id(&self) -> Val<String> {
        self.handle.attr_stack_set_id()
    }
}

/// A concurrency as the `(count, percentage)` pair of properties CloudFormation has for it, one of them set.
fn split(c: Concurrency) -> (Option<Val<i64>>, Option<Val<i64>>) {
    match c {
        Concurrency::Count(n) => (Some(i64::from(n).into()), None),
        Concurrency::Percentage(p) => (None, Some(i64::from(p).into())),
    }
}

impl Construct for StackSet {
    type L1 = l1::StackSet;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::StackSetHandle {
        &self.handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizational_unit_and_root_ids_follow_the_registry_patterns() {
        for ok in ["ou-ab12-34cd56ef", "r-ab12", "ou-abcd1234-0123456789abcdef"] {
            assert!(is_ou_or_root(ok), "{ok}");
        }
        for bad in [
            "ou-ab1-34cd56ef",
            "ou-ab12-34cd56e",
            "OU-AB12-34CD56EF",
            "ab12",
            "r-",
            "ou-ab12",
        ] {
            assert!(!is_ou_or_root(bad), "{bad}");
        }
    }

    #[test]
    fn region_names_look_like_regions() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-5",
            "us-isob-east-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["eu-west", "EU-WEST-1", "euwest1", "eu--1", "e-west-1", ""] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
