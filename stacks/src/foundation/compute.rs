//! `<Env>Compute`: the seed's container platform. EKS is its primary runtime (the Spring Boot services), with a
//! managed node group in the private subnets; ECS on Fargate runs the notification service ("serverless
//! containers"), from an ECR repository of its own.
//!
//! L1 types throughout (`cfnkit::l1::{ecs, ecr, eks, ec2}`), roles from the IAM construct.

use cfnkit::constructs::logs::{LogGroup, LogGroupProps};
use cfnkit::constructs::Construct;
use cfnkit::constructs::{ConstructError, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::l1::{ec2, ecr, ecs, eks};
use cfnkit::{fns, App, Parameter, RemovalPolicy, Scope, Val};

use super::data::Data;
use super::network::Network;
use super::Env;

/// The Kubernetes version of the EKS cluster.
pub const KUBERNETES_VERSION: &str = "1.33";

/// The port the notification service listens on (health checks and its admin endpoints).
pub const NOTIFICATION_PORT: i64 = 8080;

/// What observability uses from the compute stack.
#[derive(Clone, Debug)]
pub struct Compute {
    pub ecs_cluster_name: Val<String>,
    pub ecs_service_name: Val<String>,
    pub eks_cluster_name: Val<String>,
}

pub fn stack(app: &App, env: &Env, net: &Network, data: &Data) -> Result<Compute, ConstructError> {
    let stack = app.stack(&env.stack_name("Compute"));
    stack.set_description(format!(
        "Order platform ({}): EKS cluster with a managed node group, ECS Fargate notification service",
        env.name
    ));
    let scope = stack.scope();
    let (ecs_cluster_name, ecs_service_name) = notification_service(&scope, env, net, data)?;
    let eks_cluster_name = eks_cluster(&scope, env, net)?;
    Ok(Compute {
        ecs_cluster_name,
        ecs_service_name,
        eks_cluster_name,
    })
}

/// Why the EKS cluster role has its AWS managed policy (cdk-nag IAM4): there is no narrower equivalent, since the
/// control plane acts on resources (ENIs, security groups) created at run time.
const EKS_CLUSTER_POLICY_REASON: &str =
    "EKS requires AmazonEKSClusterPolicy on the cluster role: it covers the \
     ENIs and security groups the control plane creates at run time, which no template can name";

/// Why the EKS node role has its AWS managed policies (cdk-nag IAM4): the nodes' kubelet, the VPC CNI plugin and
/// image pulls act on instances, ENIs and repositories known only at run time.
const EKS_NODE_POLICIES_REASON: &str = "EKS requires AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy and \
     AmazonEC2ContainerRegistryReadOnly on the node role: they cover the instances, ENIs and image pulls the \
     nodes make at run time, which no template can name";

fn managed_policy(name: &str) -> Val<String> {
    fns::sub(format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}"))
}

/// Suppresses IAM4 on `role` for exactly the AWS managed policies `names` (as [`managed_policy`] names them).
fn suppress_managed(role: &Role, names: &[&str], reason: &str) {
    let items: Vec<String> = names
        .iter()
        .map(|n| format!("Policy::arn:<AWS::Partition>:iam::aws:policy/{n}"))
        .collect();
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    cfnkit::rules::suppress_only(role.handle(), &cfnkit::rules::IAM4, &items, reason);
}

fn notification_service(
    scope: &Scope,
    env: &Env,
    net: &Network,
    data: &Data,
) -> Result<(Val<String>, Val<String>), ConstructError> {
    let stack = scope.stack();
    let image_tag = stack.add_parameter(
        "NotificationImageTag",
        Parameter::<String>::string()
            .description(
                "Tag of the notification service image in the NotificationRepository to run",
            )
            .default_value("1.0.0")
            .allowed_pattern("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"),
    );
    let repository = scope.add(
        "NotificationRepository",
        ecr::Repository {
            image_tag_mutability: Some(ecr::repository::ImageTagMutability::Immutable.into()),
            image_scanning_configuration: Some(Val::from(
                ecr::repository::ImageScanningConfiguration {
                    scan_on_push: Some(true.into()),
                },
            )),
            encryption_configuration: Some(Val::from(ecr::repository::EncryptionConfiguration {
                encryption_type: Some(ecr::repository::EncryptionType::Kms.into()),
                kms_key: Some(net.key.key_arn()),
            })),
            ..Default::default()
        },
    );
    repository.apply_removal_policy(RemovalPolicy::Retain);

    let cluster = scope.add(
        "EcsCluster",
        ecs::Cluster {
            cluster_settings: Some(Val::from(vec![ecs::cluster::ClusterSettings {
                name: Some("containerInsights".into()),
                value: Some("enabled".into()),
            }])),
            ..Default::default()
        },
    );
    let logs = LogGroup::new(
        scope,
        "NotificationLogGroup",
        LogGroupProps {
            retention: env.retention,
            encryption_key: Some(&net.key),
            ..Default::default()
        },
    )?;

    // The execution role is ECS's (pull the image, write the logs); the task role is the application's.
    let execution = Role::new(
        scope,
        "NotificationExecutionRole",
        Principal::service("ecs-tasks.amazonaws.com"),
        RoleProps {
            description: Some("Pulls the notification image and ships its logs".to_owned()),
            ..Default::default()
        },
    )?;
    execution.add_to_policy(
        PolicyStatement::allow()
            .actions(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
            .resource(repository.attr_arn()),
    );
    execution.add_to_policy(
        PolicyStatement::allow()
            .actions(["ecr:GetAuthorizationToken"])
            .resource("*"),
    );
    cfnkit::rules::suppress_only(
        execution.handle(),
        &cfnkit::rules::IAM5,
        &["Resource::*"],
        "ecr:GetAuthorizationToken has no resource-level permissions: IAM accepts only `*` for it",
    );
    net.key.grant_decrypt(&execution);
    logs.grant_write(&execution);
    let task_role = Role::new(
        scope,
        "NotificationTaskRole",
        Principal::service("ecs-tasks.amazonaws.com"),
        RoleProps {
            description: Some("The notification service's own permissions".to_owned()),
            ..Default::default()
        },
    )?;
    // The service rate-limits sends in Redis, whose AUTH token it reads at start-up.
    task_role.add_to_policy(
        PolicyStatement::allow()
            .actions([
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            ])
            .resource(data.cache_secret_arn.clone()),
    );
    net.key.grant_decrypt(&task_role);

    let container = ecs::task_definition::ContainerDefinition {
        name: Some("notification".into()),
        image: Some(fns::sub_with(
            "${Repository}:${Tag}",
            [
                ("Repository", repository.attr_repository_uri()),
                ("Tag", image_tag.ref_()),
            ],
        )),
        essential: Some(true.into()),
        readonly_root_filesystem: Some(true.into()),
        privileged: Some(false.into()),
        port_mappings: Some(Val::from(vec![ecs::task_definition::PortMapping {
            container_port: Some(NOTIFICATION_PORT.into()),
            protocol: Some(ecs::task_definition::Protocol::Tcp.into()),
            ..Default::default()
        }])),
        environment: Some(Val::from(vec![
            ecs::task_definition::KeyValuePair {
                name: Some("REDIS_HOST".into()),
                value: Some(data.cache_endpoint.clone()),
            },
            ecs::task_definition::KeyValuePair {
                name: Some("REDIS_AUTH_SECRET_ARN".into()),
                value: Some(data.cache_secret_arn.clone()),
            },
        ])),
        log_configuration: Some(Val::from(ecs::task_definition::LogConfiguration {
            log_driver: Some("awslogs".into()),
            options: Some(Val::from(std::collections::BTreeMap::from([
                ("awslogs-group", logs.log_group_name()),
                ("awslogs-region", fns::region()),
                ("awslogs-stream-prefix", Val::from("notification")),
            ]))),
            ..Default::default()
        })),
        ..Default::default()
    };
    let task = scope.add(
        "NotificationTaskDefinition",
        ecs::TaskDefinition {
            requires_compatibilities: Some(Val::from(vec![
                ecs::task_definition::RequiresCompatibilities::Fargate,
            ])),
            network_mode: Some(ecs::task_definition::NetworkMode::Awsvpc.into()),
            cpu: Some(env.task_cpu.to_string().into()),
            memory: Some(env.task_memory.to_string().into()),
            runtime_platform: Some(Val::from(ecs::task_definition::RuntimePlatform {
                cpu_architecture: Some(ecs::task_definition::CpuArchitecture::Arm64.into()),
                operating_system_family: Some(
                    ecs::task_definition::OperatingSystemFamily::Linux.into(),
                ),
            })),
            execution_role_arn: Some(execution.role_arn()),
            task_role_arn: Some(task_role.role_arn()),
            container_definitions: Some(Val::from(vec![container])),
            ..Default::default()
        },
    );

    let sg = scope.add(
        "NotificationSecurityGroup",
        ec2::SecurityGroup {
            group_description: Some(
                "Notification service tasks: HTTPS out, health checks from the VPC".into(),
            ),
            vpc_id: Some(net.vpc_id.clone()),
            security_group_ingress: Some(Val::from(vec![ec2::security_group::Ingress {
                description: Some("Health checks and admin endpoints from inside the VPC".into()),
                ip_protocol: Some("tcp".into()),
                from_port: Some(NOTIFICATION_PORT.into()),
                to_port: Some(NOTIFICATION_PORT.into()),
                cidr_ip: Some(net.vpc_cidr.clone()),
                ..Default::default()
            }])),
            security_group_egress: Some(Val::from(vec![
                ec2::security_group::Egress {
                    description: Some("AWS APIs and email/SMS providers over HTTPS".into()),
                    ip_protocol: Some("tcp".into()),
                    from_port: Some(443.into()),
                    to_port: Some(443.into()),
                    cidr_ip: Some("0.0.0.0/0".into()),
                    ..Default::default()
                },
                ec2::security_group::Egress {
                    description: Some("Redis in the VPC".into()),
                    ip_protocol: Some("tcp".into()),
                    from_port: Some(super::data::REDIS_PORT.into()),
                    to_port: Some(super::data::REDIS_PORT.into()),
                    cidr_ip: Some(net.vpc_cidr.clone()),
                    ..Default::default()
                },
            ])),
            ..Default::default()
        },
    );
    let service = scope.add(
        "NotificationService",
        ecs::Service {
            cluster: Some(cluster.ref_()),
            task_definition: Some(task.ref_()),
            launch_type: Some(ecs::service::LaunchType::Fargate.into()),
            desired_count: Some(i64::from(env.task_count).into()),
            network_configuration: Some(Val::from(ecs::service::NetworkConfiguration {
                awsvpc_configuration: Some(Val::from(ecs::service::AwsVpcConfiguration {
                    assign_public_ip: Some(ecs::service::AssignPublicIp::Disabled.into()),
                    subnets: Some(Val::from(net.private_subnets.clone())),
                    security_groups: Some(Val::from(vec![sg.attr_group_id()])),
                })),
            })),
            deployment_configuration: Some(Val::from(ecs::service::DeploymentConfiguration {
                deployment_circuit_breaker: Some(Val::from(
                    ecs::service::DeploymentCircuitBreaker {
                        enable: Some(true.into()),
                        rollback: Some(true.into()),
                    },
                )),
                minimum_healthy_percent: Some(100.into()),
                maximum_percent: Some(200.into()),
                ..Default::default()
            })),
            propagate_tags: Some(ecs::service::PropagateTags::Service.into()),
            enable_ecs_managed_tags: Some(true.into()),
            ..Default::default()
        },
    );
    Ok((cluster.ref_(), service.attr_name()))
}

fn eks_cluster(scope: &Scope, env: &Env, net: &Network) -> Result<Val<String>, ConstructError> {
    let name = format!("order-platform-{}", env.name.to_lowercase());
    // EKS writes control plane logs to `/aws/eks/<cluster>/cluster`; made here first, it gets retention and the
    // environment key instead of EKS's never-expiring default.
    LogGroup::new(
        scope,
        "EksControlPlaneLogGroup",
        LogGroupProps {
            log_group_name: Some(format!("/aws/eks/{name}/cluster").into()),
            retention: env.retention,
            encryption_key: Some(&net.key),
            ..Default::default()
        },
    )?;
    let cluster_role = Role::new(
        scope,
        "EksClusterRole",
        Principal::service("eks.amazonaws.com"),
        RoleProps {
            description: Some("The EKS control plane's role".to_owned()),
            managed_policy_arns: vec![managed_policy("AmazonEKSClusterPolicy")],
            ..Default::default()
        },
    )?;
    suppress_managed(
        &cluster_role,
        &["AmazonEKSClusterPolicy"],
        EKS_CLUSTER_POLICY_REASON,
    );
    // Envelope encryption of Kubernetes secrets with the environment key.
    net.key.grant(
        &cluster_role,
        &[
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:CreateGrant",
        ],
    );
    let control_plane_sg = scope.add(
        "EksControlPlaneSecurityGroup",
        ec2::SecurityGroup {
            group_description: Some(
                "EKS control plane: the private API endpoint, from inside the VPC".into(),
            ),
            vpc_id: Some(net.vpc_id.clone()),
            security_group_ingress: Some(Val::from(vec![ec2::security_group::Ingress {
                description: Some("Kubernetes API from the VPC".into()),
                ip_protocol: Some("tcp".into()),
                from_port: Some(443.into()),
                to_port: Some(443.into()),
                cidr_ip: Some(net.vpc_cidr.clone()),
                ..Default::default()
            }])),
            ..Default::default()
        },
    );
    let log_types = [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ];
    let cluster = scope.add(
        "EksCluster",
        eks::Cluster {
            name: Some(name.into()),
            version: Some(KUBERNETES_VERSION.into()),
            role_arn: Some(cluster_role.role_arn()),
            resources_vpc_config: Some(Val::from(eks::cluster::ResourcesVpcConfig {
                subnet_ids: Some(Val::from(net.private_subnets.clone())),
                security_group_ids: Some(Val::from(vec![control_plane_sg.attr_group_id()])),
                // The API is reachable from the VPC only (checkov CKV_AWS_38, CKV_AWS_39).
                endpoint_private_access: Some(true.into()),
                endpoint_public_access: Some(false.into()),
                ..Default::default()
            })),
            encryption_config: Some(Val::from(vec![eks::cluster::EncryptionConfig {
                provider: Some(Val::from(eks::cluster::Provider {
                    key_arn: Some(net.key.key_arn()),
                })),
                resources: Some(Val::from(vec!["secrets"])),
            }])),
            logging: Some(Val::from(eks::cluster::Logging {
                cluster_logging: Some(Val::from(eks::cluster::ClusterLogging {
                    enabled_types: Some(Val::from(
                        log_types
                            .iter()
                            .map(|t| eks::cluster::LoggingTypeConfig {
                                type_: Some(eks::cluster::Type::from(*t).into()),
                            })
                            .collect::<Vec<_>>(),
                    )),
                })),
            })),
            access_config: Some(Val::from(eks::cluster::AccessConfig {
                authentication_mode: Some(eks::cluster::AuthenticationMode::Api.into()),
                bootstrap_cluster_creator_admin_permissions: Some(true.into()),
            })),
            ..Default::default()
        },
    );

    let node_role = Role::new(
        scope,
        "EksNodeRole",
        Principal::service("ec2.amazonaws.com"),
        RoleProps {
            description: Some("The EKS worker nodes' role".to_owned()),
            managed_policy_arns: vec![
                managed_policy("AmazonEKSWorkerNodePolicy"),
                managed_policy("AmazonEKS_CNI_Policy"),
                managed_policy("AmazonEC2ContainerRegistryReadOnly"),
            ],
            ..Default::default()
        },
    )?;
    suppress_managed(
        &node_role,
        &[
            "AmazonEKSWorkerNodePolicy",
            "AmazonEKS_CNI_Policy",
            "AmazonEC2ContainerRegistryReadOnly",
        ],
        EKS_NODE_POLICIES_REASON,
    );
    let (min, desired, max) = env.eks_nodes;
    scope.add(
        "EksNodegroup",
        eks::Nodegroup {
            cluster_name: Some(cluster.ref_()),
            node_role: Some(node_role.role_arn()),
            subnets: Some(Val::from(net.private_subnets.clone())),
            instance_types: Some(Val::from(vec![env.eks_instance_type])),
            ami_type: Some(eks::nodegroup::AmiType::Al2023X86_64Standard.into()),
            capacity_type: Some(eks::nodegroup::CapacityType::OnDemand.into()),
            scaling_config: Some(Val::from(eks::nodegroup::ScalingConfig {
                min_size: Some(i64::from(min).into()),
                desired_size: Some(i64::from(desired).into()),
                max_size: Some(i64::from(max).into()),
            })),
            update_config: Some(Val::from(eks::nodegroup::UpdateConfig {
                max_unavailable: Some(1.into()),
                ..Default::default()
            })),
            ..Default::default()
        },
    );

    // IRSA: pods assume IAM roles through the cluster's OIDC issuer (the seed's "IRSA for pods").
    scope.add(
        "EksOidcProvider",
        cfnkit::l1::iam::OidcProvider {
            url: Some(cluster.attr_open_id_connect_issuer_url()),
            client_id_list: Some(Val::from(vec!["sts.amazonaws.com"])),
            ..Default::default()
        },
    );
    Ok(cluster.ref_())
}
