//! `<Env>Data`: the seed's relational store (PostgreSQL on RDS: orders, payments and users of the Spring
//! services) and its cache (Redis on ElastiCache: product cache, JWT blacklist, rate limits), both in the private
//! subnets, encrypted with the environment key, reachable only from inside the VPC.
//!
//! RDS manages the database's master password itself (`ManageMasterUserPassword`): the credentials live in a
//! Secrets Manager secret encrypted with the environment key and rotated by RDS, and never appear in the
//! template. Redis has no such option, so its AUTH token is a generated Secrets Manager secret that the
//! replication group reads through a dynamic reference at deploy time.

use cfnkit::constructs::Construct;
use cfnkit::constructs::{ConstructError, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::l1::{ec2, elasticache, rds, secretsmanager};
use cfnkit::{fns, App, RemovalPolicy, Scope, Val};

use super::network::Network;
use super::Env;

/// The PostgreSQL port.
pub const POSTGRES_PORT: i64 = 5432;
/// The Redis port.
pub const REDIS_PORT: i64 = 6379;

/// What the compute and observability stacks use from the data stack.
#[derive(Clone, Debug)]
pub struct Data {
    pub db_instance_id: Val<String>,
    pub db_endpoint: Val<String>,
    /// The secret RDS keeps the master credentials in (`{"username", "password"}`).
    pub db_secret_arn: Val<String>,
    pub cache_replication_group_id: Val<String>,
    pub cache_endpoint: Val<String>,
    /// The secret holding the Redis AUTH token (`{"token"}`).
    pub cache_secret_arn: Val<String>,
}

pub fn stack(app: &App, env: &Env, net: &Network) -> Result<Data, ConstructError> {
    let stack = app.stack(&env.stack_name("Data"));
    stack.set_description(format!(
        "Order platform ({}): PostgreSQL (RDS) and Redis (ElastiCache) in the private subnets",
        env.name
    ));
    let scope = stack.scope();
    let db = postgres(&scope, env, net)?;
    let cache = redis(&scope, env, net);
    Ok(Data {
        db_instance_id: db.id,
        db_endpoint: db.address,
        db_secret_arn: db.secret_arn,
        cache_replication_group_id: cache.id,
        cache_endpoint: cache.address,
        cache_secret_arn: cache.secret_arn,
    })
}

/// A server made by this stack: its identifier, its endpoint address, and the secret its credentials are in.
struct Server {
    id: Val<String>,
    address: Val<String>,
    secret_arn: Val<String>,
}

/// A security group admitting `port` from the VPC's range only, with no egress: a database never opens
/// connections (CDK's "disallow all traffic" rule, since a group without egress rules would allow all).
fn server_security_group(
    scope: &Scope,
    id: &str,
    what: &str,
    port: i64,
    net: &Network,
) -> ec2::SecurityGroupHandle {
    scope.add(
        id,
        ec2::SecurityGroup {
            group_description: Some(format!("{what}: port {port} from inside the VPC only").into()),
            vpc_id: Some(net.vpc_id.clone()),
            security_group_ingress: Some(Val::from(vec![ec2::security_group::Ingress {
                description: Some(format!("{what} clients in the VPC").into()),
                ip_protocol: Some("tcp".into()),
                from_port: Some(port.into()),
                to_port: Some(port.into()),
                cidr_ip: Some(net.vpc_cidr.clone()),
                ..Default::default()
            }])),
            security_group_egress: Some(Val::from(vec![ec2::security_group::Egress {
                description: Some("Disallow all traffic".into()),
                ip_protocol: Some("icmp".into()),
                from_port: Some(252.into()),
                to_port: Some(86.into()),
                cidr_ip: Some("255.255.255.255/32".into()),
                ..Default::default()
            }])),
            ..Default::default()
        },
    )
}

fn postgres(scope: &Scope, env: &Env, net: &Network) -> Result<Server, ConstructError> {
    let subnets = scope.add(
        "DatabaseSubnetGroup",
        rds::DbSubnetGroup {
            db_subnet_group_description: Some("Private subnets of the platform database".into()),
            subnet_ids: Some(Val::from(net.private_subnets.clone())),
            ..Default::default()
        },
    );
    let sg = server_security_group(
        scope,
        "DatabaseSecurityGroup",
        "PostgreSQL",
        POSTGRES_PORT,
        net,
    );
    // Enhanced monitoring publishes OS metrics to the `RDSOSMetrics` log group: the permissions of AWS's
    // AmazonRDSEnhancedMonitoringRole, inline (managed policies are flagged by cdk-nag IAM4).
    let monitoring = Role::new(
        scope,
        "DatabaseMonitoringRole",
        Principal::service("monitoring.rds.amazonaws.com"),
        RoleProps {
            description: Some("Publishes the database's enhanced monitoring metrics".to_owned()),
            ..Default::default()
        },
    )?;
    monitoring.add_to_policy(
        PolicyStatement::allow()
            .actions(["logs:CreateLogGroup", "logs:PutRetentionPolicy"])
            .resource(fns::sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:RDSOSMetrics",
            )),
    );
    monitoring.add_to_policy(
        PolicyStatement::allow()
            .actions([
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
                "logs:GetLogEvents",
            ])
            .resource(fns::sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:RDSOSMetrics:log-stream:*",
            )),
    );
    cfnkit::rules::suppress_only(
        monitoring.handle(),
        &cfnkit::rules::IAM5,
        &["Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:RDSOSMetrics:log-stream:*"],
        "RDS names its enhanced-monitoring log streams after the instance's resource id, which is known only \
         after the instance (which needs this role) exists; the streams are limited to the RDSOSMetrics group",
    );
    let key = net.key.key_arn();
    let db = scope.add(
        "Database",
        rds::DbInstance {
            engine: Some("postgres".into()),
            engine_version: Some("16.9".into()),
            db_instance_class: Some(env.db_instance_class.into()),
            db_name: Some("orders".into()),
            allocated_storage: Some(env.db_storage_gib.0.to_string().into()),
            max_allocated_storage: Some(i64::from(env.db_storage_gib.1).into()),
            storage_type: Some("gp3".into()),
            storage_encrypted: Some(true.into()),
            kms_key_id: Some(key.clone()),
            master_username: Some("platform".into()),
            manage_master_user_password: Some(true.into()),
            master_user_secret: Some(Val::from(rds::db_instance::MasterUserSecret {
                kms_key_id: Some(key.clone()),
            })),
            multi_az: Some(env.multi_az.into()),
            db_subnet_group_name: Some(subnets.ref_()),
            vpc_security_groups: Some(Val::from(vec![sg.attr_group_id()])),
            publicly_accessible: Some(false.into()),
            enable_iam_database_authentication: Some(true.into()),
            backup_retention_period: Some(i64::from(env.db_backup_days).into()),
            copy_tags_to_snapshot: Some(true.into()),
            deletion_protection: Some(true.into()),
            auto_minor_version_upgrade: Some(true.into()),
            enable_cloudwatch_logs_exports: Some(Val::from(vec!["postgresql", "upgrade"])),
            monitoring_interval: Some(60.into()),
            monitoring_role_arn: Some(monitoring.role_arn()),
            enable_performance_insights: Some(true.into()),
            performance_insights_kms_key_id: Some(key),
            performance_insights_retention_period: Some(7.into()),
            ..Default::default()
        },
    );
    // Deleting the stack (or replacing the instance) leaves a final snapshot.
    db.apply_removal_policy(RemovalPolicy::Snapshot);
    if !env.multi_az {
        cfnkit::rules::skip_checkov(
            &db,
            "CKV_AWS_157",
            "Single-AZ on purpose in this environment (Env::multi_az = false): the dev database trades failover \
             for half the cost; prod is multi-AZ.",
        );
    }
    Ok(Server {
        id: db.ref_(),
        address: db.attr_endpoint_address(),
        secret_arn: db.attr_master_user_secret_secret_arn(),
    })
}

fn redis(scope: &Scope, env: &Env, net: &Network) -> Server {
    let token = scope.add(
        "CacheAuthToken",
        secretsmanager::Secret {
            description: Some("AUTH token of the platform's Redis replication group".into()),
            kms_key_id: Some(net.key.key_arn()),
            generate_secret_string: Some(Val::from(secretsmanager::secret::GenerateSecretString {
                secret_string_template: Some("{}".into()),
                generate_string_key: Some("token".into()),
                password_length: Some(64.into()),
                // Redis AUTH tokens are printable ASCII without `@`, `"` or `/`: letters and digits only is
                // the simplest safe set.
                exclude_punctuation: Some(true.into()),
                ..Default::default()
            })),
            ..Default::default()
        },
    );
    token.apply_removal_policy(RemovalPolicy::Delete);
    // No rotation: rotating a Redis AUTH token needs a coordinated ModifyReplicationGroup (ROTATE, then SET),
    // for which there is no managed rotation; a rotation function is left for later (see stacks/README.md).
    let subnets = scope.add(
        "CacheSubnetGroup",
        elasticache::SubnetGroup {
            description: Some("Private subnets of the platform cache".into()),
            subnet_ids: Some(Val::from(net.private_subnets.clone())),
            ..Default::default()
        },
    );
    let sg = server_security_group(scope, "CacheSecurityGroup", "Redis", REDIS_PORT, net);
    let replicated = env.cache_nodes > 1;
    let group = scope.add(
        "Cache",
        elasticache::ReplicationGroup {
            replication_group_description: Some(
                format!("Order platform {} cache and rate limits", env.name).into(),
            ),
            engine: Some("redis".into()),
            engine_version: Some("7.1".into()),
            cache_node_type: Some(env.cache_node_type.into()),
            num_cache_clusters: Some(i64::from(env.cache_nodes).into()),
            automatic_failover_enabled: Some(replicated.into()),
            multi_az_enabled: Some(replicated.into()),
            cache_subnet_group_name: Some(subnets.ref_()),
            security_group_ids: Some(Val::from(vec![sg.attr_group_id()])),
            at_rest_encryption_enabled: Some(true.into()),
            kms_key_id: Some(net.key.key_arn()),
            transit_encryption_enabled: Some(true.into()),
            auth_token: Some(fns::sub_with(
                "{{resolve:secretsmanager:${Secret}:SecretString:token}}",
                [("Secret", token.ref_())],
            )),
            auto_minor_version_upgrade: Some(true.into()),
            snapshot_retention_limit: Some(7.into()),
            port: Some(REDIS_PORT.into()),
            ..Default::default()
        },
    );
    group.apply_removal_policy(RemovalPolicy::Snapshot);
    Server {
        id: group.ref_(),
        address: group.attr_primary_end_point_address(),
        secret_arn: token.ref_(),
    }
}
