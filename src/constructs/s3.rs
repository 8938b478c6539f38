//! S3: [`Bucket`] (public access blocked, encrypted, versioned, TLS-only, access-logged, retained), its lifecycle
//! rules, event notifications to Lambda, and its grants.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Files");
//! // Public access blocked, encrypted, versioned, TLS-only, logging to a bucket of its own, retained.
//! let uploads = Bucket::new(&stack, "Uploads", BucketProps::default())?;
//! let resizer = Role::new(&stack, "Resizer", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! // Objects under a prefix only; the grant suppresses its own `<Bucket>/incoming/*` with the reason.
//! uploads.objects("incoming/").grant_read(&resizer);
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, Val, Value};
use cfnkit_l1::lambda as l1_lambda;
use cfnkit_l1::s3 as l1;
use l1::bucket as bl1;

use super::cloudwatch::{Metric, Statistic};
use super::iam::{Grant, Grantable, PolicyStatement, Principal, ResourcePolicy};
use super::kms::{Key, KeyRef};
use super::{
    actions, check_imported_arn, days_in, imported_name, ArnResource, Construct, ConstructError,
    LambdaTarget, OwnScope,
};
use crate::rules::IAM5;
use crate::{fns, AsScope};

/// The service that delivers server access logs into a log bucket.
const LOG_DELIVERY_SERVICE: &str = "logging.s3.amazonaws.com";

/// How a bucket's objects are encrypted at rest.
#[derive(Clone, Copy, Debug, Default)]
pub enum BucketEncryption<'a> {
    /// S3-managed keys (SSE-S3): no key to manage, no KMS cost, and the only encryption S3 server access log
    /// delivery can write into.
    #[default]
    S3Managed,
    /// A customer-managed KMS key (SSE-KMS) with an S3 bucket key, which cuts the KMS requests (and their cost)
    /// by reusing a bucket-level data key. Grants on the bucket then also grant the key.
    Kms(&'a Key),
}

/// Where a bucket's server access logs go (cdk-nag S1, checkov CKV_AWS_18).
#[derive(Clone, Debug, Default)]
pub enum ServerAccessLogs<'a> {
    /// A log bucket is created for this bucket at `<id>/AccessLogs` (logical ID `<Id>AccessLogs`): S3-managed
    /// encryption, versioned, public access blocked, TLS-only, retained like this bucket, and a bucket policy
    /// that lets `logging.s3.amazonaws.com` write this bucket's logs only.
    #[default]
    CreateBucket,
    /// Logs go to an existing log bucket (under `prefix` when given), whose bucket policy gets the statement
    /// letting S3 deliver this bucket's logs. The log bucket must use S3-managed encryption, the only one log
    /// delivery supports. Several buckets can share one log bucket this way.
    ToBucket {
        /// The log bucket.
        bucket: &'a Bucket,
        /// The key prefix of this bucket's logs in it.
        prefix: Option<String>,
    },
    /// No access logs. Meant for log buckets themselves (a bucket that receives other buckets' logs should not
    /// log its own log deliveries); anywhere else cdk-nag S1 and checkov CKV_AWS_18 report it.
    Off,
}

/// The storage class a lifecycle transition moves objects to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageClass {
    /// S3 Standard-IA (`STANDARD_IA`): at least 30 days after creation.
    InfrequentAccess,
    /// S3 One Zone-IA (`ONEZONE_IA`): at least 30 days after creation.
    OneZoneInfrequentAccess,
    /// S3 Intelligent-Tiering (`INTELLIGENT_TIERING`).
    IntelligentTiering,
    /// S3 Glacier Instant Retrieval (`GLACIER_IR`).
    GlacierInstantRetrieval,
    /// S3 Glacier Flexible Retrieval (`GLACIER`).
    Glacier,
    /// S3 Glacier Deep Archive (`DEEP_ARCHIVE`).
    DeepArchive,
}

impl StorageClass {
    fn to_l1(self) -> bl1::StorageClass {
        match self {
            StorageClass::InfrequentAccess => bl1::StorageClass::StandardIa,
            StorageClass::OneZoneInfrequentAccess => bl1::StorageClass::OnezoneIa,
            StorageClass::IntelligentTiering => bl1::StorageClass::IntelligentTiering,
            StorageClass::GlacierInstantRetrieval => bl1::StorageClass::GlacierIr,
            StorageClass::Glacier => bl1::StorageClass::Glacier,
            StorageClass::DeepArchive => bl1::StorageClass::DeepArchive,
        }
    }
    /// The fewest days after which S3 accepts a transition of current objects to this class.
    fn min_days(self) -> u64 {
        match self {
            StorageClass::InfrequentAccess | StorageClass::OneZoneInfrequentAccess => 30,
            _ => 0,
        }
    }
}

/// A lifecycle transition: objects move to `storage_class` once they are `after` old (whole days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The storage class objects move to.
    pub storage_class: StorageClass,
    /// Their age when they move (rounded to whole days).
    pub after: Duration,
}

/// A lifecycle rule. At least one action (a transition, an expiration, or aborting incomplete uploads) is
/// needed; every duration is a whole number of days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleRule {
    /// The rule id shown in the console. Without it S3 generates one.
    pub id: Option<String>,
    /// Apply the rule to keys starting with this prefix only. Without it the rule applies to every object.
    pub prefix: Option<String>,
    /// Whether the rule is enabled. On unless turned off.
    pub enabled: bool,
    /// Transitions of current objects to cheaper storage classes. Without any objects stay where they are.
    pub transitions: Vec<Transition>,
    /// Delete current objects (in a versioned bucket: make them noncurrent) this long after creation. Without
    /// it objects never expire.
    pub expiration: Option<Duration>,
    /// Transitions of noncurrent versions, counted from when they became noncurrent (versioned buckets).
    pub noncurrent_version_transitions: Vec<Transition>,
    /// Delete noncurrent versions this long after they became noncurrent (versioned buckets). Without it old
    /// versions are kept forever.
    pub noncurrent_version_expiration: Option<Duration>,
    /// Abort multipart uploads not completed this long after they started (their parts are billed until then).
    /// Without it incomplete uploads are kept.
    pub abort_incomplete_multipart_upload_after: Option<Duration>,
}

impl Default for LifecycleRule {
    fn default() -> Self {
        LifecycleRule {
            id: None,
            prefix: None,
            enabled: true,
            transitions: Vec::new(),
            expiration: None,
            noncurrent_version_transitions: Vec::new(),
            noncurrent_version_expiration: None,
            abort_incomplete_multipart_upload_after: None,
        }
    }
}

/// Props of a [`Bucket`].
#[derive(Clone, Debug)]
pub struct BucketProps<'a> {
    /// A fixed bucket name (globally unique: 3 to 63 lowercase letters, digits, `.` and `-`), or a parameter's
    /// `Ref`. Without it CloudFormation generates a unique name; a bucket that notifies a function which it also
    /// grants access to needs a name (see [`Bucket::add_event_notification`]).
    pub bucket_name: Option<Val<String>>,
    /// Encryption at rest. Without it objects are encrypted with S3-managed keys.
    pub encryption: BucketEncryption<'a>,
    /// Keep every version of every object, so an overwrite or delete can be undone (checkov CKV_AWS_21). On
    /// unless turned off; pair it with a lifecycle rule expiring noncurrent versions to bound the cost.
    pub versioned: bool,
    /// Lifecycle rules. Without any objects are kept in S3 Standard until deleted.
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// A bucket policy denying every request not made over TLS (cdk-nag S10). On unless turned off.
    pub enforce_ssl: bool,
    /// Server access logs. Without it a log bucket is created for this bucket (`<Id>AccessLogs`).
    pub server_access_logs: ServerAccessLogs<'a>,
    /// Send every object event to the account's default EventBridge bus. Without it S3 sends no events to
    /// EventBridge.
    pub event_bridge_enabled: bool,
    /// What happens to the bucket when it leaves the stack. Without it the bucket (and the log bucket made for
    /// it) is retained: it holds data, and CloudFormation cannot delete a bucket that still has objects.
    pub removal_policy: RemovalPolicy,
}

impl Default for BucketProps<'_> {
    fn default() -> Self {
        BucketProps {
            bucket_name: None,
            encryption: BucketEncryption::S3Managed,
            versioned: true,
            lifecycle_rules: Vec::new(),
            enforce_ssl: true,
            server_access_logs: ServerAccessLogs::CreateBucket,
            event_bridge_enabled: false,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// The object events a notification can be sent for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Any object creation (`s3:ObjectCreated:*`).
    ObjectCreated,
    /// `s3:ObjectCreated:Put`.
    ObjectCreatedPut,
    /// `s3:ObjectCreated:Post`.
    ObjectCreatedPost,
    /// `s3:ObjectCreated:Copy`.
    ObjectCreatedCopy,
    /// `s3:ObjectCreated:CompleteMultipartUpload`.
    ObjectCreatedCompleteMultipartUpload,
    /// Any object removal (`s3:ObjectRemoved:*`).
    ObjectRemoved,
    /// `s3:ObjectRemoved:Delete`: an object or version deleted for good.
    ObjectRemovedDelete,
    /// `s3:ObjectRemoved:DeleteMarkerCreated`: a delete in a versioned bucket.
    ObjectRemovedDeleteMarkerCreated,
    /// `s3:ObjectRestore:Completed`: a restore from an archive storage class finished.
    ObjectRestoreCompleted,
    /// `s3:LifecycleExpiration:*`: lifecycle rules expired an object.
    LifecycleExpiration,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::ObjectCreated => "s3:ObjectCreated:*",
            EventType::ObjectCreatedPut => "s3:ObjectCreated:Put",
            EventType::ObjectCreatedPost => "s3:ObjectCreated:Post",
            EventType::ObjectCreatedCopy => "s3:ObjectCreated:Copy",
            EventType::ObjectCreatedCompleteMultipartUpload => {
                "s3:ObjectCreated:CompleteMultipartUpload"
            }
            EventType::ObjectRemoved => "s3:ObjectRemoved:*",
            EventType::ObjectRemovedDelete => "s3:ObjectRemoved:Delete",
            EventType::ObjectRemovedDeleteMarkerCreated => "s3:ObjectRemoved:DeleteMarkerCreated",
            EventType::ObjectRestoreCompleted => "s3:ObjectRestore:Completed",
            EventType::LifecycleExpiration => "s3:LifecycleExpiration:*",
        }
    }
}

/// Which object keys a notification is sent for. Without a prefix or suffix, every key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// Keys starting with this (`uploads/`).
    pub prefix: Option<String>,
    /// Keys ending with this (`.csv`).
    pub suffix: Option<String>,
}

#[derive(Debug)]
struct BucketState {
    policy: ResourcePolicy<l1::BucketPolicyHandle>,
    event_bridge: bool,
    lambda_notifications: Vec<bl1::LambdaConfiguration>,
    /// Invoke permissions made for notifications, by the target id of the function.
    permissions: BTreeMap<String, l1_lambda::PermissionHandle>,
    /// Whether the checkov skip of CKV_AWS_18 has been written (log buckets that do not log themselves).
    log_target_noted: bool,
}

/// An S3 bucket with the defaults a data bucket should have: all four public access blocks, ACLs disabled
/// (`BucketOwnerEnforced`), encryption at rest, versioning, a TLS-only bucket policy, server access logs to a
/// log bucket, and RETAIN on stack deletion.
#[derive(Clone, Debug)]
pub struct Bucket {
    reference: BucketRef,
    scope: OwnScope,
    handle: l1::BucketHandle,
    access_logs: Option<Box<Bucket>>,
    logs_itself: bool,
    state: Rc<RefCell<BucketState>>,
}

/// A bucket as grants and metrics see it: its ARN and name, and its customer-managed key. A [`Bucket`] made here
/// derefs to one; [`Bucket::from_name`], [`Bucket::from_arn`] and [`Bucket::from_attributes`] make one for a
/// bucket made elsewhere.
#[derive(Clone, Debug)]
pub struct BucketRef {
    bucket_arn: Val<String>,
    bucket_name: Val<String>,
    /// The name given when the bucket was made (or imported): grants then name the bucket by an ARN made from
    /// it, not by a reference to the bucket resource.
    fixed_name: Option<Val<String>>,
    key: Option<KeyRef>,
}

impl BucketRef {
    /// Lets the grantee read objects and list the bucket (and decrypt with the bucket's customer-managed key).
    pub fn grant_read(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.objects("").grant_read(grantee)
    }
    /// Lets the grantee put and delete objects (and use the bucket's customer-managed key to write).
    pub fn grant_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.objects("").grant_write(grantee)
    }
    /// Both [`BucketRef::grant_read`] and [`BucketRef::grant_write`].
    pub fn grant_read_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.objects("").grant_read_write(grantee)
    }
    /// Lets the grantee put objects (not read or delete them).
    pub fn grant_put(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.objects("").grant_put(grantee)
    }
    /// Lets the grantee delete objects.
    pub fn grant_delete(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.objects("").grant_delete(grantee)
    }
    /// The objects whose keys start with `key_prefix`, to grant access to a part of the bucket only:
    /// `bucket.objects("exports/").grant_read(&function)`.
    ///
    /// On a bucket with a `bucket_name`, grants name the bucket by an ARN made from that name rather than by a
    /// reference to the bucket resource, so that a function the bucket notifies can also be granted access to
    /// it without a dependency cycle (see [`Bucket::add_event_notification`]).
    pub fn objects(&self, key_prefix: &str) -> Objects<'_> {
        let pattern = format!("{key_prefix}*");
        let (bucket_arn, objects_arn) = match &self.fixed_name {
            Some(name) => (
                arn_from_name(name, ""),
                arn_from_name(name, &format!("/{pattern}")),
            ),
            None => (self.bucket_arn(), self.arn_for_objects(&pattern)),
        };
        Objects {
            bucket: self,
            bucket_arn,
            objects_arn,
        }
    }
    /// A metric of the bucket (`AWS/S3`, dimension `BucketName`).
    pub fn metric(&self, metric_name: &str) -> Metric {
        Metric::new("AWS/S3", metric_name).dimension("BucketName", self.bucket_name())
    }
    /// `BucketSizeBytes` of objects in S3 Standard (daily, average over one day): how much the bucket holds.
    pub fn metric_bucket_size_bytes(&self) -> Metric {
        self.metric("BucketSizeBytes")
            .dimension("StorageType", "StandardStorage")
            .period(Duration::from_secs(86_400))
    }
    /// `NumberOfObjects` (daily, average over one day), every storage class.
    pub fn metric_number_of_objects(&self) -> Metric {
        self.metric("NumberOfObjects")
            .dimension("StorageType", "AllStorageTypes")
            .period(Duration::from_secs(86_400))
            .statistic(Statistic::Average)
    }
    /// The bucket name (`Ref`).
    pub fn bucket_name(&self) -> Val<String> {
        self.bucket_name.clone()
    }
    /// The bucket ARN.
    pub fn bucket_arn(&self) -> Val<String> {
        self.bucket_arn.clone()
    }
    /// The ARN of the objects matching `key_pattern` (`*`, `exports/*`): `<bucket ARN>/<key_pattern>`.
    pub fn arn_for_objects(&self, key_pattern: &str) -> Val<String> {
        // `Fn::Sub` rather than `Fn::Join` with an empty delimiter (cfn-lint I1022), with a variable named
        // `Bucket` whatever the bucket's logical ID, so the rule pack's item for it (`<Bucket>/<pattern>`) is known
        // when the grant writes its suppression; `${` in a key is escaped.
        match self.bucket_arn.raw() {
            Value::String(arn) => Val::from(format!("{arn}/{key_pattern}")),
            _ => fns::sub_with(
                format!("${{Bucket}}/{}", key_pattern.replace("${", "${!")),
                [("Bucket", self.bucket_arn())],
            ),
        }
    }
    /// The customer-managed key, when the bucket uses one.
    pub fn encryption_key(&self) -> Option<&KeyRef> {
        self.key.as_ref()
    }
}

/// What [`Bucket::from_attributes`] needs to know of a bucket made elsewhere.
#[derive(Clone, Debug)]
pub struct BucketAttributes<'a> {
    /// The bucket name (a literal one is checked against S3's naming rules).
    pub bucket_name: Val<String>,
    /// The customer-managed key the bucket is encrypted with, so grants also grant its use. Without it grants
    /// name the bucket only (right for SSE-S3).
    pub encryption_key: Option<&'a KeyRef>,
}

impl std::ops::Deref for Bucket {
    type Target = BucketRef;
    fn deref(&self) -> &BucketRef {
        &self.reference
    }
}

impl Bucket {
    /// A bucket made elsewhere, by name (SSE-S3): grants add statements to the grantee naming it by an ARN made
    /// from the name; nothing can be added to its bucket policy or notifications.
    pub fn from_name(
        id: &str,
        bucket_name: impl Into<Val<String>>,
    ) -> Result<BucketRef, ConstructError> {
        Bucket::from_attributes(
            id,
            BucketAttributes {
                bucket_name: bucket_name.into(),
                encryption_key: None,
            },
        )
    }

    /// A bucket made elsewhere, by ARN (`arn:<partition>:s3:::<name>`; a literal one is checked).
    pub fn from_arn(
        id: &str,
        bucket_arn: impl Into<Val<String>>,
    ) -> Result<BucketRef, ConstructError> {
        let arn = bucket_arn.into();
        check_imported_arn(id, "bucket_arn", &arn, "s3", ArnResource::Name)?;
        Bucket::from_name(id, imported_name(&arn, ArnResource::Name))
    }

    /// A bucket made elsewhere, with its customer-managed key: grants also grant the key usage they need.
    pub fn from_attributes(
        id: &str,
        attributes: BucketAttributes<'_>,
    ) -> Result<BucketRef, ConstructError> {
        let name = attributes.bucket_name;
        if let Value::String(literal) = name.raw() {
            check_bucket_name(id, literal)?;
        }
        Ok(BucketRef {
            bucket_arn: arn_from_name(&name, ""),
            bucket_name: name.clone(),
            fixed_name: Some(name),
            key: attributes.encryption_key.cloned(),
        })
    }

    /// A bucket at `<scope>/<id>` (logical ID `<Id>`).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: BucketProps<'_>,
    ) -> Result<Bucket, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path())?;
        let key = match props.encryption {
            BucketEncryption::S3Managed => None,
            BucketEncryption::Kms(k) => Some(k.clone()),
        };
        // The log bucket comes first: this bucket's LoggingConfiguration names it.
        let (log_bucket, log_prefix) = match &props.server_access_logs {
            ServerAccessLogs::Off => (None, None),
            ServerAccessLogs::CreateBucket => {
                let logs = Bucket::new(
                    &scope,
                    "AccessLogs",
                    BucketProps {
                        server_access_logs: ServerAccessLogs::Off,
                        removal_policy: props.removal_policy,
                        ..Default::default()
                    },
                )?;
                (Some(logs), None)
            }
            ServerAccessLogs::ToBucket { bucket, prefix } => {
                (Some((*bucket).clone()), prefix.clone())
            }
        };
        let rules: Vec<bl1::Rule> = props
            .lifecycle_rules
            .iter()
            .zip(checked.lifecycle_rules)
            .map(|(rule, days)| rule.to_l1(days))
            .collect();

        let bucket = l1::Bucket {
            bucket_name: props.bucket_name.clone(),
            bucket_encryption: Some(Val::from(encryption(key.as_ref()))),
            public_access_block_configuration: Some(Val::from(
                bl1::PublicAccessBlockConfiguration {
                    block_public_acls: Some(true.into()),
                    block_public_policy: Some(true.into()),
                    ignore_public_acls: Some(true.into()),
                    restrict_public_buckets: Some(true.into()),
                },
            )),
            ownership_controls: Some(Val::from(bl1::OwnershipControls {
                rules: Some(Val::from(vec![bl1::OwnershipControlsRule {
                    object_ownership: Some(bl1::ObjectOwnership::BucketOwnerEnforced.into()),
                }])),
            })),
            versioning_configuration: props.versioned.then(|| {
                Val::from(bl1::VersioningConfiguration {
                    status: Some(bl1::AccelerationStatus::Enabled.into()),
                })
            }),
            lifecycle_configuration: (!rules.is_empty()).then(|| {
                Val::from(bl1::LifecycleConfiguration {
                    rules: Some(Val::from(rules)),
                    ..Default::default()
                })
            }),
            logging_configuration: log_bucket.as_ref().map(|logs| {
                Val::from(bl1::LoggingConfiguration {
                    destination_bucket_name: Some(logs.bucket_name()),
                    log_file_prefix: log_prefix.clone().map(Val::from),
                    ..Default::default()
                })
            }),
            ..Default::default()
        };
        let handle: l1::BucketHandle = scope.add("Resource", bucket);
        handle.apply_removal_policy(props.removal_policy);
        let bucket = Bucket {
            reference: BucketRef {
                bucket_arn: handle.attr_arn(),
                bucket_name: handle.ref_(),
                fixed_name: props.bucket_name,
                key: key.as_deref().cloned(),
            },
            scope: OwnScope(scope),
            handle,
            logs_itself: log_bucket.is_some(),
            access_logs: log_bucket.map(Box::new),
            state: Rc::new(RefCell::new(BucketState {
                policy: ResourcePolicy::new(),
                event_bridge: props.event_bridge_enabled,
                lambda_notifications: Vec::new(),
                permissions: BTreeMap::new(),
                log_target_noted: false,
            })),
        };
        bucket.write_notifications();
        if props.enforce_ssl {
            bucket.add_to_resource_policy(PolicyStatement::deny_insecure_transport(
                actions::S3_ALL,
                [bucket.bucket_arn(), bucket.arn_for_objects("*")],
            ));
        }
        if let Some(logs) = &bucket.access_logs {
            logs.allow_access_log_delivery(&bucket, log_prefix.as_deref().unwrap_or(""));
        }
        Ok(bucket)
    }

    /// Adds a statement to the bucket policy (`<Id>Policy`, created with the first statement).
    pub fn add_to_resource_policy(&self, statement: PolicyStatement) {
        self.state.borrow_mut().policy.add(
            statement,
            |document| {
                let policy = l1::BucketPolicy {
                    bucket: Some(self.bucket_name()),
                    policy_document: Some(document),
                };
                self.scope.add("Policy", policy)
            },
            |h, document| h.resource_mut().policy_document = Some(document),
        );
    }

    /// Lets S3 log delivery write `source`'s server access logs under `prefix` of this bucket, and, when this
    /// bucket keeps no access logs of its own, records in its metadata why checkov's CKV_AWS_18 does not apply.
    ///
    /// A source bucket in another stack is named by its literal name's ARN, or not at all (the account
    /// condition remains): referring to it would make the log bucket's stack import from the source's stack,
    /// which already imports the log bucket's name, and synth would refuse the cycle.
    fn allow_access_log_delivery(&self, source: &Bucket, prefix: &str) {
        let same_stack = self.scope.stack().name() == source.scope.stack().name();
        let source_arn = match &source.fixed_name {
            _ if same_stack => Some(source.bucket_arn()),
            Some(name) if matches!(name.raw(), Value::String(_)) => Some(arn_from_name(name, "")),
            _ => None,
        };
        let mut statement = PolicyStatement::allow()
            .actions(actions::S3_LOG_DELIVERY)
            .principal(Principal::service(LOG_DELIVERY_SERVICE))
            .resource(self.arn_for_objects(&format!("{prefix}*")))
            .from_this_account();
        if let Some(arn) = source_arn {
            statement = statement.condition("ArnLike", "aws:SourceArn", arn);
        }
        self.add_to_resource_policy(statement);
        let mut state = self.state.borrow_mut();
        if !self.logs_itself && !state.log_target_noted {
            state.log_target_noted = true;
            crate::rules::skip_checkov(
                &self.handle,
                "CKV_AWS_18",
                "This bucket receives server access logs of other buckets; logging it would log its own log \
                 deliveries, as AWS advises against.",
            );
        }
    }

    /// Invokes `function` for `event` on keys matching `filter`: a `LambdaConfiguration` in the bucket's
    /// `NotificationConfiguration`, and the function's invoke permission for S3 (`<id>/<Function>Permission`,
    /// one per function) that the bucket depends on, because S3 checks it can invoke the function when the
    /// configuration is saved.
    ///
    /// The permission names this bucket by ARN when the bucket has a `bucket_name`; without one it names the
    /// account (`SourceAccount`) only, because naming the bucket's generated ARN would make the permission
    /// and the bucket depend on each other. Give the bucket a name to scope the permission to it.
    ///
    /// **A function that is notified and also granted access** (the usual case: it reads the new object) needs
    /// a bucket with a `bucket_name`. The bucket refers to the function, so the function's role must not refer
    /// to the bucket: grants on a named bucket use an ARN made from the name and avoid that; grants on an
    /// unnamed bucket refer to it, and CloudFormation rejects the cycle (cfn-lint reports it as E3004).
    pub fn add_event_notification(
        &self,
        event: EventType,
        function: &(impl LambdaTarget + ?Sized),
        filter: KeyFilter,
    ) -> Result<(), ConstructError> {
        let mut rules = Vec::new();
        for (name, value) in [("prefix", &filter.prefix), ("suffix", &filter.suffix)] {
            match value {
                Some(v) if v.is_empty() || v.len() > 1024 => {
                    return Err(ConstructError::invalid(
                        self.path(),
                        format!(
                            "a notification key {name} must be 1 to 1024 characters, got {v:?}"
                        ),
                    ))
                }
                Some(v) => rules.push(bl1::FilterRule {
                    name: Some(name.into()),
                    value: Some(v.as_str().into()),
                }),
                None => {}
            }
        }
        let target = function.target_id();
        if !self.state.borrow().permissions.contains_key(&target) {
            let permission: l1_lambda::PermissionHandle = self.scope.add(
                &format!("{target}Permission"),
                l1_lambda::Permission {
                    action: Some(actions::LAMBDA_INVOKE[0].into()),
                    function_name: Some(function.function_arn()),
                    principal: Some("s3.amazonaws.com".into()),
                    source_account: Some(fns::account_id()),
                    source_arn: self.fixed_name.as_ref().map(|name| arn_from_name(name, "")),
                    ..Default::default()
                },
            );
            self.handle.add_depends_on(&permission);
            self.state
                .borrow_mut()
                .permissions
                .insert(target, permission);
        }
        self.state
            .borrow_mut()
            .lambda_notifications
            .push(bl1::LambdaConfiguration {
                event: Some(event.as_str().into()),
                function: Some(function.function_arn()),
                filter: (!rules.is_empty()).then(|| {
                    Val::from(bl1::NotificationFilter {
                        s3_key: Some(Val::from(bl1::S3KeyFilter {
                            rules: Some(Val::from(rules)),
                        })),
                    })
                }),
            });
        self.write_notifications();
        Ok(())
    }

    /// Rewrites `NotificationConfiguration` from the state (nothing when there is nothing to notify).
    fn write_notifications(&self) {
        let state = self.state.borrow();
        let config = (state.event_bridge || !state.lambda_notifications.is_empty()).then(|| {
            Val::from(bl1::NotificationConfiguration {
                event_bridge_configuration: state.event_bridge.then(|| {
                    Val::from(bl1::EventBridgeConfiguration {
                        event_bridge_enabled: Some(true.into()),
                    })
                }),
                lambda_configurations: (!state.lambda_notifications.is_empty())
                    .then(|| Val::from(state.lambda_notifications.clone())),
                ..Default::default()
            })
        });
        self.handle.resource_mut().notification_configuration = config;
    }

    /// The bucket's regional domain name (`<name>.s3.<region>.amazonaws.com`).
    pub fn bucket_regional_domain_name(&self) -> Val<String> {
        self.handle.attr_regional_domain_name()
    }
    /// The bucket the server access logs go to, when they are on.
    pub fn access_logs_bucket(&self) -> Option<&Bucket> {
        self.access_logs.as_deref()
    }
    /// The bucket policy, once it exists (it does by default: the TLS-only statement).
    pub fn policy(&self) -> Option<l1::BucketPolicyHandle> {
        self.state.borrow().policy.handle()
    }
}

impl Construct for Bucket {
    type L1 = l1::Bucket;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::BucketHandle {
        &self.handle
    }
}

/// [`BucketProps`] as [`BucketProps::validate`] accepted them.
struct CheckedBucketProps {
    /// The whole days of each lifecycle rule, in order.
    lifecycle_rules: Vec<LifecycleDays>,
}

impl BucketProps<'_> {
    /// Every check of the props, before anything is built: the bucket name, each lifecycle rule, and the log
    /// bucket logs are sent to.
    fn validate(&self, path: &str) -> Result<CheckedBucketProps, ConstructError> {
        if let Some(Value::String(name)) = self.bucket_name.as_ref().map(|n| n.raw()) {
            check_bucket_name(path, name)?;
        }
        let lifecycle_rules = self
            .lifecycle_rules
            .iter()
            .enumerate()
            .map(|(i, r)| r.validate(path, i, self.versioned))
            .collect::<Result<Vec<_>, _>>()?;
        if let ServerAccessLogs::ToBucket { bucket, prefix } = &self.server_access_logs {
            if bucket.key.is_some() {
                return Err(ConstructError::conflict(
                    path,
                    format!(
                        "server access logs cannot be delivered to {}, which is encrypted with a KMS key: S3 \
                         log delivery writes only to buckets with S3-managed encryption \
                         (BucketEncryption::S3Managed)",
                        bucket.path()
                    ),
                ));
            }
            if let Some(p) = prefix {
                if p.contains("${") {
                    return Err(ConstructError::invalid(
                        path,
                        format!("the access log prefix must not contain `${{`, got {p:?}"),
                    ));
                }
            }
        }
        Ok(CheckedBucketProps { lifecycle_rules })
    }
}

/// A part of a bucket (the objects under a key prefix), to grant access to: [`BucketRef::objects`].
///
/// Object actions are granted on `<bucket ARN>/<prefix>*`; listing is granted on the bucket ARN (S3 lists at
/// bucket level), and key usage on the bucket's customer-managed key when it has one.
#[derive(Clone, Debug)]
pub struct Objects<'a> {
    bucket: &'a BucketRef,
    bucket_arn: Val<String>,
    objects_arn: Val<String>,
}

impl Objects<'_> {
    /// Lets the grantee read these objects and list the bucket (and decrypt with the bucket's key).
    pub fn grant_read(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        let role = grantee.grant_role();
        role.grant(actions::S3_READ_BUCKET, [self.bucket_arn.clone()])
            .and(self.grant_objects(grantee, actions::S3_READ_OBJECTS))
            .with_key(self.grant_key(grantee, actions::S3_KMS_READ))
    }
    /// Lets the grantee put and delete these objects (and encrypt with the bucket's key).
    pub fn grant_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant_put(grantee).and(self.grant_delete(grantee))
    }
    /// Both [`Objects::grant_read`] and [`Objects::grant_write`].
    pub fn grant_read_write(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant_read(grantee).and(self.grant_write(grantee))
    }
    /// Lets the grantee put these objects (and encrypt with the bucket's key).
    pub fn grant_put(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant_objects(grantee, actions::S3_PUT)
            .with_key(self.grant_key(grantee, actions::S3_KMS_WRITE))
    }
    /// Lets the grantee delete these objects (deleting needs no key).
    pub fn grant_delete(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant_objects(grantee, actions::S3_DELETE)
    }
    /// `object_actions` on these objects. Object ARNs name keys, so they end in `*`: the grantee's role gets an
    /// IAM5 suppression of exactly that item with its reason, since the wildcard is this grant's.
    fn grant_objects(&self, grantee: &(impl Grantable + ?Sized), object_actions: &[&str]) -> Grant {
        let role = grantee.grant_role();
        let grant = role.grant(object_actions, [self.objects_arn.clone()]);
        let item = format!("Resource::{}", item_of(&self.objects_arn));
        crate::rules::suppress_only(role.handle(), &IAM5, &[&item], OBJECTS_IAM5);
        grant
    }
    fn grant_key(
        &self,
        grantee: &(impl Grantable + ?Sized),
        key_actions: &[&str],
    ) -> Option<Grant> {
        self.bucket
            .key
            .as_ref()
            .map(|key| key.grant(grantee, key_actions))
    }
}

/// Why object grants have `<bucket ARN>/<prefix>*` (cdk-nag IAM5).
const OBJECTS_IAM5: &str =
    "object ARNs name keys, so an object grant ends in `*`: the objects of that one bucket \
     under the granted key prefix (all of them for a grant on the whole bucket)";

/// How the rule pack names an ARN this module writes, in a finding's items: a literal as it is, an `Fn::Sub`
/// template with each `${X}` written `<X>` (cdk-nag's notation).
fn item_of(arn: &Val<String>) -> String {
    match arn.raw() {
        Value::String(s) => s.clone(),
        Value::Fn(f) => match &**f {
            cfnkit_core::Intrinsic::Sub { template, .. } => crate::rules::angle_variables(template),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// `arn:<partition>:s3:::<name><suffix>` without a reference to the bucket resource. `${` in a literal is
/// escaped for `Fn::Sub`.
fn arn_from_name(name: &Val<String>, suffix: &str) -> Val<String> {
    let suffix = suffix.replace("${", "${!");
    match name.raw() {
        Value::String(literal) => fns::sub(format!(
            "arn:${{AWS::Partition}}:s3:::{}{suffix}",
            literal.replace("${", "${!")
        )),
        _ => fns::sub_with(
            format!("arn:${{AWS::Partition}}:s3:::${{Name}}{suffix}"),
            [("Name", name.clone())],
        ),
    }
}

/// SSE-KMS with a bucket key when there is a customer-managed `key`, SSE-S3 otherwise.
fn encryption(key: Option<&Key>) -> bl1::BucketEncryption {
    bl1::BucketEncryption {
        server_side_encryption_configuration: Some(Val::from(vec![
            bl1::ServerSideEncryptionRule {
                server_side_encryption_by_default: Some(Val::from(
                    bl1::ServerSideEncryptionByDefault {
                        sse_algorithm: Some(
                            if key.is_some() {
                                bl1::SseAlgorithm::AwsKms
                            } else {
                                bl1::SseAlgorithm::Aes256
                            }
                            .into(),
                        ),
                        kms_master_key_id: key.map(|k| k.key_arn()),
                    },
                )),
                bucket_key_enabled: key.is_some().then(|| true.into()),
                ..Default::default()
            },
        ])),
    }
}

/// S3's bucket naming rules, for a literal name: a message naming the name and the rule it breaks.
fn check_bucket_name(path: &str, name: &str) -> Result<(), ConstructError> {
    let bad = |why: &str| {
        Err(ConstructError::invalid(
            path,
            format!("bucket_name {name:?} is not a valid S3 bucket name: {why}"),
        ))
    };
    if !(3..=63).contains(&name.len()) {
        return bad("it must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return bad("use only lowercase letters, digits, `.` and `-`");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return bad("it must begin and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return bad("`.` must not be next to another `.` or a `-`");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return bad("it must not look like an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") || name.ends_with("-s3alias") {
        return bad("the prefixes `xn--` and `sthree-` and the suffix `-s3alias` are reserved");
    }
    Ok(())
}

/// A lifecycle rule's durations as the whole days S3 takes, checked.
struct LifecycleDays {
    current: Vec<(StorageClass, i64)>,
    noncurrent: Vec<(StorageClass, i64)>,
    expiration: Option<i64>,
    noncurrent_expiration: Option<i64>,
    abort: Option<i64>,
}

impl LifecycleRule {
    /// Checks the rule (number `index` of a bucket that is `versioned` or not): whole days within S3's limits,
    /// at least one action, noncurrent actions only on a versioned bucket, expiry after the last transition.
    fn validate(
        &self,
        path: &str,
        index: usize,
        versioned: bool,
    ) -> Result<LifecycleDays, ConstructError> {
        let days = |prop: &str, d: Duration, min: u64| {
            days_in(
                path,
                &format!("lifecycle_rules[{index}].{prop}"),
                d,
                min.max(1),
                36_500,
            )
        };
        let transitions = |prop: &str, ts: &[Transition]| {
            ts.iter()
                .map(|t| {
                    let d = days(prop, t.after, t.storage_class.min_days())?;
                    Ok::<_, ConstructError>((t.storage_class, d))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let current = transitions("transitions", &self.transitions)?;
        let noncurrent = transitions(
            "noncurrent_version_transitions",
            &self.noncurrent_version_transitions,
        )?;
        let expiration = self
            .expiration
            .map(|d| days("expiration", d, 1))
            .transpose()?;
        let noncurrent_expiration = self
            .noncurrent_version_expiration
            .map(|d| days("noncurrent_version_expiration", d, 1))
            .transpose()?;
        let abort = self
            .abort_incomplete_multipart_upload_after
            .map(|d| days("abort_incomplete_multipart_upload_after", d, 1))
            .transpose()?;
        if current.is_empty()
            && noncurrent.is_empty()
            && expiration.is_none()
            && noncurrent_expiration.is_none()
            && abort.is_none()
        {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "lifecycle_rules[{index}] does nothing: give it a transition, an expiration, a noncurrent version \
                     expiration or abort_incomplete_multipart_upload_after"
                ),
            ));
        }
        if !versioned && (!noncurrent.is_empty() || noncurrent_expiration.is_some()) {
            return Err(ConstructError::conflict(
                path,
                format!(
                    "lifecycle_rules[{index}] acts on noncurrent versions, which an unversioned bucket does not have: \
                     set versioned: true or drop the noncurrent version actions"
                ),
            ));
        }
        if let (Some(exp), Some(last)) = (expiration, current.iter().map(|(_, d)| *d).max()) {
            if exp <= last {
                return Err(ConstructError::conflict(
                    path,
                    format!(
                        "lifecycle_rules[{index}] expires objects after {exp} days, not after their last transition \
                         ({last} days): expire later or drop the transition"
                    ),
                ));
            }
        }
        if let Some(id) = &self.id {
            if id.is_empty() || id.len() > 255 {
                return Err(ConstructError::invalid(
                    path,
                    format!("lifecycle_rules[{index}].id must be 1 to 255 characters, got {id:?}"),
                ));
            }
        }
        Ok(LifecycleDays {
            current,
            noncurrent,
            expiration,
            noncurrent_expiration,
            abort,
        })
    }

    /// The rule as the L1 writes it, with the days [`LifecycleRule::validate`] returned.
    fn to_l1(&self, days: LifecycleDays) -> bl1::Rule {
        let LifecycleDays {
            current,
            noncurrent,
            expiration,
            noncurrent_expiration,
            abort,
        } = days;
        let to_l1 = |ts: Vec<(StorageClass, i64)>| {
            ts.into_iter()
                .map(|(class, d)| bl1::Transition {
                    storage_class: Some(class.to_l1().into()),
                    transition_in_days: Some(d.into()),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        };
        bl1::Rule {
            id: self.id.clone().map(Val::from),
            prefix: self.prefix.clone().map(Val::from),
            status: Some(
                if self.enabled {
                    bl1::AbacStatus::Enabled
                } else {
                    bl1::AbacStatus::Disabled
                }
                .into(),
            ),
            transitions: (!current.is_empty()).then(|| Val::from(to_l1(current))),
            expiration_in_days: expiration.map(Val::from),
            noncurrent_version_transitions: (!noncurrent.is_empty()).then(|| {
                Val::from(
                    to_l1(noncurrent)
                        .into_iter()
                        .map(|t| bl1::NoncurrentVersionTransition {
                            storage_class: t.storage_class,
                            transition_in_days: t.transition_in_days,
                            ..Default::default()
                        })
                        .collect::<Vec<_>>(),
                )
            }),
            noncurrent_version_expiration: noncurrent_expiration.map(|d| {
                Val::from(bl1::NoncurrentVersionExpiration {
                    noncurrent_days: Some(d.into()),
                    ..Default::default()
                })
            }),
            abort_incomplete_multipart_upload: abort.map(|d| {
                Val::from(bl1::AbortIncompleteMultipartUpload {
                    days_after_initiation: Some(d.into()),
                })
            }),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["orders-archive", "a.b.c", "abc", "123-logs"] {
            assert!(check_bucket_name("S/B", ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Orders",
            "-orders",
            "orders-",
            "a..b",
            "a.-b",
            "192.168.0.1",
            "xn--orders",
            "orders-s3alias",
            "orders_archive",
        ] {
            assert!(check_bucket_name("S/B", bad).is_err(), "{bad}");
        }
        assert_eq!(
            check_bucket_name("S/B", "Orders").unwrap_err().to_string(),
            "S/B: bucket_name \"Orders\" is not a valid S3 bucket name: use only lowercase letters, digits, `.` and `-`"
        );
    }
}
