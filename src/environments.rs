//! Accounts and regions: the partition a region is in, and the roles `cargo cfn bootstrap --trust ACCOUNT` makes
//! in an account, by name, so that synth (`Fn::GetStackOutput` across accounts), pipelines (stages deploying to
//! another account) and the deploy tool (the bootstrap template) agree on them without looking anything up.
//!
//! Every role is named `<prefix>-<account>-<region>`: IAM names are global in an account, and each region's
//! bootstrap stack makes its own roles.

use crate::fns;
use crate::Val;

/// A role of the bootstrap stack made with `cargo cfn bootstrap --trust ACCOUNT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootstrapRole {
    /// Assumed by the trusted accounts (a pipeline's actions): creates and executes change sets, passes
    /// [`BootstrapRole::Execution`] to CloudFormation, reads the pipeline's artifacts.
    Deploy,
    /// CloudFormation's role for those change sets: what the deployed stacks create.
    Execution,
    /// Assumed by the trusted accounts: writes the assets bucket (Lambda zips, large templates).
    Publishing,
    /// Assumed by the trusted accounts: `cloudformation:DescribeStacks`, for `Fn::GetStackOutput`'s `RoleArn`.
    Lookup,
}

impl BootstrapRole {
    /// Every role, in the order the bootstrap template declares them.
    pub const ALL: [BootstrapRole; 4] = [
        BootstrapRole::Deploy,
        BootstrapRole::Execution,
        BootstrapRole::Publishing,
        BootstrapRole::Lookup,
    ];

    /// The name's prefix (`cfnkit-lookup`).
    pub fn prefix(self) -> &'static str {
        match self {
            BootstrapRole::Deploy => "cfnkit-deploy",
            BootstrapRole::Execution => "cfnkit-exec",
            BootstrapRole::Publishing => "cfnkit-publish",
            BootstrapRole::Lookup => "cfnkit-lookup",
        }
    }

    /// The role's name as the bootstrap template writes it, an `Fn::Sub` pattern of the stack's own account and
    /// region.
    pub fn name_pattern(self) -> String {
        format!("{}-${{AWS::AccountId}}-${{AWS::Region}}", self.prefix())
    }

    /// The role's ARN in `account` for `region` (`None`: the region of the stack using the ARN), in the using
    /// stack's partition (roles cannot be used across partitions anyway).
    pub fn arn(self, account: &str, region: Option<&str>) -> Val<String> {
        let region = region.unwrap_or("${AWS::Region}");
        fns::sub(format!(
            "arn:${{AWS::Partition}}:iam::{account}:role/{}-{account}-{region}",
            self.prefix()
        ))
    }
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`, the isolated ones), from its name's prefix.
pub fn partition_of(region: &str) -> &'static str {
    // Longest prefixes first: `us-isob-` before `us-iso-`.
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| region.starts_with(p))
        .map_or("aws", |(_, partition)| partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_map_to_their_partitions() {
        assert_eq!(partition_of("eu-west-1"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of("us-iso-east-1"), "aws-iso");
    }

    #[test]
    fn role_arns_name_account_and_region() {
        let arn = BootstrapRole::Lookup.arn("111111111111", Some("eu-west-1"));
        assert_eq!(
            crate::Value::from(arn),
            fns::sub(
                "arn:${AWS::Partition}:iam::111111111111:role/cfnkit-lookup-111111111111-eu-west-1"
            )
            .into_raw()
        );
    }
}
