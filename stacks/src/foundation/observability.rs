//! `<Env>Observability`: auditing and tracing of the environment. A multi-region CloudTrail trail (log file
//! validation, encrypted with the environment key) into a TLS-only bucket and a log group; an X-Ray group and
//! sampling rule for the platform's traces; the environment's CloudWatch dashboard (database, cache,
//! containers); and a stack set giving every account of the environment's workload OUs the same tracing
//! ([`account_baseline_template`]).

use std::collections::BTreeMap;

use cfnkit::constructs::cloudformation::{
    CallAs, Concurrency, StackSet, StackSetOperation, StackSetProps, StackSetTargets,
};
use cfnkit::constructs::cloudwatch::{Dashboard, DashboardProps, Metric, Statistic, Widget};
use cfnkit::constructs::logs::{LogGroup, LogGroupProps};
use cfnkit::constructs::{ConstructError, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::l1::{cloudtrail, xray};
use cfnkit::{fns, App, Parameter, Scope, Stack, Val};

use super::buckets::{access_log_bucket, secure_bucket};
use super::compute::Compute;
use super::data::Data;
use super::network::Network;
use super::Env;

pub fn stack(
    app: &App,
    env: &Env,
    net: &Network,
    data: &Data,
    compute: &Compute,
) -> Result<(), ConstructError> {
    let stack = app.stack(&env.stack_name("Observability"));
    stack.set_description(format!(
        "Order platform ({}): CloudTrail, X-Ray group and sampling rule, CloudWatch dashboard",
        env.name
    ));
    let scope = stack.scope();
    let prefix = format!("order-platform-{}", env.name.to_lowercase());
    let trail_name = format!("{prefix}-trail");
    let trail_arn = fns::sub(format!(
        "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{trail_name}"
    ));

    // Access logs are kept as long as the trail's own logs.
    let days = match env.retention {
        cfnkit::constructs::logs::Retention::Period(d) => d.as_secs() / 86_400,
        cfnkit::constructs::logs::Retention::Forever => 3_653,
    };
    let access_logs = access_log_bucket(&scope, days)?;
    let bucket = secure_bucket(&scope, "TrailBucket", &net.key, &access_logs, days, false)?;
    // CloudTrail's bucket policy: it checks the ACL, then writes under AWSLogs/<account>/, for this trail only.
    bucket.add_to_resource_policy(
        PolicyStatement::allow()
            .sid("CloudTrailAclCheck")
            .actions(["s3:GetBucketAcl"])
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .resource(bucket.bucket_arn())
            .condition("StringEquals", "aws:SourceArn", trail_arn.clone()),
    );
    bucket.add_to_resource_policy(
        PolicyStatement::allow()
            .sid("CloudTrailWrite")
            .actions(["s3:PutObject"])
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .resource(fns::sub_with(
                "${Bucket}/AWSLogs/${AWS::AccountId}/*",
                [("Bucket", bucket.bucket_arn())],
            ))
            .condition("StringEquals", "aws:SourceArn", trail_arn.clone())
            .condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
    );
    let bucket_name = bucket.bucket_name();
    let bucket_policy = bucket
        .policy()
        .expect("a TLS-only bucket has a bucket policy");

    // CloudTrail encrypts log files with the environment key, for trails of this account only. "How AWS
    // CloudTrail uses AWS KMS" names the one operation: GenerateDataKey, once when the trail is set up and then
    // once per log file (S3 calls it for CloudTrail). The key-policy example on "Configure AWS KMS key policies
    // for CloudTrail" writes `kms:GenerateDataKey*`; the other actions it matches return no plaintext key or a
    // key pair, which SSE-KMS never uses.
    net.key.add_to_resource_policy(
        PolicyStatement::allow()
            .sid("CloudTrailEncrypt")
            .actions(["kms:GenerateDataKey", "kms:DescribeKey"])
            .principal(Principal::service("cloudtrail.amazonaws.com"))
            .resource("*")
            .condition(
                "StringLike",
                "kms:EncryptionContext:aws:cloudtrail:arn",
                fns::sub("arn:${AWS::Partition}:cloudtrail:*:${AWS::AccountId}:trail/*"),
            ),
    );
    let trail_logs = LogGroup::new(
        &scope,
        "TrailLogGroup",
        LogGroupProps {
            retention: env.retention,
            encryption_key: Some(&net.key),
            ..Default::default()
        },
    )?;
    let trail_role = Role::new(
        &scope,
        "TrailLogRole",
        Principal::service("cloudtrail.amazonaws.com"),
        RoleProps {
            description: Some("Delivers the trail's events to its log group".to_owned()),
            ..Default::default()
        },
    )?;
    trail_logs.grant_write(&trail_role);
    let trail = scope.add(
        "Trail",
        cloudtrail::Trail {
            trail_name: Some(trail_name.into()),
            is_logging: Some(true.into()),
            is_multi_region_trail: Some(true.into()),
            include_global_service_events: Some(true.into()),
            enable_log_file_validation: Some(true.into()),
            kms_key_id: Some(net.key.key_arn()),
            s3_bucket_name: Some(bucket_name),
            cloud_watch_logs_log_group_arn: Some(trail_logs.log_group_arn()),
            cloud_watch_logs_role_arn: Some(trail_role.role_arn()),
            ..Default::default()
        },
    );
    // The trail checks its bucket policy when it is created.
    trail.add_depends_on(&bucket_policy);

    // Traces of the platform's services, and how many of them X-Ray keeps.
    tracing(
        &scope,
        &prefix,
        Val::from(format!(
            "annotation.environment = \"{}\"",
            env.name.to_lowercase()
        )),
    );
    account_baseline(&scope, env)?;

    let dashboard = Dashboard::new(
        &scope,
        "Dashboard",
        DashboardProps {
            dashboard_name: Some(format!("{prefix}-foundation").into()),
        },
    )?;
    let rds = |name: &str| {
        Metric::new("AWS/RDS", name).dimension("DBInstanceIdentifier", data.db_instance_id.clone())
    };
    let cache = |name: &str| {
        Metric::new("AWS/ElastiCache", name).dimension(
            "ReplicationGroupId",
            data.cache_replication_group_id.clone(),
        )
    };
    let ecs = |name: &str| {
        Metric::new("AWS/ECS", name)
            .dimension("ClusterName", compute.ecs_cluster_name.clone())
            .dimension("ServiceName", compute.ecs_service_name.clone())
    };
    let eks = |name: &str| {
        Metric::new("ContainerInsights", name)
            .dimension("ClusterName", compute.eks_cluster_name.clone())
    };
    dashboard.add_widgets([
        Widget::text(format!(
            "# Order platform, {}\nDatabase, cache and containers of the environment.",
            env.name
        ))
        .size(24, 2),
        Widget::graph(
            "PostgreSQL",
            [
                rds("CPUUtilization"),
                rds("DatabaseConnections"),
                rds("FreeStorageSpace").statistic(Statistic::Minimum),
            ],
        ),
        Widget::graph(
            "Redis",
            [
                cache("EngineCPUUtilization"),
                cache("CurrConnections"),
                cache("Evictions").statistic(Statistic::Sum),
            ],
        ),
        Widget::graph(
            "Notification service (Fargate)",
            [ecs("CPUUtilization"), ecs("MemoryUtilization")],
        ),
        Widget::graph(
            "EKS nodes",
            [
                eks("node_cpu_utilization"),
                eks("node_memory_utilization"),
                eks("cluster_node_count"),
            ],
        ),
    ])?;
    Ok(())
}

/// An X-Ray group named `name` over the traces that `filter` selects, with insights (anomalies found in them,
/// without notifications), and a sampling rule of the same name: the first request each second and 5% of the
/// rest, per service.
fn tracing(scope: &Scope, name: &str, filter: Val<String>) {
    scope.add(
        "XRayGroup",
        xray::Group {
            group_name: Some(name.into()),
            filter_expression: Some(filter),
            insights_configuration: Some(Val::from(xray::group::InsightsConfiguration {
                insights_enabled: Some(true.into()),
                notifications_enabled: Some(false.into()),
            })),
            ..Default::default()
        },
    );
    scope.add(
        "XRaySamplingRule",
        xray::SamplingRule {
            sampling_rule: Some(Val::from(xray::sampling_rule::SamplingRuleProperty {
                rule_name: Some(name.into()),
                priority: Some(100.into()),
                fixed_rate: Some(0.05.into()),
                reservoir_size: Some(1.into()),
                service_name: Some("*".into()),
                service_type: Some("*".into()),
                host: Some("*".into()),
                http_method: Some("*".into()),
                url_path: Some("*".into()),
                resource_arn: Some("*".into()),
                version: Some(1.into()),
                ..Default::default()
            })),
            ..Default::default()
        },
    );
}

/// The name of the X-Ray group and sampling rule every workload account gets. Not `order-platform-<env>`, the
/// platform account's own, so that the platform account may sit in a workload OU too.
pub const BASELINE_TRACING: &str = "order-platform-workloads";

/// The stack every account of the environment's workload OUs gets, in each of its regions: the platform's
/// tracing (an X-Ray group with insights over the account's traces of the environment, and the sampling rule).
/// Nothing in it points back at this account (no bucket, key or topic of the platform), so it stands alone in
/// each account. Made in an app of its own: the stack set deploys it, not the platform's pipeline.
pub fn account_baseline_template() -> Stack {
    let app = App::new();
    let stack = app.stack("AccountBaseline");
    stack.set_description(
        "Order platform: the observability baseline of a workload account (X-Ray)",
    );
    let environment = stack.add_parameter(
        "Environment",
        Parameter::string()
            .description("The platform environment whose traces the X-Ray group gathers")
            .allowed_values(["dev", "prod"]),
    );
    tracing(
        &stack.scope(),
        BASELINE_TRACING,
        fns::sub_with(
            "annotation.environment = \"${Environment}\"",
            [("Environment", environment.ref_())],
        ),
    );
    stack
}

/// `<Env>Observability/AccountBaseline`: [`account_baseline_template`] in every account of `env.workload_ous`, in
/// `env.regions`, from this account as the organization's delegated administrator for StackSets. New accounts in
/// those OUs get it automatically, and keep it when they leave (nothing is deleted in an account by moving it).
/// The rollout updates `env.baseline_accounts_at_once` accounts at a time and stops once that many have failed in
/// a region (CloudFormation's strict failure tolerance allows no more at once), one region after the other in
/// the order of `env.regions`.
fn account_baseline(scope: &Scope, env: &Env) -> Result<StackSet, ConstructError> {
    let at_once = env.baseline_accounts_at_once;
    StackSet::new(
        scope,
        "AccountBaseline",
        &account_baseline_template(),
        StackSetProps {
            targets: StackSetTargets::organizational_units(env.workload_ous.iter().copied()),
            regions: env.regions.iter().map(|r| r.to_string()).collect(),
            // Registering this account as a delegated administrator keeps the organization's management account
            // out of everyday deploys.
            call_as: CallAs::DelegatedAdmin,
            operation: StackSetOperation {
                max_concurrent: Concurrency::Count(at_once),
                failure_tolerance: Concurrency::Count(at_once.saturating_sub(1)),
                ..Default::default()
            },
            parameters: BTreeMap::from([(
                "Environment".to_owned(),
                Val::from(env.name.to_lowercase()),
            )]),
            ..Default::default()
        },
    )
}
