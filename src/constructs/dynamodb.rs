//! DynamoDB: [`Table`] (on-demand, point-in-time recovery, deletion protection, retained) and its grants.
//!
//! ```
//! use cfnkit::prelude::*;
//!
//! # fn main() -> Result<(), ConstructError> {
//! let app = App::new();
//! let stack = app.stack("Orders");
//! let orders = Table::new(&stack, "Orders", Attribute::string("pk"), TableProps {
//!     sort_key: Some(Attribute::string("sk")),
//!     stream: Some(StreamViewType::NewAndOldImages),
//!     ..Default::default()
//! })?;
//! let reader = Role::new(&stack, "Reader", Principal::service("lambda.amazonaws.com"), Default::default())?;
//! // The table and its indexes, by ARN; the index wildcard is suppressed by the grant, with its reason.
//! orders.grant_read_data(&reader);
//! // A table without a stream would be an error naming TableProps::stream.
//! orders.grant_stream_read(&reader)?;
//! cfnkit::synth::synth_checked(&app).expect("the rule pack passes");
//! # Ok(()) }
//! ```

use cfnkit_core::{RemovalPolicy, Val};
use cfnkit_l1::dynamodb as l1;
use l1::table as tl1;

use super::iam::{Grant, Grantable};
use super::kms::{Key, KeyRef};
use super::{
    actions, check_imported_arn, imported_name, path_of, ArnResource, Construct, ConstructError,
};
use crate::rules::IAM5;
use crate::{fns, AsScope};

/// The type of a key attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeType {
    /// `S`: a string.
    String,
    /// `N`: a number.
    Number,
    /// `B`: binary data.
    Binary,
}

/// A key attribute: a name and a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute's name in the items.
    pub name: String,
    /// Its type (`AttributeType` in the template).
    pub type_: AttributeType,
}

impl Attribute {
    fn to_l1(&self) -> tl1::AttributeDefinition {
        tl1::AttributeDefinition {
            attribute_name: Some(self.name.as_str().into()),
            attribute_type: Some(
                match self.type_ {
                    AttributeType::String => tl1::AttributeType::S,
                    AttributeType::Number => tl1::AttributeType::N,
                    AttributeType::Binary => tl1::AttributeType::B,
                }
                .into(),
            ),
        }
    }
    /// A string attribute.
    pub fn string(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            type_: AttributeType::String,
        }
    }
    /// A number attribute.
    pub fn number(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            type_: AttributeType::Number,
        }
    }
    /// A binary attribute.
    pub fn binary(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            type_: AttributeType::Binary,
        }
    }
}

/// How a table is billed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Billing {
    /// Pay per request, no capacity to plan.
    #[default]
    OnDemand,
    /// Fixed read and write capacity units (also used by every global secondary index).
    Provisioned {
        /// Read capacity units.
        read: u32,
        /// Write capacity units.
        write: u32,
    },
}

/// What a table's stream records for each change (the L1's enum: `KeysOnly`, `NewImage`, `OldImage`,
/// `NewAndOldImages`).
pub use tl1::StreamViewType;

/// Which attributes an index copies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    #[default]
    All,
    /// Only the table and index keys.
    KeysOnly,
    /// The keys and these attributes.
    Include(Vec<String>),
}

impl Projection {
    fn to_l1(&self) -> tl1::Projection {
        let (kind, attrs) = match self {
            Projection::All => (tl1::ProjectionType::All, None),
            Projection::KeysOnly => (tl1::ProjectionType::KeysOnly, None),
            Projection::Include(a) => (tl1::ProjectionType::Include, Some(Val::from(a.clone()))),
        };
        tl1::Projection {
            projection_type: Some(kind.into()),
            non_key_attributes: attrs,
        }
    }
}

/// A global secondary index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalSecondaryIndex {
    /// The index's name (queries name it; grants cover `<table ARN>/index/*`).
    pub index_name: String,
    /// The index's partition key.
    pub partition_key: Attribute,
    /// The index's sort key, if any.
    pub sort_key: Option<Attribute>,
    /// Which attributes the index holds.
    pub projection: Projection,
}

/// A local secondary index: the table's partition key with another sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSecondaryIndex {
    /// The index's name.
    pub index_name: String,
    /// The index's sort key (the partition key is the table's).
    pub sort_key: Attribute,
    /// Which attributes the index holds.
    pub projection: Projection,
}

/// Props of a [`Table`].
#[derive(Clone, Debug)]
pub struct TableProps<'a> {
    /// The sort key. Without it items are identified by the partition key alone.
    pub sort_key: Option<Attribute>,
    /// A fixed table name. Without it CloudFormation generates a unique name.
    pub table_name: Option<Val<String>>,
    /// How the table is billed. Without it on demand.
    pub billing: Billing,
    /// Continuous backups with point-in-time recovery (cdk-nag DDB3). On unless turned off.
    pub point_in_time_recovery: bool,
    /// A customer-managed key for encryption at rest; grants on the table then also grant the key. Without it
    /// the table is encrypted with a key DynamoDB owns (free, but not visible in KMS; checkov's CKV_AWS_119 asks
    /// for a customer-managed key).
    pub encryption_key: Option<&'a Key>,
    /// A stream of item changes (for a [`super::lambda::DynamoEventSource`]). Without it the table has no stream.
    pub stream: Option<StreamViewType>,
    /// Global secondary indexes. Without any the table has none.
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// Local secondary indexes (need a sort key). Without any the table has none.
    pub local_secondary_indexes: Vec<LocalSecondaryIndex>,
    /// The attribute holding each item's expiry time (epoch seconds). Without it items never expire.
    pub time_to_live_attribute: Option<String>,
    /// Refuse `DeleteTable` until turned off. On unless turned off: the table holds state.
    pub deletion_protection: bool,
    /// What happens to the table when it leaves the stack. Without it the table is retained.
    pub removal_policy: RemovalPolicy,
}

impl Default for TableProps<'_> {
    fn default() -> Self {
        TableProps {
            sort_key: None,
            table_name: None,
            billing: Billing::OnDemand,
            point_in_time_recovery: true,
            encryption_key: None,
            stream: None,
            global_secondary_indexes: Vec::new(),
            local_secondary_indexes: Vec::new(),
            time_to_live_attribute: None,
            deletion_protection: true,
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// [`TableProps`] as [`TableProps::validate`] accepted them.
struct CheckedTableProps {
    /// Every key attribute of the table and its indexes, once, in first-use order.
    attribute_definitions: Vec<Attribute>,
}

impl TableProps<'_> {
    /// Every check of the props (with the table's `partition_key`), before anything is built: one type per key
    /// attribute, index names and counts, local indexes only with a sort key, provisioned capacity.
    fn validate(
        &self,
        path: &str,
        partition_key: &Attribute,
    ) -> Result<CheckedTableProps, ConstructError> {
        let mut defs: Vec<Attribute> = Vec::new();
        let mut define = |a: &Attribute| -> Result<(), ConstructError> {
            if a.name.is_empty() {
                return Err(ConstructError::invalid(
                    path,
                    "key attribute names must not be empty",
                ));
            }
            match defs.iter().find(|d| d.name == a.name) {
                Some(d) if d.type_ != a.type_ => Err(ConstructError::conflict(
                    path,
                    format!(
                        "attribute {:?} is used as a key with two types ({:?} and {:?}): give it one type",
                        a.name, d.type_, a.type_
                    ),
                )),
                Some(_) => Ok(()),
                None => {
                    defs.push(a.clone());
                    Ok(())
                }
            }
        };
        define(partition_key)?;
        if let Some(s) = &self.sort_key {
            define(s)?;
        }
        for g in &self.global_secondary_indexes {
            define(&g.partition_key)?;
            if let Some(s) = &g.sort_key {
                define(s)?;
            }
        }
        for l in &self.local_secondary_indexes {
            define(&l.sort_key)?;
        }
        let index_names = self
            .global_secondary_indexes
            .iter()
            .map(|g| &g.index_name)
            .chain(self.local_secondary_indexes.iter().map(|l| &l.index_name));
        let mut names = std::collections::BTreeSet::new();
        for n in index_names {
            if n.len() < 3
                || n.len() > 255
                || !n
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "index names must be 3 to 255 letters, digits, `_`, `-` or `.`, got {n:?}"
                    ),
                ));
            }
            if !names.insert(n.clone()) {
                return Err(ConstructError::conflict(
                    path,
                    format!("two indexes are named {n:?}: rename one"),
                ));
            }
        }
        if self.global_secondary_indexes.len() > 20 {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "a table has at most 20 global secondary indexes, got {}",
                    self.global_secondary_indexes.len()
                ),
            ));
        }
        if !self.local_secondary_indexes.is_empty() && self.sort_key.is_none() {
            return Err(ConstructError::conflict(
                path,
                "local secondary indexes need a table with a sort key: set sort_key or use a global index",
            ));
        }
        if self.local_secondary_indexes.len() > 5 {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "a table has at most 5 local secondary indexes, got {}",
                    self.local_secondary_indexes.len()
                ),
            ));
        }
        if let Billing::Provisioned { read, write } = self.billing {
            if read == 0 || write == 0 {
                return Err(ConstructError::invalid(
                    path,
                    format!("provisioned capacity must be at least 1, got read {read} and write {write}"),
                ));
            }
        }
        Ok(CheckedTableProps {
            attribute_definitions: defs,
        })
    }
}

/// A key schema: the partition key (`HASH`) and, when there is one, the sort key (`RANGE`).
fn key_schema(partition_key: &Attribute, sort_key: Option<&Attribute>) -> Vec<tl1::KeySchema> {
    let key = |a: &Attribute, key_type: tl1::KeyType| tl1::KeySchema {
        attribute_name: Some(a.name.as_str().into()),
        key_type: Some(key_type.into()),
    };
    std::iter::once(key(partition_key, tl1::KeyType::Hash))
        .chain(sort_key.map(|s| key(s, tl1::KeyType::Range)))
        .collect()
}

impl GlobalSecondaryIndex {
    /// The index as the L1 writes it; `throughput` is the table's (every index of a provisioned table has it).
    fn to_l1(&self, throughput: Option<&tl1::ProvisionedThroughput>) -> tl1::GlobalSecondaryIndex {
        tl1::GlobalSecondaryIndex {
            index_name: Some(self.index_name.as_str().into()),
            key_schema: Some(Val::from(key_schema(
                &self.partition_key,
                self.sort_key.as_ref(),
            ))),
            projection: Some(self.projection.to_l1().into()),
            provisioned_throughput: throughput.cloned().map(Val::from),
            ..Default::default()
        }
    }
}

impl LocalSecondaryIndex {
    /// The index as the L1 writes it: the table's partition key with this index's sort key.
    fn to_l1(&self, partition_key: &Attribute) -> tl1::LocalSecondaryIndex {
        tl1::LocalSecondaryIndex {
            index_name: Some(self.index_name.as_str().into()),
            key_schema: Some(Val::from(
                key_schema(partition_key, Some(&self.sort_key))
                    .into_iter()
                    .map(|k| tl1::KeySchemaItem {
                        attribute_name: k.attribute_name,
                        key_type: k.key_type,
                    })
                    .collect::<Vec<_>>(),
            )),
            projection: Some(self.projection.to_l1().into()),
        }
    }
}

/// A DynamoDB table: on-demand, with point-in-time recovery and deletion protection, retained on stack deletion.
#[derive(Clone, Debug)]
pub struct Table {
    reference: TableRef,
    handle: l1::TableHandle,
}

/// A table as grants and event sources see it: its ARN and name, its stream's ARN and its customer-managed key.
/// A [`Table`] made here derefs to one; [`Table::from_arn`] and [`Table::from_attributes`] make one for a table
/// made elsewhere.
#[derive(Clone, Debug)]
pub struct TableRef {
    /// The construct path, or the id of an imported table: what messages name it by.
    pub(crate) path: String,
    table_arn: Val<String>,
    table_name: Val<String>,
    stream_arn: Option<Val<String>>,
    key: Option<KeyRef>,
}

impl TableRef {
    /// Lets the grantee read items (CDK's `grantReadData` actions) from the table and its indexes, and decrypt
    /// with the table's customer-managed key.
    pub fn grant_read_data(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::DYNAMODB_READ)
            .with_key(self.key.as_ref().map(|k| k.grant_decrypt(grantee)))
    }
    /// Lets the grantee write items (CDK's `grantWriteData` actions), and encrypt and decrypt with the table's
    /// customer-managed key.
    pub fn grant_write_data(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        self.grant(grantee, actions::DYNAMODB_WRITE)
            .with_key(self.key.as_ref().map(|k| k.grant_encrypt_decrypt(grantee)))
    }
    /// Both [`TableRef::grant_read_data`] and [`TableRef::grant_write_data`].
    pub fn grant_read_write_data(&self, grantee: &(impl Grantable + ?Sized)) -> Grant {
        let both: Vec<&str> = actions::DYNAMODB_READ
            .iter()
            .chain(actions::DYNAMODB_WRITE)
            .copied()
            .collect();
        self.grant(grantee, &both)
            .with_key(self.key.as_ref().map(|k| k.grant_encrypt_decrypt(grantee)))
    }
    /// Lets the grantee read the table's stream (and decrypt it with the customer-managed key).
    /// `dynamodb:ListStreams` is granted on `*`, the only resource AWS accepts for it; the other actions on the
    /// stream's ARN. A table without a stream is an error naming the table and the fix, rather than a grant
    /// that adds nothing.
    pub fn grant_stream_read(
        &self,
        grantee: &(impl Grantable + ?Sized),
    ) -> Result<Grant, ConstructError> {
        let Some(stream) = self.table_stream_arn() else {
            return Err(ConstructError::conflict(
                &self.path,
                format!(
                    "table {} has no stream to read: give it one with TableProps::stream \
                     (`stream: Some(StreamViewType::NewImage)`), or, for an imported table, \
                     TableAttributes::table_stream_arn",
                    self.path
                ),
            ));
        };
        let role = grantee.grant_role();
        let list = role.grant(actions::DYNAMODB_LIST_STREAMS, ["*"]);
        crate::rules::suppress_only(role.handle(), &IAM5, &["Resource::*"], LIST_STREAMS_IAM5);
        Ok(list
            .and(role.grant(actions::DYNAMODB_STREAM_READ, [stream]))
            .with_key(self.key.as_ref().map(|k| k.grant_decrypt(grantee))))
    }
    /// Lets the grantee perform `actions` on the table and its indexes (no key permissions). The grantee's role
    /// gets an IAM5 suppression of exactly the indexes' `Resource::<Table>/index/*` with its reason (see
    /// [`crate::rules`]): the wildcard is this grant's, so the grant says why.
    pub fn grant(&self, grantee: &(impl Grantable + ?Sized), actions: &[&str]) -> Grant {
        let role = grantee.grant_role();
        let grant = role.grant(actions, [self.table_arn(), self.index_arns()]);
        crate::rules::suppress_only(role.handle(), &IAM5, &[INDEXES_ITEM], INDEXES_IAM5);
        grant
    }
    /// The table ARN.
    pub fn table_arn(&self) -> Val<String> {
        self.table_arn.clone()
    }
    /// `<table ARN>/index/*`: every index of the table.
    pub fn index_arns(&self) -> Val<String> {
        fns::sub_with("${Table}/index/*", [("Table", self.table_arn())])
    }
    /// The table name.
    pub fn table_name(&self) -> Val<String> {
        self.table_name.clone()
    }
    /// The stream ARN, when the table has a stream.
    pub fn table_stream_arn(&self) -> Option<Val<String>> {
        self.stream_arn.clone()
    }
    /// The customer-managed key, when the table uses one.
    pub fn encryption_key(&self) -> Option<&KeyRef> {
        self.key.as_ref()
    }
}

/// What [`Table::from_attributes`] needs to know of a table made elsewhere.
#[derive(Clone, Debug)]
pub struct TableAttributes<'a> {
    /// The table ARN (`arn:<partition>:dynamodb:<region>:<account>:table/<name>`; a literal one is checked).
    pub table_arn: Val<String>,
    /// The ARN of the table's stream, to read it ([`TableRef::grant_stream_read`], a
    /// [`super::lambda::DynamoEventSource`]). Without it the table is taken to have no stream.
    pub table_stream_arn: Option<Val<String>>,
    /// The customer-managed key the table is encrypted with, so grants also grant its use. Without it grants
    /// name the table only (right for DynamoDB-owned and AWS-managed keys).
    pub encryption_key: Option<&'a KeyRef>,
}

impl std::ops::Deref for Table {
    type Target = TableRef;
    fn deref(&self) -> &TableRef {
        &self.reference
    }
}

/// The rule pack's name for the index ARN of [`Table::index_arns`] (an `Fn::Sub` template, shown as written).
const INDEXES_ITEM: &str = "Resource::<Table>/index/*";

/// Why table grants have `<table ARN>/index/*` (cdk-nag IAM5).
const INDEXES_IAM5: &str =
    "a table grant covers the table's indexes, <table ARN>/index/*: the indexes of \
     that one table, which the grantee may already read or write through the table";

/// Why stream readers have `dynamodb:ListStreams` on `*` (cdk-nag IAM5).
const LIST_STREAMS_IAM5: &str =
    "dynamodb:ListStreams has no resource-level permissions: IAM accepts only Resource `*` for it";

impl Table {
    /// A table made elsewhere, by ARN, without a stream or a customer-managed key: grants add statements to the
    /// grantee naming it and its indexes.
    pub fn from_arn(
        id: &str,
        table_arn: impl Into<Val<String>>,
    ) -> Result<TableRef, ConstructError> {
        Table::from_attributes(
            id,
            TableAttributes {
                table_arn: table_arn.into(),
                table_stream_arn: None,
                encryption_key: None,
            },
        )
    }

    /// A table made elsewhere, with its stream and customer-managed key when it has them.
    pub fn from_attributes(
        id: &str,
        attributes: TableAttributes<'_>,
    ) -> Result<TableRef, ConstructError> {
        let arn = attributes.table_arn;
        check_imported_arn(
            id,
            "table_arn",
            &arn,
            "dynamodb",
            ArnResource::Slash("table"),
        )?;
        if let Some(stream) = &attributes.table_stream_arn {
            check_imported_arn(
                id,
                "table_stream_arn",
                stream,
                "dynamodb",
                ArnResource::Slash("table"),
            )?;
        }
        Ok(TableRef {
            path: id.to_owned(),
            table_name: imported_name(&arn, ArnResource::Slash("table")),
            table_arn: arn,
            stream_arn: attributes.table_stream_arn,
            key: attributes.encryption_key.cloned(),
        })
    }

    /// A table at `<scope>/<id>` (logical ID `<Id>`) whose items are identified by `partition_key` (and the
    /// sort key of the props).
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        partition_key: Attribute,
        props: TableProps<'_>,
    ) -> Result<Table, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path(), &partition_key)?;
        let throughput = match props.billing {
            Billing::OnDemand => None,
            Billing::Provisioned { read, write } => Some(tl1::ProvisionedThroughput {
                read_capacity_units: Some(read.into()),
                write_capacity_units: Some(write.into()),
            }),
        };
        let key = props.encryption_key.cloned();
        let has_stream = props.stream.is_some();
        let table = l1::Table {
            table_name: props.table_name,
            attribute_definitions: Some(Val::from(
                checked
                    .attribute_definitions
                    .iter()
                    .map(Attribute::to_l1)
                    .collect::<Vec<_>>(),
            )),
            // The table's KeySchema is typed `Json` in the L1 (the schema also accepts a deprecated object form).
            key_schema: Some(Val::from_raw(
                Val::from(key_schema(&partition_key, props.sort_key.as_ref())).into_raw(),
            )),
            billing_mode: Some(
                match props.billing {
                    Billing::OnDemand => tl1::BillingMode::PayPerRequest,
                    Billing::Provisioned { .. } => tl1::BillingMode::Provisioned,
                }
                .into(),
            ),
            provisioned_throughput: throughput.clone().map(Val::from),
            point_in_time_recovery_specification: Some(Val::from(
                tl1::PointInTimeRecoverySpecification {
                    point_in_time_recovery_enabled: Some(props.point_in_time_recovery.into()),
                    ..Default::default()
                },
            )),
            sse_specification: key.as_ref().map(|k| {
                Val::from(tl1::SseSpecification {
                    sse_enabled: Some(true.into()),
                    sse_type: Some(tl1::SseType::Kms.into()),
                    kms_master_key_id: Some(k.key_arn()),
                })
            }),
            stream_specification: props.stream.map(|s| {
                Val::from(tl1::StreamSpecification {
                    stream_view_type: Some(s.into()),
                    ..Default::default()
                })
            }),
            global_secondary_indexes: (!props.global_secondary_indexes.is_empty()).then(|| {
                Val::from(
                    props
                        .global_secondary_indexes
                        .iter()
                        .map(|g| g.to_l1(throughput.as_ref()))
                        .collect::<Vec<_>>(),
                )
            }),
            local_secondary_indexes: (!props.local_secondary_indexes.is_empty()).then(|| {
                Val::from(
                    props
                        .local_secondary_indexes
                        .iter()
                        .map(|l| l.to_l1(&partition_key))
                        .collect::<Vec<_>>(),
                )
            }),
            time_to_live_specification: props.time_to_live_attribute.map(|a| {
                Val::from(tl1::TimeToLiveSpecification {
                    attribute_name: Some(a.into()),
                    enabled: Some(true.into()),
                })
            }),
            deletion_protection_enabled: Some(props.deletion_protection.into()),
            ..Default::default()
        };
        let handle: l1::TableHandle = scope.add("Resource", table);
        handle.apply_removal_policy(props.removal_policy);
        if props.encryption_key.is_none() {
            crate::rules::skip_checkov(
                &handle,
                "CKV_AWS_119",
                "no TableProps.encryption_key: the table is encrypted at rest with a key DynamoDB owns (free, \
                 invisible in KMS); give a customer-managed key to control and audit its use",
            );
        }
        Ok(Table {
            reference: TableRef {
                path: scope.path().to_owned(),
                table_arn: handle.attr_arn(),
                table_name: handle.ref_(),
                stream_arn: has_stream.then(|| handle.attr_stream_arn()),
                key: key.as_deref().cloned(),
            },
            handle,
        })
    }
}

impl Construct for Table {
    type L1 = l1::Table;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::TableHandle {
        &self.handle
    }
}
