//! Seed 004: the network, data and compute foundation of the larger platform, its users, its observability,
//! and the serverless analytics, notification and job services around the order flow.
//!
//! The seed's Terraform has `environments/dev` and `environments/prod` over the same modules (vpc, eks, rds,
//! elasticache); here one code base makes both from an [`Env`]: every foundation stack exists once per
//! environment (`DevNetwork`, `ProdNetwork`, ...), sized by its `Env`. The serverless services hang off the
//! seed-003 event bus in `Base`, which this app has once, so they are single stacks like `Order` or `Payment`
//! (`Analytics`, `Notifications`, `Jobs`).
//!
//! - [`network`]: the environment key, a VPC over two AZs (public and private subnets, NAT, flow logs).
//! - [`data`]: PostgreSQL (RDS) with its credentials in Secrets Manager, Redis (ElastiCache).
//! - [`compute`]: an ECS Fargate cluster and the notification service, an EKS cluster with a managed node group.
//! - [`identity`]: the Cognito user pool the APIs authorize against, a WAF web ACL.
//! - [`observability`]: CloudTrail, X-Ray group and sampling rule, the environment's dashboard, and the stack
//!   set giving every account of the environment's workload OUs the same tracing.
//! - [`analytics`], [`notifications`], [`jobs`]: the serverless services on the Base bus (what they share is
//!   in [`serverless`]; S3 buckets in [`buckets`]).

pub mod analytics;
pub mod buckets;
pub mod compute;
pub mod data;
pub mod identity;
pub mod jobs;
pub mod network;
pub mod notifications;
pub mod observability;
pub mod serverless;

use cfnkit::constructs::logs::Retention;
use cfnkit::constructs::ConstructError;
use cfnkit::App;

use crate::Base;

/// What differs between the environments: sizes, redundancy and how long things are kept. Everything else is
/// the same code.
#[derive(Clone, Debug)]
pub struct Env {
    /// The stack name prefix (`Dev` makes `DevNetwork`); letters only.
    pub name: &'static str,
    /// The VPC's address range; environments get distinct ranges so they can be peered later.
    pub vpc_cidr: &'static str,
    /// NAT gateways: 1 (cheap; private subnets lose egress when its AZ fails) or 2 (one per AZ).
    pub nat_gateways: usize,
    /// RDS standby in a second AZ.
    pub multi_az: bool,
    /// RDS instance class.
    pub db_instance_class: &'static str,
    /// RDS storage in GiB, and the ceiling storage autoscaling may grow it to.
    pub db_storage_gib: (u32, u32),
    /// Days of automated RDS backups.
    pub db_backup_days: u32,
    /// ElastiCache node type and number of cache clusters (primary plus replicas) in the replication group.
    pub cache_node_type: &'static str,
    pub cache_nodes: u32,
    /// EKS managed node group: instance type and (min, desired, max) nodes.
    pub eks_instance_type: &'static str,
    pub eks_nodes: (u32, u32, u32),
    /// Fargate notification service: task CPU units, memory MiB and desired tasks.
    pub task_cpu: u32,
    pub task_memory: u32,
    pub task_count: u32,
    /// How long logs (flow logs, container logs, functions) are kept. A year at least, which is what checkov's
    /// CKV_AWS_338 asks of every log group, in dev too.
    pub retention: Retention,
    /// The organization's OUs (or root) whose accounts run this environment's workloads: each gets the account
    /// baseline ([`observability::account_baseline_template`]). The ids here are placeholders in the valid
    /// format: put your organization's (`aws organizations list-organizational-units-for-parent`).
    pub workload_ous: &'static [&'static str],
    /// The regions the workload accounts run in, in rollout order: each gets the account baseline.
    pub regions: &'static [&'static str],
    /// Accounts the baseline's rollout updates at once; it stops in a region once that many have failed there.
    pub baseline_accounts_at_once: u32,
}

impl Env {
    /// The development environment: one NAT gateway, single-AZ database, small nodes, a year of logs.
    pub fn dev() -> Env {
        Env {
            name: "Dev",
            vpc_cidr: "10.10.0.0/16",
            nat_gateways: 1,
            multi_az: false,
            db_instance_class: "db.t4g.medium",
            db_storage_gib: (20, 100),
            db_backup_days: 7,
            cache_node_type: "cache.t4g.small",
            cache_nodes: 2,
            eks_instance_type: "t3.large",
            eks_nodes: (1, 2, 3),
            task_cpu: 256,
            task_memory: 512,
            task_count: 1,
            retention: Retention::days(365),
            workload_ous: &["ou-orgs-devworkloads"],
            regions: &["us-east-1"],
            baseline_accounts_at_once: 5,
        }
    }

    /// The production environment: a NAT gateway per AZ, multi-AZ database, larger nodes, two years of logs.
    pub fn prod() -> Env {
        Env {
            name: "Prod",
            vpc_cidr: "10.20.0.0/16",
            nat_gateways: 2,
            multi_az: true,
            db_instance_class: "db.m7g.large",
            db_storage_gib: (100, 1000),
            db_backup_days: 30,
            cache_node_type: "cache.m7g.large",
            cache_nodes: 3,
            eks_instance_type: "m6i.xlarge",
            eks_nodes: (3, 3, 10),
            task_cpu: 512,
            task_memory: 1024,
            task_count: 2,
            retention: Retention::days(731),
            workload_ous: &["ou-orgs-prodworkloads"],
            regions: &["us-east-1", "eu-west-1"],
            baseline_accounts_at_once: 2,
        }
    }

    /// The name of this environment's stack `suffix` (`DevNetwork`).
    pub fn stack_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.name)
    }
}

/// The Availability Zones every environment spans.
pub const AZ_COUNT: usize = 2;

/// Every seed-004 stack: the foundation of each environment, then the serverless services.
/// Makes the dev and prod foundations and the serverless stacks; returns the prod identity (user pool, web ACL),
/// which the platform's production APIs use.
pub fn stacks(app: &App, base: &Base) -> Result<identity::Identity, ConstructError> {
    // Each environment's stacks, in dependency order; the prod identity is what the Order stack's API uses.
    let environment = |env: &Env| -> Result<identity::Identity, ConstructError> {
        let net = network::stack(app, env)?;
        let data = data::stack(app, env, &net)?;
        let compute = compute::stack(app, env, &net, &data)?;
        let identity = identity::stack(app, env, &net)?;
        observability::stack(app, env, &net, &data, &compute)?;
        Ok(identity)
    };
    environment(&Env::dev())?;
    let prod_identity = environment(&Env::prod())?;
    analytics::stack(app, base)?;
    notifications::stack(app, base)?;
    jobs::stack(app, base)?;
    Ok(prod_identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_differ_where_the_seed_says_they_should() {
        let (dev, prod) = (Env::dev(), Env::prod());
        assert!(!dev.multi_az && prod.multi_az);
        assert_eq!((dev.nat_gateways, prod.nat_gateways), (1, AZ_COUNT));
        assert_ne!(dev.vpc_cidr, prod.vpc_cidr);
        assert_eq!(dev.stack_name("Network"), "DevNetwork");
    }
}
