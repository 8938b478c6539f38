//! What cfnkit knows about CloudFormation resource types beyond their schemas, kept once for synth, the rule pack
//! and the deploy tool.
//!
//! [`STATEFUL`]: the types whose replacement or removal loses data. Constructs write an explicit `DeletionPolicy`
//! and `UpdateReplacePolicy` on them, the rule pack requires one on every such resource whoever wrote it, and
//! `cargo cfn deploy` refuses a change set that replaces or removes one unless told which.
//!
//! [`PERMISSION_SOURCES`]: the types that carry permissions (IAM identity and resource policies, Lambda
//! permissions, security group rules) and where in their properties. The rule pack's IAM4 and IAM5 read the
//! identities and identity policies from it, and `cargo cfn diff`/`deploy` read every row for the security
//! changes they show before a deploy.

/// What a stateful resource holds, which decides its default removal policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Data that exists nowhere else (items, objects, secrets, keys, logs): retained by default.
    Data,
    /// Messages or records in transit to a consumer, kept for a bounded time (a queue): deleted by default, on
    /// purpose, because a new one does the same job and nothing lives in it for long.
    Transit,
}

impl Holds {
    /// The `DeletionPolicy` and `UpdateReplacePolicy` a construct writes unless told otherwise: retain data,
    /// delete what is only in transit.
    pub const fn default_removal_policy(self) -> cfnkit_core::RemovalPolicy {
        match self {
            Holds::Data => cfnkit_core::RemovalPolicy::Retain,
            Holds::Transit => cfnkit_core::RemovalPolicy::Delete,
        }
    }
}

/// A resource type whose replacement or removal loses what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatefulType {
    /// The CloudFormation type name (`AWS::DynamoDB::Table`).
    pub type_name: &'static str,
    /// What it holds.
    pub holds: Holds,
}

const fn data(type_name: &'static str) -> StatefulType {
    StatefulType {
        type_name,
        holds: Holds::Data,
    }
}

const fn transit(type_name: &'static str) -> StatefulType {
    StatefulType {
        type_name,
        holds: Holds::Transit,
    }
}

/// Every stateful resource type cfnkit knows, sorted by name (byte order): cfn-lint's list (I3011,
/// `StatefulResources.json` of cfn-lint 1.51.0, which every type here must include) and the other types that hold
/// data: container images, caches, ledgers, key spaces and time series.
///
/// Type names are literals, not the L1 `TYPE_NAME` constants: most of these services are not among `cfnkit-l1`'s
/// default features. A test checks each name against the vendored schemas.
pub const STATEFUL: &[StatefulType] = &[
    data("AWS::Backup::BackupVault"),
    data("AWS::Cassandra::Keyspace"),
    data("AWS::Cassandra::Table"),
    data("AWS::CloudFormation::Stack"),
    // Not in cfn-lint's list, but like a nested stack: removing or replacing (renaming) a stack set deletes its
    // stack instances, and their resources, in every target account and region.
    data("AWS::CloudFormation::StackSet"),
    data("AWS::Cognito::UserPool"),
    data("AWS::DocDB::DBCluster"),
    data("AWS::DocDB::DBInstance"),
    data("AWS::DynamoDB::GlobalTable"),
    data("AWS::DynamoDB::Table"),
    data("AWS::EC2::Volume"),
    data("AWS::ECR::Repository"),
    data("AWS::EFS::FileSystem"),
    data("AWS::EMR::Cluster"),
    data("AWS::ElastiCache::CacheCluster"),
    data("AWS::ElastiCache::ReplicationGroup"),
    data("AWS::ElastiCache::ServerlessCache"),
    data("AWS::Elasticsearch::Domain"),
    data("AWS::FSx::FileSystem"),
    data("AWS::KMS::Key"),
    data("AWS::Kinesis::Stream"),
    data("AWS::Logs::LogGroup"),
    data("AWS::MemoryDB::Cluster"),
    data("AWS::Neptune::DBCluster"),
    data("AWS::Neptune::DBInstance"),
    data("AWS::OpenSearchService::Domain"),
    data("AWS::Organizations::Account"),
    data("AWS::QLDB::Ledger"),
    data("AWS::RDS::DBCluster"),
    data("AWS::RDS::DBInstance"),
    data("AWS::Redshift::Cluster"),
    data("AWS::S3::Bucket"),
    data("AWS::S3Express::DirectoryBucket"),
    data("AWS::SDB::Domain"),
    transit("AWS::SQS::Queue"),
    data("AWS::SecretsManager::Secret"),
    data("AWS::Timestream::Database"),
    data("AWS::Timestream::Table"),
];

/// The stateful type of this name, if it is one.
pub fn stateful(type_name: &str) -> Option<&'static StatefulType> {
    STATEFUL.iter().find(|t| t.type_name == type_name)
}

/// An IAM resource type for which CloudFormation asks a stack's creator to acknowledge `CAPABILITY_IAM`, and the
/// property that names it, which makes it `CAPABILITY_NAMED_IAM`: a row of [`IAM_CAPABILITY_TYPES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IamCapabilityType {
    /// The CloudFormation type name (`AWS::IAM::Role`).
    pub type_name: &'static str,
    /// The property that gives the resource a custom name (`RoleName`), when the type has one.
    pub name_property: Option<&'static str>,
}

const fn iam(type_name: &'static str, name_property: Option<&'static str>) -> IamCapabilityType {
    IamCapabilityType {
        type_name,
        name_property,
    }
}

/// The types CloudFormation lists under "Acknowledging IAM resources" (CreateStack's `Capabilities`,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html>), and the inline
/// policy types added since (`RolePolicy`, `UserPolicy`, `GroupPolicy`), which change permissions as `Policy`
/// does: a template with one needs `CAPABILITY_IAM`, and `CAPABILITY_NAMED_IAM` when one of them is given a
/// custom name. A stack set's template is judged with it ([`crate::constructs::cloudformation::StackSet`]).
pub const IAM_CAPABILITY_TYPES: &[IamCapabilityType] = &[
    iam("AWS::IAM::AccessKey", None),
    iam("AWS::IAM::Group", Some("GroupName")),
    iam("AWS::IAM::GroupPolicy", None),
    iam("AWS::IAM::InstanceProfile", Some("InstanceProfileName")),
    iam("AWS::IAM::ManagedPolicy", Some("ManagedPolicyName")),
    iam("AWS::IAM::Policy", None),
    iam("AWS::IAM::Role", Some("RoleName")),
    iam("AWS::IAM::RolePolicy", None),
    iam("AWS::IAM::User", Some("UserName")),
    iam("AWS::IAM::UserPolicy", None),
    iam("AWS::IAM::UserToGroupAddition", None),
];

/// The property of an IAM role, user or group holding its inline policies (`[{PolicyName, PolicyDocument}]`).
pub const INLINE_POLICIES: &str = "Policies";
/// The property of an IAM role, user or group listing the managed policies attached to it.
pub const MANAGED_POLICY_ARNS: &str = "ManagedPolicyArns";
/// The property of an inline policy (an item of [`INLINE_POLICIES`]) holding its document.
pub const POLICY_DOCUMENT: &str = "PolicyDocument";

/// How a resource type writes its permissions; the property names are the type's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermissionLayout {
    /// A role, user or group: inline policies in [`INLINE_POLICIES`] and attached managed policies in
    /// [`MANAGED_POLICY_ARNS`] (AWS managed policies such as AdministratorAccess included), and for a role its
    /// trust policy in `trust`.
    Identity {
        /// The trust policy's property (`AssumeRolePolicyDocument`); `None` for users and groups.
        trust: Option<&'static str>,
    },
    /// An identity policy document in `doc`, attached to the roles, users or groups named by the `to` properties.
    Attached {
        /// The property holding the policy document (`PolicyDocument`).
        doc: &'static str,
        /// The properties naming the identities it is attached to (`Roles`, `Users`, `Groups`).
        to: &'static [&'static str],
    },
    /// A resource policy document in `doc` (an object, or JSON in a string), on the resources named by the `on`
    /// properties, or on the resource itself when `on` is empty; used for statements that name no Resource.
    ResourcePolicy {
        /// The property holding the policy document.
        doc: &'static str,
        /// The properties naming the resources it applies to (`Queues`, `Bucket`); empty for the resource itself.
        on: &'static [&'static str],
    },
    /// `AWS::Events::EventBusPolicy`: one statement in `Statement`, or the older `Action`, `Principal` and
    /// `Condition` properties; on `EventBusName` (the default bus when unset).
    EventBus,
    /// A permission written as properties: `Action` for `Principal` on the resource named by `target`, with
    /// the `conditions` properties that narrow it.
    Properties {
        /// The property naming the resource the permission is on (`FunctionName`).
        target: &'static str,
        /// The properties that narrow who may act (`SourceArn`, `SourceAccount`).
        conditions: &'static [&'static str],
    },
    /// `AWS::Lambda::Url`: `AuthType: NONE` lets anyone on the internet invoke the function (with `AWS_IAM`, who
    /// may call it is written in identity policies).
    FunctionUrl,
    /// `AWS::EC2::SecurityGroup`: inline `SecurityGroupIngress` and `SecurityGroupEgress` rules.
    SecurityGroup,
    /// One security group rule as a resource of its own, on the group the first of `group` names.
    SecurityGroupRule {
        /// `ingress` or `egress`.
        direction: &'static str,
        /// The properties that can name the group, in order of preference (`GroupId`, `GroupName`).
        group: &'static [&'static str],
    },
}

impl PermissionLayout {
    /// The properties this layout reads (checked against the CloudFormation schemas by a test).
    pub fn properties(&self) -> Vec<&'static str> {
        match *self {
            PermissionLayout::Identity { trust } => {
                let mut p = vec![INLINE_POLICIES, MANAGED_POLICY_ARNS];
                p.extend(trust);
                p
            }
            PermissionLayout::Attached { doc, to } => [doc].iter().chain(to).copied().collect(),
            PermissionLayout::ResourcePolicy { doc, on } => {
                [doc].iter().chain(on).copied().collect()
            }
            PermissionLayout::EventBus => vec![
                "Statement",
                "Action",
                "Principal",
                "Condition",
                "EventBusName",
            ],
            PermissionLayout::Properties { target, conditions } => ["Action", "Principal", target]
                .iter()
                .chain(conditions)
                .copied()
                .collect(),
            PermissionLayout::FunctionUrl => vec!["AuthType", "TargetFunctionArn", "Qualifier"],
            PermissionLayout::SecurityGroup => vec!["SecurityGroupIngress", "SecurityGroupEgress"],
            PermissionLayout::SecurityGroupRule { group, .. } => group.to_vec(),
        }
    }
}

/// A resource type that carries permissions, and where: a row of [`PERMISSION_SOURCES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PermissionSource {
    /// The CloudFormation type name (`AWS::IAM::Role`).
    pub type_name: &'static str,
    /// Which properties of the type hold its permissions.
    pub layout: PermissionLayout,
}

const fn source(type_name: &'static str, layout: PermissionLayout) -> PermissionSource {
    PermissionSource { type_name, layout }
}

use PermissionLayout::{
    Attached, EventBus, FunctionUrl, Identity, Properties, ResourcePolicy, SecurityGroup,
    SecurityGroupRule,
};

/// Every resource type that carries permissions, and where in it they live: the one place to look, and to add a
/// type. Types not listed carry none that cfnkit reads.
///
/// Type names are literals, as in [`STATEFUL`]: EC2, ECR and the search domains are not among `cfnkit-l1`'s
/// default features. A test checks each name and property against the vendored schemas.
pub const PERMISSION_SOURCES: &[PermissionSource] = &[
    // IAM identities and identity policies.
    source(
        "AWS::IAM::Role",
        Identity {
            trust: Some("AssumeRolePolicyDocument"),
        },
    ),
    source("AWS::IAM::User", Identity { trust: None }),
    source("AWS::IAM::Group", Identity { trust: None }),
    source(
        "AWS::IAM::Policy",
        Attached {
            doc: POLICY_DOCUMENT,
            to: &["Roles", "Users", "Groups"],
        },
    ),
    source(
        "AWS::IAM::ManagedPolicy",
        Attached {
            doc: POLICY_DOCUMENT,
            to: &["Roles", "Users", "Groups"],
        },
    ),
    source(
        "AWS::IAM::RolePolicy",
        Attached {
            doc: POLICY_DOCUMENT,
            to: &["RoleName"],
        },
    ),
    source(
        "AWS::IAM::UserPolicy",
        Attached {
            doc: POLICY_DOCUMENT,
            to: &["UserName"],
        },
    ),
    source(
        "AWS::IAM::GroupPolicy",
        Attached {
            doc: POLICY_DOCUMENT,
            to: &["GroupName"],
        },
    ),
    // Resource policies.
    source(
        "AWS::SQS::QueuePolicy",
        ResourcePolicy {
            doc: "PolicyDocument",
            on: &["Queues"],
        },
    ),
    source(
        "AWS::SQS::QueueInlinePolicy",
        ResourcePolicy {
            doc: "PolicyDocument",
            on: &["Queue"],
        },
    ),
    source(
        "AWS::SNS::TopicPolicy",
        ResourcePolicy {
            doc: "PolicyDocument",
            on: &["Topics"],
        },
    ),
    source(
        "AWS::SNS::TopicInlinePolicy",
        ResourcePolicy {
            doc: "PolicyDocument",
            on: &["TopicArn"],
        },
    ),
    source(
        "AWS::S3::BucketPolicy",
        ResourcePolicy {
            doc: "PolicyDocument",
            on: &["Bucket"],
        },
    ),
    source(
        "AWS::S3::AccessPoint",
        ResourcePolicy {
            doc: "Policy",
            on: &[],
        },
    ),
    source(
        "AWS::KMS::Key",
        ResourcePolicy {
            doc: "KeyPolicy",
            on: &[],
        },
    ),
    source(
        "AWS::KMS::ReplicaKey",
        ResourcePolicy {
            doc: "KeyPolicy",
            on: &[],
        },
    ),
    source(
        "AWS::SecretsManager::ResourcePolicy",
        ResourcePolicy {
            doc: "ResourcePolicy",
            on: &["SecretId"],
        },
    ),
    source(
        "AWS::ECR::Repository",
        ResourcePolicy {
            doc: "RepositoryPolicyText",
            on: &[],
        },
    ),
    source(
        "AWS::ApiGateway::RestApi",
        ResourcePolicy {
            doc: "Policy",
            on: &[],
        },
    ),
    source(
        "AWS::Logs::ResourcePolicy",
        ResourcePolicy {
            doc: "PolicyDocument",
            on: &[],
        },
    ),
    source(
        "AWS::OpenSearchService::Domain",
        ResourcePolicy {
            doc: "AccessPolicies",
            on: &[],
        },
    ),
    source(
        "AWS::Elasticsearch::Domain",
        ResourcePolicy {
            doc: "AccessPolicies",
            on: &[],
        },
    ),
    source("AWS::Events::EventBusPolicy", EventBus),
    // Permissions written as properties.
    source(
        "AWS::Lambda::Permission",
        Properties {
            target: "FunctionName",
            conditions: &[
                "SourceArn",
                "SourceAccount",
                "PrincipalOrgID",
                "FunctionUrlAuthType",
                "EventSourceToken",
            ],
        },
    ),
    source(
        "AWS::Lambda::LayerVersionPermission",
        Properties {
            target: "LayerVersionArn",
            conditions: &["OrganizationId"],
        },
    ),
    source("AWS::Lambda::Url", FunctionUrl),
    // Network access.
    source("AWS::EC2::SecurityGroup", SecurityGroup),
    source(
        "AWS::EC2::SecurityGroupIngress",
        SecurityGroupRule {
            direction: "ingress",
            // GroupName: a security group of the default VPC.
            group: &["GroupId", "GroupName"],
        },
    ),
    source(
        "AWS::EC2::SecurityGroupEgress",
        SecurityGroupRule {
            direction: "egress",
            group: &["GroupId"],
        },
    ),
];

/// Where the resource type of this name carries permissions, if it does.
pub fn permission_source(type_name: &str) -> Option<&'static PermissionSource> {
    PERMISSION_SOURCES.iter().find(|s| s.type_name == type_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_file(type_name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas/us-east-1")
            .join(format!(
                "{}.json",
                type_name.to_lowercase().replace("::", "-")
            ))
    }

    /// cfn-lint 1.51.0's `data/AdditionalSpecs/StatefulResources.json`: its I3011 asks for explicit policies on
    /// these, so ours must name every one.
    const CFN_LINT_STATEFUL: &[&str] = &[
        "AWS::Backup::BackupVault",
        "AWS::CloudFormation::Stack",
        "AWS::Cognito::UserPool",
        "AWS::DocDB::DBCluster",
        "AWS::DocDB::DBInstance",
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::EC2::Volume",
        "AWS::EFS::FileSystem",
        "AWS::EMR::Cluster",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::Elasticsearch::Domain",
        "AWS::FSx::FileSystem",
        "AWS::KMS::Key",
        "AWS::Kinesis::Stream",
        "AWS::Logs::LogGroup",
        "AWS::Neptune::DBCluster",
        "AWS::Neptune::DBInstance",
        "AWS::OpenSearchService::Domain",
        "AWS::Organizations::Account",
        "AWS::QLDB::Ledger",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Redshift::Cluster",
        "AWS::S3::Bucket",
        "AWS::SDB::Domain",
        "AWS::SQS::Queue",
        "AWS::SecretsManager::Secret",
    ];

    #[test]
    fn every_type_cfn_lint_calls_stateful_is_in_the_table() {
        for ty in CFN_LINT_STATEFUL {
            assert!(stateful(ty).is_some(), "{ty} is missing from STATEFUL");
        }
    }

    #[test]
    fn the_table_is_sorted_and_every_name_is_a_registry_type() {
        let names: Vec<_> = STATEFUL.iter().map(|t| t.type_name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "keep STATEFUL sorted, so a duplicate shows");
        for ty in names {
            let file = schema_file(ty);
            assert!(
                file.is_file(),
                "{ty}: no registry schema at {}",
                file.display()
            );
        }
    }

    #[test]
    fn only_queues_are_transit() {
        let transit: Vec<_> = STATEFUL
            .iter()
            .filter(|t| t.holds == Holds::Transit)
            .map(|t| t.type_name)
            .collect();
        assert_eq!(transit, ["AWS::SQS::Queue"]);
    }

    /// Every type in [`PERMISSION_SOURCES`], listed here so that adding or dropping one is a visible test change;
    /// each property the table names exists in the type's registry schema (a misspelt property would never be
    /// read).
    #[test]
    fn every_permission_source_and_property_is_in_the_registry_schemas() {
        let expected = [
            "AWS::IAM::Role",
            "AWS::IAM::User",
            "AWS::IAM::Group",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::RolePolicy",
            "AWS::IAM::UserPolicy",
            "AWS::IAM::GroupPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SQS::QueueInlinePolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::SNS::TopicInlinePolicy",
            "AWS::S3::BucketPolicy",
            "AWS::S3::AccessPoint",
            "AWS::KMS::Key",
            "AWS::KMS::ReplicaKey",
            "AWS::SecretsManager::ResourcePolicy",
            "AWS::ECR::Repository",
            "AWS::ApiGateway::RestApi",
            "AWS::Logs::ResourcePolicy",
            "AWS::OpenSearchService::Domain",
            "AWS::Elasticsearch::Domain",
            "AWS::Events::EventBusPolicy",
            "AWS::Lambda::Permission",
            "AWS::Lambda::LayerVersionPermission",
            "AWS::Lambda::Url",
            "AWS::EC2::SecurityGroup",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::EC2::SecurityGroupEgress",
        ];
        let names: Vec<_> = PERMISSION_SOURCES.iter().map(|s| s.type_name).collect();
        assert_eq!(names, expected);
        for source in PERMISSION_SOURCES {
            let file = schema_file(source.type_name);
            let schema: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            for p in source.layout.properties() {
                assert!(
                    schema["properties"].get(p).is_some(),
                    "{} has no property {p} ({})",
                    source.type_name,
                    file.display()
                );
            }
        }
        // An inline policy's document property is PolicyDocument in every identity's schema.
        for ty in ["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"] {
            let schema: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(schema_file(ty)).unwrap()).unwrap();
            assert!(
                schema["definitions"]["Policy"]["properties"]
                    .get(POLICY_DOCUMENT)
                    .is_some(),
                "{ty}: inline policies have no {POLICY_DOCUMENT}"
            );
        }
    }

    #[test]
    fn every_iam_capability_type_and_name_property_is_in_the_registry_schemas() {
        for t in IAM_CAPABILITY_TYPES {
            let file = schema_file(t.type_name);
            let schema: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if let Some(p) = t.name_property {
                assert!(
                    schema["properties"].get(p).is_some(),
                    "{} has no property {p}",
                    t.type_name
                );
            }
        }
    }
}
