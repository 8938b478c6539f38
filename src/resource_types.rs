//! What cfnkit knows about CloudFormation resource types beyond their schemas, kept once for synth, the rule pack
//! and the deploy tool.
//!
//! [`STATEFUL`]: the types whose replacement or removal loses data. Constructs write an explicit `DeletionPolicy`
//! and `UpdateReplacePolicy` on them, the rule pack requires one on every such resource whoever wrote it, and
//! `cargo cfn deploy` refuses a change set that replaces or removes one unless told which.

/// What a stateful resource holds, which decides its default removal policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    /// Data that exists nowhere else (items, objects, secrets, keys, logs): retained by default.
    Data,
    /// Messages or records in transit to a consumer, kept for a bounded time (a queue): deleted by default, on
    /// purpose, because a new one does the same job and nothing lives in it for long.
    Transit,
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/us-east-1");
        for ty in names {
            let file = schemas.join(format!("{}.json", ty.to_lowercase().replace("::", "-")));
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
}
