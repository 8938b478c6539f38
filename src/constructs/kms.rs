//! KMS: [`Key`] (rotation on, a key policy that lets the account and the services using the key work, retained
//! on stack deletion) and [`Alias`].
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Data");
//! // Rotation on, retained; resources made with it grant its use along with their own.
//! let key = Key::new(&stack, "DataKey", KeyProps::default())?;
//! let jobs = Queue::new(&stack, "Jobs", QueueProps {
//!     encryption: cfnkit::constructs::sqs::QueueEncryption::Kms(&key),
//!     ..Default::default()
//! })?;
//! let worker = Role::new(&stack, "Worker", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! let grant = jobs.grant_consume_messages(&worker);
//! assert!(!grant.key_statements().is_empty(), "consuming also decrypts");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::kms as l1;

use super::iam::{Grant, Grantable, PolicyDocument, PolicyStatement, Principal};
use super::{
    actions, check_imported_arn, days_in, path_of, ArnResource, Construct, ConstructError,
};
use crate::AsScope;

/// Props of a [`Key`].
#[derive(Clone, Debug)]
pub struct KeyProps {
    /// What the key protects, shown in the console. Without it the key has no description.
    pub description: Option<String>,
    /// An alias (`alias/order-platform`) created for the key as `<id>Alias`. Without it the key has no alias.
    pub alias: Option<String>,
    /// Automatic yearly rotation of the key material. On unless turned off (KMS5 of cdk-nag, checkov CKV_AWS_7).
    pub enable_key_rotation: bool,
    /// How often the key material rotates (90 to 2560 days). Without it KMS rotates every 365 days.
    pub rotation_period: Option<Duration>,
    /// How long a deleted key stays recoverable (7 to 30 days). Without it a deleted key waits 30 days.
    pub pending_window: Option<Duration>,
    /// What happens to the key when it leaves the stack. Keys are retained unless told otherwise, because data
    /// encrypted with a deleted key is lost.
    pub removal_policy: RemovalPolicy,
}

impl Default for KeyProps {
    fn default() -> Self {
        KeyProps {
            description: None,
            alias: None,
            enable_key_rotation: true,
            rotation_period: None,
            pending_window: None,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// [`KeyProps`] as [`KeyProps::validate`] accepted them: periods in whole days.
struct CheckedKeyProps {
    pending_window: Option<i64>,
    rotation_period: Option<i64>,
}

impl KeyProps {
    /// Every check of the props, before anything is built: the periods, rotation, the alias.
    fn validate(&self, path: &str) -> Result<CheckedKeyProps, ConstructError> {
        let checked = CheckedKeyProps {
            pending_window: self
                .pending_window
                .map(|d| days_in(path, "pending_window", d, 7, 30))
                .transpose()?,
            rotation_period: self
                .rotation_period
                .map(|d| days_in(path, "rotation_period", d, 90, 2560))
                .transpose()?,
        };
        if checked.rotation_period.is_some() && !self.enable_key_rotation {
            return Err(ConstructError::conflict(
                path,
                "rotation_period is set but enable_key_rotation is false: turn rotation on or drop the period",
            ));
        }
        if let Some(alias) = &self.alias {
            check_alias_name(path, alias)?;
        }
        Ok(checked)
    }
}

/// A KMS key as grants see it: its ARN. A [`Key`] made here derefs to one; [`Key::from_arn`] makes one for a
/// key made elsewhere. Grants add statements to the grantee's policy and never touch the key policy, so they
/// work on both.
#[derive(Clone, Debug)]
pub struct KeyRef {
    key_arn: Val<String>,
}

impl KeyRef {
    /// Lets the grantee encrypt and decrypt with the key: `kms:Decrypt`, `kms:Encrypt`, `kms:GenerateDataKey`
    /// (no `kms:ReEncrypt*` or `kms:GenerateDataKey*` as AWS CDK grants: see [`actions`]).
    pub fn grant_encrypt_decrypt(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::KMS_ENCRYPT_DECRYPT)
    }
    /// Lets the grantee decrypt with the key: `kms:Decrypt`.
    pub fn grant_decrypt(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::KMS_DECRYPT)
    }
    /// Lets the grantee encrypt with the key: `kms:Encrypt` and `kms:GenerateDataKey`.
    pub fn grant_encrypt(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::KMS_ENCRYPT)
    }
    /// Lets the grantee perform `actions` on the key.
    pub fn grant(&self, grantee: &(impl Grantable + ?Sized), actions: &[&str]) -> Grant {
        grantee.grant_role().grant(actions, [self.key_arn()])
    }

    /// The key ARN (what other resources' `KmsMasterKeyId` and grants use).
    pub fn key_arn(&self) -> Val<String> {
        self.key_arn.clone()
    }
}

/// A customer-managed symmetric KMS key.
///
/// Its key policy gives the account root full control (so IAM policies, and so grants, decide who uses it) and
/// gets a statement per AWS service that must use the key to deliver into a resource encrypted with it
/// ([`Key::allow_service`]); the SQS, SNS and EventBridge constructs add those statements themselves.
#[derive(Clone, Debug)]
pub struct Key {
    reference: KeyRef,
    handle: l1::KeyHandle,
    policy: Rc<RefCell<PolicyDocument>>,
}

impl std::ops::Deref for Key {
    type Target = KeyRef;
    fn deref(&self) -> &KeyRef {
        &self.reference
    }
}

impl Key {
    /// A key made elsewhere (another app, the console), by ARN, to grant its use: grants add statements to the
    /// grantee's policy, which is enough when the key policy lets the account's IAM policies decide (the default
    /// key policy does). Nothing can be added to its key policy. A literal ARN is checked
    /// (`arn:<partition>:kms:<region>:<account>:key/<id>`).
    pub fn from_arn(id: &str, key_arn: impl Into<Val<String>>) -> Result<KeyRef, ConstructError> {
        let key_arn = key_arn.into();
        check_imported_arn(id, "key_arn", &key_arn, "kms", ArnResource::Slash("key"))?;
        Ok(KeyRef { key_arn })
    }

    /// A key with rotation on, the account root as administrator, and RETAIN removal.
    pub fn new(scope: &impl AsScope, id: &str, props: KeyProps) -> Result<Key, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path())?;
        let policy = PolicyDocument::with([PolicyStatement::allow()
            .actions(actions::KMS_ADMIN)
            .principal(Principal::AccountRoot)
            // A key policy can only name the key itself, as `*`.
            .resource("*")]);
        let key = l1::Key {
            description: props.description.map(Val::from),
            enable_key_rotation: Some(props.enable_key_rotation.into()),
            rotation_period_in_days: checked.rotation_period.map(Val::from),
            pending_window_in_days: checked.pending_window.map(Val::from),
            key_policy: Some(policy.to_json()),
            ..Default::default()
        };
        let handle: l1::KeyHandle = scope.add("Resource", key);
        handle.apply_removal_policy(props.removal_policy);
        let key = Key {
            reference: KeyRef {
                key_arn: handle.attr_arn(),
            },
            handle,
            policy: Rc::new(RefCell::new(policy)),
        };
        if let Some(alias) = props.alias {
            Alias::new(&scope, "Alias", &alias, &key)?;
        }
        Ok(key)
    }

    /// Adds a statement to the key policy.
    pub fn add_to_resource_policy(&self, statement: PolicyStatement) {
        let mut doc = self.policy.borrow_mut();
        doc.add(statement);
        self.handle.resource_mut().key_policy = Some(doc.to_json());
    }

    /// Lets an AWS service (`events.amazonaws.com`, `sns.amazonaws.com`) use the key to deliver into resources
    /// encrypted with it: `kms:Decrypt` and `kms:GenerateDataKey` (see [`actions::KMS_SERVICE_USE`] for the AWS
    /// pages this follows), only for requests on behalf of this account.
    /// Calling it twice for one service adds one statement.
    pub fn allow_service(&self, service: &str) {
        self.add_to_resource_policy(
            PolicyStatement::allow()
                .actions(actions::KMS_SERVICE_USE)
                .principal(Principal::service(service))
                .resource("*")
                .from_this_account(),
        );
    }

    /// Lets EventBridge encrypt the events of a bus with this key: what [`Key::allow_service`] gives any service,
    /// plus `kms:DescribeKey` ([`actions::KMS_EVENT_BUS_DESCRIBE`]), only for requests on behalf of this account.
    pub fn allow_event_bus_encryption(&self) {
        self.allow_service("events.amazonaws.com");
        self.add_to_resource_policy(
            PolicyStatement::allow()
                .actions(actions::KMS_EVENT_BUS_DESCRIBE)
                .principal(Principal::service("events.amazonaws.com"))
                .resource("*")
                .from_this_account(),
        );
    }

    /// Lets CloudWatch alarms publish to an SNS topic encrypted with this key.
    pub fn allow_cloudwatch_alarms_to_sns(&self) {
        self.allow_service("cloudwatch.amazonaws.com");
    }

    /// The key id.
    pub fn key_id(&self) -> Val<String> {
        self.handle.attr_key_id()
    }
    /// The key policy's statements so far.
    pub fn policy_document(&self) -> PolicyDocument {
        self.policy.borrow().clone()
    }
}

impl Construct for Key {
    type L1 = l1::Key;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::KeyHandle {
        &self.handle
    }
}

fn check_alias_name(path: &str, name: &str) -> Result<(), ConstructError> {
    let rest = name.strip_prefix("alias/");
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && r.len() <= 250
            && !r.starts_with("aws/")
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    });
    if ok {
        Ok(())
    } else {
        Err(ConstructError::invalid(
            path,
            format!(
                "alias must be `alias/` followed by letters, digits, `/`, `_` or `-` (and not `alias/aws/`, \
                 which AWS reserves), got {name:?}"
            ),
        ))
    }
}

/// A KMS alias pointing at a [`Key`].
#[derive(Clone, Debug)]
pub struct Alias {
    handle: l1::AliasHandle,
}

impl Alias {
    /// `alias/<name>` for `key`.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        alias_name: &str,
        key: &Key,
    ) -> Result<Alias, ConstructError> {
        let scope = scope.as_scope().child(id);
        check_alias_name(scope.path(), alias_name)?;
        let alias = l1::Alias {
            alias_name: Some(alias_name.into()),
            target_key_id: Some(key.key_arn()),
        };
        Ok(Alias {
            handle: scope.add("Resource", alias),
        })
    }
    /// The alias name.
    pub fn alias_name(&self) -> Val<String> {
        self.handle.ref_()
    }
}

impl Construct for Alias {
    type L1 = l1::Alias;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::AliasHandle {
        &self.handle
    }
}
