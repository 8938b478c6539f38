//! IAM: typed policy statements and documents, the [`Role`] construct, the [`Policy`] construct, and
//! [`Grantable`], the trait of everything that grants can be given to.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Ops");
//! let role = Role::new(&stack, "Reporter", Principal::service("lambda.amazonaws.com"), RoleProps::default())?;
//! // Named actions on named resources: what every construct's grant methods write.
//! let grant = role.grant(&["cloudwatch:GetMetricData"], ["*"]);
//! assert_eq!(grant.statements().len(), 1);
//! // `*` is what GetMetricData accepts, so say so: the suppression covers that item only.
//! cfnkit::rules::suppress_only(role.handle(), &cfnkit::rules::IAM5, &["Resource::*"], "GetMetricData has no resource-level permissions");
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{Json, Val, Value};
use cfnkit_l1::iam as l1;

use super::{path_of, seconds_in, Construct, ConstructError};
use crate::{fns, AsScope};

/// Whether a statement allows or denies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The statement grants its actions.
    Allow,
    /// The statement refuses its actions, whatever else allows them.
    Deny,
}

impl Effect {
    fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// Who a resource policy, key policy or trust policy statement applies to.
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    /// An AWS service (`sqs.amazonaws.com`).
    Service(String),
    /// An IAM principal by ARN (a role, a user, an account root).
    Aws(Val<String>),
    /// The root of the deploying account: `arn:${AWS::Partition}:iam::${AWS::AccountId}:root`, which delegates
    /// access to the account's IAM policies.
    AccountRoot,
    /// Anyone (`{"AWS": "*"}`): only used in `Deny` statements such as the TLS-only policies.
    Anyone,
    /// A regional AWS service principal, `<name>.${AWS::Region}.amazonaws.com` (CloudWatch Logs in a key
    /// policy is `logs.<region>.amazonaws.com`).
    RegionalService(String),
}

impl Principal {
    /// An AWS service principal.
    pub fn service(name: impl Into<String>) -> Self {
        Principal::Service(name.into())
    }
    /// An IAM principal by ARN.
    pub fn aws(arn: impl Into<Val<String>>) -> Self {
        Principal::Aws(arn.into())
    }

    fn key_and_value(&self) -> (&'static str, Value) {
        match self {
            Principal::Service(s) => ("Service", Value::from(s.as_str())),
            Principal::Aws(arn) => ("AWS", arn.raw().clone()),
            Principal::AccountRoot => (
                "AWS",
                fns::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root").into_raw(),
            ),
            Principal::Anyone => ("AWS", Value::from("*")),
            Principal::RegionalService(name) => (
                "Service",
                fns::sub(format!("{name}.${{AWS::Region}}.amazonaws.com")).into_raw(),
            ),
        }
    }
}

/// One statement of a policy document.
///
/// ```
/// use cfnkit::constructs::{actions, PolicyStatement};
/// let s = PolicyStatement::allow()
///     .actions(actions::SQS_SEND)
///     .resource("arn:aws:sqs:us-east-1:111111111111:orders");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyStatement {
    sid: Option<String>,
    effect: Effect,
    actions: Vec<String>,
    resources: Vec<Value>,
    principals: Vec<Principal>,
    /// Operator (`StringEquals`) to condition key (`aws:SourceAccount`) to value.
    conditions: BTreeMap<String, BTreeMap<String, Value>>,
}

impl PolicyStatement {
    /// An empty statement with this effect.
    pub fn new(effect: Effect) -> Self {
        PolicyStatement {
            sid: None,
            effect,
            actions: Vec::new(),
            resources: Vec::new(),
            principals: Vec::new(),
            conditions: BTreeMap::new(),
        }
    }
    /// An empty `Allow` statement.
    pub fn allow() -> Self {
        Self::new(Effect::Allow)
    }
    /// An empty `Deny` statement.
    pub fn deny() -> Self {
        Self::new(Effect::Deny)
    }
    /// Sets the statement id.
    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }
    /// Appends actions (usually a constant of [`super::actions`]).
    pub fn actions<S: AsRef<str>>(mut self, actions: impl IntoIterator<Item = S>) -> Self {
        for a in actions {
            let a = a.as_ref().to_owned();
            if !self.actions.contains(&a) {
                self.actions.push(a);
            }
        }
        self
    }
    /// Appends one resource ARN.
    pub fn resource(mut self, arn: impl Into<Val<String>>) -> Self {
        let v = arn.into().into_raw();
        if !self.resources.contains(&v) {
            self.resources.push(v);
        }
        self
    }
    /// Appends resource ARNs.
    pub fn resources<R: Into<Val<String>>>(self, arns: impl IntoIterator<Item = R>) -> Self {
        arns.into_iter().fold(self, |s, r| s.resource(r))
    }
    /// Appends a principal (resource, key and trust policies only).
    pub fn principal(mut self, p: Principal) -> Self {
        if !self.principals.contains(&p) {
            self.principals.push(p);
        }
        self
    }
    /// Adds a condition: `condition("ArnEquals", "aws:SourceArn", rule.rule_arn())`.
    pub fn condition(
        mut self,
        operator: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<Value>,
    ) -> Self {
        self.conditions
            .entry(operator.into())
            .or_default()
            .insert(key.into(), value.into());
        self
    }
    /// The usual confused-deputy guard for a service principal: the request comes from this account.
    pub fn from_this_account(self) -> Self {
        self.condition("StringEquals", "aws:SourceAccount", fns::account_id())
    }

    /// The TLS-only statement of a resource policy: deny `actions` on `resources` to anyone when the request is
    /// not made over TLS (`aws:SecureTransport` false). SQS4, SNS3 and S10 of cdk-nag look for it.
    pub fn deny_insecure_transport<R: Into<Val<String>>>(
        actions: &[&str],
        resources: impl IntoIterator<Item = R>,
    ) -> Self {
        PolicyStatement::deny()
            .actions(actions)
            .principal(Principal::Anyone)
            .resources(resources)
            .condition("Bool", "aws:SecureTransport", "false")
    }

    /// The effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }
    /// The actions.
    pub fn action_names(&self) -> &[String] {
        &self.actions
    }

    /// Whether `other` differs from this statement only in its resources, so the two can be merged.
    fn mergeable_with(&self, other: &PolicyStatement) -> bool {
        self.sid == other.sid
            && self.effect == other.effect
            && self.actions == other.actions
            && self.principals == other.principals
            && self.conditions == other.conditions
            && !self.resources.is_empty()
            && !other.resources.is_empty()
    }

    /// The statement as policy JSON. Single actions, resources and principals render as scalars, like AWS CDK.
    pub fn to_value(&self) -> Value {
        fn one_or_many(mut items: Vec<Value>) -> Value {
            if items.len() == 1 {
                items.remove(0)
            } else {
                Value::List(items)
            }
        }
        let mut m = BTreeMap::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".to_owned(), Value::from(sid.as_str()));
        }
        m.insert("Effect".to_owned(), Value::from(self.effect.as_str()));
        if !self.actions.is_empty() {
            m.insert(
                "Action".to_owned(),
                one_or_many(
                    self.actions
                        .iter()
                        .map(|a| Value::from(a.as_str()))
                        .collect(),
                ),
            );
        }
        if !self.resources.is_empty() {
            m.insert("Resource".to_owned(), one_or_many(self.resources.clone()));
        }
        if !self.principals.is_empty() {
            let mut by_kind: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for p in &self.principals {
                let (k, v) = p.key_and_value();
                by_kind.entry(k.to_owned()).or_default().push(v);
            }
            m.insert(
                "Principal".to_owned(),
                Value::Map(
                    by_kind
                        .into_iter()
                        .map(|(k, vs)| (k, one_or_many(vs)))
                        .collect(),
                ),
            );
        }
        if !self.conditions.is_empty() {
            m.insert(
                "Condition".to_owned(),
                Value::Map(
                    self.conditions
                        .iter()
                        .map(|(op, kv)| (op.clone(), Value::Map(kv.clone())))
                        .collect(),
                ),
            );
        }
        Value::Map(m)
    }
}

/// A policy document: version `2012-10-17` and its statements.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<PolicyStatement>,
}

impl PolicyDocument {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }
    /// A document with these statements.
    pub fn with(statements: impl IntoIterator<Item = PolicyStatement>) -> Self {
        let mut d = Self::new();
        statements.into_iter().for_each(|s| d.add(s));
        d
    }
    /// Adds a statement. A statement already present is not repeated, and one that differs from an existing
    /// statement only in its resources is merged into it, so repeated grants keep the policy small.
    pub fn add(&mut self, statement: PolicyStatement) {
        if let Some(existing) = self
            .statements
            .iter_mut()
            .find(|s| s.mergeable_with(&statement))
        {
            for r in statement.resources {
                if !existing.resources.contains(&r) {
                    existing.resources.push(r);
                }
            }
        } else if !self.statements.contains(&statement) {
            self.statements.push(statement);
        }
    }
    /// The statements.
    pub fn statements(&self) -> &[PolicyStatement] {
        &self.statements
    }
    /// Whether there are no statements.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }
    /// The document as a JSON property value.
    pub fn to_json(&self) -> Val<Json> {
        Val::from_raw(Value::map([
            ("Version", Value::from("2012-10-17")),
            (
                "Statement",
                Value::List(self.statements.iter().map(|s| s.to_value()).collect()),
            ),
        ]))
    }
}

/// A resource policy kept by a construct (a queue policy, a topic policy, a bucket policy): the document, and
/// the L1 policy resource once the first statement made it. Every added statement rewrites the L1's document, so
/// statements added after the policy was created still land in the template.
#[derive(Debug)]
pub(crate) struct ResourcePolicy<H> {
    document: PolicyDocument,
    handle: Option<H>,
}

impl<H: Clone> ResourcePolicy<H> {
    pub(crate) fn new() -> Self {
        ResourcePolicy {
            document: PolicyDocument::new(),
            handle: None,
        }
    }
    /// Adds `statement`; `create` makes the policy resource from the document the first time, `update` sets the
    /// document of the existing one afterwards.
    pub(crate) fn add(
        &mut self,
        statement: PolicyStatement,
        create: impl FnOnce(Val<Json>) -> H,
        update: impl FnOnce(&H, Val<Json>),
    ) {
        self.document.add(statement);
        let document = self.document.to_json();
        match &self.handle {
            Some(h) => update(h, document),
            None => self.handle = Some(create(document)),
        }
    }
    /// The policy resource, once a statement made it.
    pub(crate) fn handle(&self) -> Option<H> {
        self.handle.clone()
    }
}

/// Something grants can be given to: it has an IAM role whose policy grants append to.
///
/// [`Role`] implements it, and so does every construct that runs code under a role (a Lambda function), so that
/// `queue.grant_consume_messages(&function)` and `queue.grant_consume_messages(&role)` both work.
pub trait Grantable {
    /// The role that receives the grant.
    fn grant_role(&self) -> &Role;
}

impl Grantable for Role {
    fn grant_role(&self) -> &Role {
        self
    }
}

/// What a grant added (CDK's `iam.Grant`): the grantee's role, the statements added to its policy for the
/// resource, and those added for the customer-managed key the resource is encrypted with. Every `grant_*`
/// method returns one, so a caller can check (or a test assert) exactly what was granted.
///
/// ```
/// use cfnkit::constructs::iam::{Principal, Role, RoleProps};
/// use cfnkit::constructs::sqs::{Queue, QueueProps};
/// # fn main() -> Result<(), cfnkit::constructs::ConstructError> {
/// let app = cfnkit::App::new();
/// let scope = app.stack("Jobs").scope();
/// let queue = Queue::new(&scope, "Work", QueueProps::default())?;
/// let role = Role::new(&scope, "Worker", Principal::service("lambda.amazonaws.com"), RoleProps::default())?;
/// let grant = queue.grant_send_messages(&role);
/// assert_eq!(grant.statements()[0].action_names(), ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]);
/// assert!(grant.key_statements().is_empty()); // SQS-managed encryption: no key to grant
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Grant {
    grantee: Role,
    statements: Vec<PolicyStatement>,
    key_statements: Vec<PolicyStatement>,
}

impl Grant {
    /// Adds `statement` to the grantee's policy: the building block of every grant.
    pub fn add_to_principal_policy(
        grantee: &(impl Grantable + ?Sized),
        statement: PolicyStatement,
    ) -> Grant {
        let role = grantee.grant_role();
        role.add_to_policy(statement.clone());
        Grant {
            grantee: role.clone(),
            statements: vec![statement],
            key_statements: Vec::new(),
        }
    }
    /// A grant that added nothing.
    pub fn none(grantee: &(impl Grantable + ?Sized)) -> Grant {
        Grant {
            grantee: grantee.grant_role().clone(),
            statements: Vec::new(),
            key_statements: Vec::new(),
        }
    }
    /// This grant and `other` as one (CDK's `Grant.combine`): both sets of statements.
    pub fn and(mut self, other: Grant) -> Grant {
        self.statements.extend(other.statements);
        self.key_statements.extend(other.key_statements);
        self
    }
    /// This grant with what `key_grant` (a grant on the resource's key) added, as its key statements.
    pub fn with_key(mut self, key_grant: Option<Grant>) -> Grant {
        if let Some(k) = key_grant {
            self.key_statements.extend(k.statements);
            self.key_statements.extend(k.key_statements);
        }
        self
    }
    /// The role the statements were added to.
    pub fn grantee(&self) -> &Role {
        &self.grantee
    }
    /// The statements added to the grantee's policy for the resource itself.
    pub fn statements(&self) -> &[PolicyStatement] {
        &self.statements
    }
    /// The statements added to the grantee's policy for the customer-managed key the resource is encrypted
    /// with, on the key's behalf (empty when the resource has no such key).
    pub fn key_statements(&self) -> &[PolicyStatement] {
        &self.key_statements
    }
    /// Whether the grant added nothing at all.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.key_statements.is_empty()
    }
}

/// Props of a [`Role`].
#[derive(Clone, Debug, Default)]
pub struct RoleProps {
    /// What the role is for, shown in the console. Without it the role has no description.
    pub description: Option<String>,
    /// A fixed role name. Without it CloudFormation generates a unique name, which lets the stack be deployed
    /// twice in one account and lets the role be replaced.
    pub role_name: Option<Val<String>>,
    /// ARNs of managed policies to attach. Without any, the role has only the permissions granted to it.
    pub managed_policy_arns: Vec<Val<String>>,
    /// Longest session a principal can get by assuming the role (1 to 12 hours). Without it sessions last at
    /// most 1 hour.
    pub max_session_duration: Option<Duration>,
    /// The IAM path. Without it the role lives at `/`.
    pub path: Option<String>,
    /// The ARN of a permissions boundary. Without it the role's permissions are bounded only by its policies.
    pub permissions_boundary: Option<Val<String>>,
}

impl RoleProps {
    /// Every check of the props, before anything is built: the session duration, returned in seconds.
    fn validate(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        self.max_session_duration
            .map(|d| {
                seconds_in(
                    path,
                    "max_session_duration",
                    d,
                    Duration::from_secs(3_600),
                    Duration::from_secs(12 * 3_600),
                )
            })
            .transpose()
    }
}

/// The name of the inline policy that grants append to.
const GRANTS_POLICY_NAME: &str = "grants";

/// An IAM role assumed by a principal (usually an AWS service), whose inline policy collects the grants given to
/// it. A role with no statements has no inline policy at all.
///
/// The role is added at `<path>/Resource`, so its logical ID is the construct's id.
#[derive(Clone, Debug)]
pub struct Role {
    handle: l1::RoleHandle,
    policy: Rc<RefCell<PolicyDocument>>,
}

impl Role {
    /// A role that `assumed_by` may assume (`Principal::service("lambda.amazonaws.com")`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        assumed_by: Principal,
        props: RoleProps,
    ) -> Result<Role, ConstructError> {
        let scope = scope.as_scope().child(id);
        let max_session = props.validate(scope.path())?;
        let trust = PolicyDocument::with([PolicyStatement::allow()
            .actions(["sts:AssumeRole"])
            .principal(assumed_by)]);
        let role = l1::Role {
            assume_role_policy_document: Some(trust.to_json()),
            description: props.description.map(Val::from),
            managed_policy_arns: (!props.managed_policy_arns.is_empty())
                .then(|| Val::from(props.managed_policy_arns)),
            max_session_duration: max_session.map(Val::from),
            path: props.path.map(Val::from),
            permissions_boundary: props.permissions_boundary,
            role_name: props.role_name,
            ..Default::default()
        };
        Ok(Role {
            handle: scope.add("Resource", role),
            policy: Rc::default(),
        })
    }

    /// Adds a statement to the role's inline policy (creating the policy with the first statement).
    pub fn add_to_policy(&self, statement: PolicyStatement) {
        let mut doc = self.policy.borrow_mut();
        doc.add(statement);
        let policy = l1::role::Policy {
            policy_document: Some(doc.to_json()),
            policy_name: Some(GRANTS_POLICY_NAME.into()),
        };
        self.handle.resource_mut().policies = Some(Val::from(vec![policy]));
    }

    /// Allows `actions` on `resources`.
    pub fn grant<R: Into<Val<String>>>(
        &self,
        actions: &[&str],
        resources: impl IntoIterator<Item = R>,
    ) -> Grant {
        Grant::add_to_principal_policy(
            self,
            PolicyStatement::allow()
                .actions(actions)
                .resources(resources),
        )
    }

    /// Attaches a managed policy by ARN.
    pub fn add_managed_policy_arn(&self, arn: impl Into<Val<String>>) {
        self.handle
            .resource_mut()
            .managed_policy_arns
            .get_or_insert_with(Default::default)
            .push(arn);
    }

    /// The statements granted so far.
    pub fn policy_document(&self) -> PolicyDocument {
        self.policy.borrow().clone()
    }
    /// The role's ARN.
    pub fn role_arn(&self) -> Val<String> {
        self.handle.attr_arn()
    }
    /// The role's name.
    pub fn role_name(&self) -> Val<String> {
        self.handle.ref_()
    }
}

impl Construct for Role {
    type L1 = l1::Role;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::RoleHandle {
        &self.handle
    }
}

/// Props of a [`Policy`].
#[derive(Clone, Debug, Default)]
pub struct PolicyProps {
    /// The policy name. Without it the name is the construct's id.
    pub policy_name: Option<Val<String>>,
}

/// A standalone IAM policy (`AWS::IAM::Policy`) attached to roles: for statements shared by several roles.
/// Most code should use grants, which add to each role's own inline policy.
#[derive(Clone, Debug)]
pub struct Policy {
    handle: l1::PolicyHandle,
    document: Rc<RefCell<PolicyDocument>>,
}

impl Policy {
    /// A policy with this document, attached to these roles.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        document: PolicyDocument,
        roles: &[&Role],
        props: PolicyProps,
    ) -> Result<Policy, ConstructError> {
        let scope = scope.as_scope().child(id);
        if document.is_empty() {
            return Err(ConstructError::invalid(
                scope.path(),
                "a policy needs at least one statement: add statements to the document, or drop the policy",
            ));
        }
        let resource = l1::Policy {
            policy_document: Some(document.to_json()),
            policy_name: Some(props.policy_name.unwrap_or_else(|| Val::from(id))),
            roles: Some(Val::from(
                roles.iter().map(|r| r.role_name()).collect::<Vec<_>>(),
            )),
            ..Default::default()
        };
        let handle: l1::PolicyHandle = scope.add("Resource", resource);
        Ok(Policy {
            handle,
            document: Rc::new(RefCell::new(document)),
        })
    }

    /// Adds a statement.
    pub fn add_statement(&self, statement: PolicyStatement) {
        let mut doc = self.document.borrow_mut();
        doc.add(statement);
        self.handle.resource_mut().policy_document = Some(doc.to_json());
    }
}

impl Construct for Policy {
    type L1 = l1::Policy;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::PolicyHandle {
        &self.handle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_differing_only_in_resources_merge() {
        let mut d = PolicyDocument::new();
        d.add(
            PolicyStatement::allow()
                .actions(["kms:Decrypt"])
                .resource("a"),
        );
        d.add(
            PolicyStatement::allow()
                .actions(["kms:Decrypt"])
                .resource("b"),
        );
        d.add(
            PolicyStatement::allow()
                .actions(["kms:Decrypt"])
                .resource("a"),
        );
        assert_eq!(d.statements().len(), 1);
        assert_eq!(
            d.statements()[0].to_value(),
            Value::from(serde_json::json!({
                "Effect": "Allow", "Action": "kms:Decrypt", "Resource": ["a", "b"]
            }))
        );
    }
}
