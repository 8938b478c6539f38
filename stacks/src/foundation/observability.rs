//! `<Env>Observability`: auditing and tracing of the environment. A multi-region CloudTrail trail (log file
//! validation, encrypted with the environment key) into a TLS-only bucket and a log group; an X-Ray group and
//! sampling rule for the platform's traces; the environment's CloudWatch dashboard (database, cache,
//! containers).

use cfnkit::constructs::cloudwatch::{Dashboard, DashboardProps, Metric, Statistic, Widget};
use cfnkit::constructs::logs::{LogGroup, LogGroupProps};
use cfnkit::constructs::{ConstructError, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::l1::{cloudtrail, xray};
use cfnkit::{fns, App, Val};

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

    // Traces of the platform's services, and how many of them X-Ray keeps: the first request each second and
    // 5% of the rest, per service.
    scope.add(
        "XRayGroup",
        xray::Group {
            group_name: Some(prefix.clone().into()),
            filter_expression: Some(
                format!("annotation.environment = \"{}\"", env.name.to_lowercase()).into(),
            ),
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
                rule_name: Some(prefix.clone().into()),
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
