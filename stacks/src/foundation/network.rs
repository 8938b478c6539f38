//! `<Env>Network`: the environment's KMS key and its VPC: two AZs, a public and a private subnet in each, an
//! internet gateway for the public side, NAT for the private side (one gateway in dev, one per AZ in prod) and
//! flow logs of all traffic to an encrypted log group. L1 types (`cfnkit::l1::ec2`) throughout: there is no VPC
//! construct in cfnkit yet.

use cfnkit::constructs::kms::{Key, KeyProps};
use cfnkit::constructs::logs::{LogGroup, LogGroupProps};
use cfnkit::constructs::{ConstructError, PolicyStatement, Principal, Role, RoleProps};
use cfnkit::l1::ec2;
use cfnkit::{fns, App, Val};

use super::{Env, AZ_COUNT};

/// What the other stacks of the environment use from its network.
#[derive(Clone, Debug)]
pub struct Network {
    /// The environment's customer-managed key: databases, caches, logs, secrets and clusters are encrypted with
    /// it.
    pub key: Key,
    pub vpc_id: Val<String>,
    pub vpc_cidr: Val<String>,
    /// One per AZ, in AZ order.
    pub public_subnets: Vec<Val<String>>,
    /// One per AZ, in AZ order; everything that runs lives here.
    pub private_subnets: Vec<Val<String>>,
}

pub fn stack(app: &App, env: &Env) -> Result<Network, ConstructError> {
    let stack = app.stack(&env.stack_name("Network"));
    stack.set_description(format!(
        "Order platform ({}): environment key, VPC over two AZs with public and private subnets, NAT, flow logs",
        env.name
    ));
    let scope = stack.scope();
    let key = Key::new(
        &scope,
        "EnvKey",
        KeyProps {
            description: Some(format!("Order platform {} environment data key", env.name)),
            ..Default::default()
        },
    )?;

    let vpc = scope.add(
        "Vpc",
        ec2::Vpc {
            cidr_block: Some(env.vpc_cidr.into()),
            // Interface endpoints, RDS and ElastiCache endpoints resolve through the VPC's DNS.
            enable_dns_support: Some(true.into()),
            enable_dns_hostnames: Some(true.into()),
            ..Default::default()
        },
    );
    let vpc_id = vpc.ref_();
    // Four equal blocks of the VPC range: the first two public, the last two private.
    let blocks = fns::cidr(env.vpc_cidr, 4, 12);
    let az = |i: usize| fns::select(i as i64, fns::get_azs(""));

    let igw = scope.add("InternetGateway", ec2::InternetGateway::default());
    let attachment = scope.add(
        "InternetGatewayAttachment",
        ec2::VpcGatewayAttachment {
            vpc_id: Some(vpc_id.clone()),
            internet_gateway_id: Some(igw.ref_()),
            ..Default::default()
        },
    );
    let public_routes = scope.add(
        "PublicRouteTable",
        ec2::RouteTable {
            vpc_id: Some(vpc_id.clone()),
            ..Default::default()
        },
    );
    let default_route = scope.add(
        "PublicDefaultRoute",
        ec2::Route {
            route_table_id: Some(public_routes.ref_()),
            destination_cidr_block: Some("0.0.0.0/0".into()),
            gateway_id: Some(igw.ref_()),
            ..Default::default()
        },
    );
    // A route to the gateway is only valid once the gateway is attached.
    default_route.add_depends_on(&attachment);

    let mut public_subnets = Vec::new();
    let mut nats = Vec::new();
    for i in 0..AZ_COUNT {
        let n = i + 1;
        let subnet = scope.add(
            &format!("PublicSubnet{n}"),
            ec2::Subnet {
                vpc_id: Some(vpc_id.clone()),
                availability_zone: Some(az(i)),
                cidr_block: Some(fns::select(i as i64, blocks.clone())),
                // Only load balancers and NAT gateways live here, and they get their addresses explicitly
                // (checkov CKV_AWS_130).
                map_public_ip_on_launch: Some(false.into()),
                ..Default::default()
            },
        );
        scope.add(
            &format!("PublicSubnet{n}RouteTableAssociation"),
            ec2::SubnetRouteTableAssociation {
                subnet_id: Some(subnet.ref_()),
                route_table_id: Some(public_routes.ref_()),
            },
        );
        if i < env.nat_gateways {
            let eip = scope.add(
                &format!("NatGateway{n}Eip"),
                ec2::Eip {
                    domain: Some("vpc".into()),
                    ..Default::default()
                },
            );
            eip.add_depends_on(&attachment);
            let nat = scope.add(
                &format!("NatGateway{n}"),
                ec2::NatGateway {
                    subnet_id: Some(subnet.ref_()),
                    allocation_id: Some(eip.attr_allocation_id()),
                    ..Default::default()
                },
            );
            nats.push(nat.ref_());
        }
        public_subnets.push(subnet.ref_());
    }

    let mut private_subnets = Vec::new();
    for i in 0..AZ_COUNT {
        let n = i + 1;
        let subnet = scope.add(
            &format!("PrivateSubnet{n}"),
            ec2::Subnet {
                vpc_id: Some(vpc_id.clone()),
                availability_zone: Some(az(i)),
                cidr_block: Some(fns::select((AZ_COUNT + i) as i64, blocks.clone())),
                map_public_ip_on_launch: Some(false.into()),
                ..Default::default()
            },
        );
        // Each private subnet has its own route table, so that moving from one NAT gateway to one per AZ only
        // changes routes.
        let routes = scope.add(
            &format!("PrivateSubnet{n}RouteTable"),
            ec2::RouteTable {
                vpc_id: Some(vpc_id.clone()),
                ..Default::default()
            },
        );
        scope.add(
            &format!("PrivateSubnet{n}RouteTableAssociation"),
            ec2::SubnetRouteTableAssociation {
                subnet_id: Some(subnet.ref_()),
                route_table_id: Some(routes.ref_()),
            },
        );
        // With fewer gateways than AZs, the later AZs share the last gateway.
        let nat = nats[i.min(nats.len() - 1)].clone();
        scope.add(
            &format!("PrivateSubnet{n}DefaultRoute"),
            ec2::Route {
                route_table_id: Some(routes.ref_()),
                destination_cidr_block: Some("0.0.0.0/0".into()),
                nat_gateway_id: Some(nat),
                ..Default::default()
            },
        );
        private_subnets.push(subnet.ref_());
    }

    // Flow logs of accepted and rejected traffic, delivered by the VPC Flow Logs service under a role of its own.
    let flow_log_group = LogGroup::new(
        &scope,
        "FlowLogGroup",
        LogGroupProps {
            retention: env.retention,
            encryption_key: Some(&key),
            ..Default::default()
        },
    )?;
    let flow_log_role = Role::new(
        &scope,
        "FlowLogRole",
        Principal::service("vpc-flow-logs.amazonaws.com"),
        RoleProps {
            description: Some("Delivers the VPC's flow logs to its log group".to_owned()),
            ..Default::default()
        },
    )?;
    flow_log_group.grant_write(&flow_log_role);
    // The service checks the group and its streams before delivering.
    flow_log_role.add_to_policy(
        PolicyStatement::allow()
            .actions(["logs:DescribeLogStreams"])
            .resource(flow_log_group.log_group_arn()),
    );
    scope.add(
        "FlowLog",
        ec2::FlowLog {
            resource_id: Some(vpc_id.clone()),
            resource_type: Some(ec2::flow_log::ResourceType::Vpc.into()),
            traffic_type: Some(ec2::flow_log::TrafficType::All.into()),
            log_destination_type: Some(ec2::flow_log::LogDestinationType::CloudWatchLogs.into()),
            log_group_name: Some(flow_log_group.log_group_name()),
            deliver_logs_permission_arn: Some(flow_log_role.role_arn()),
            ..Default::default()
        },
    );

    Ok(Network {
        key,
        vpc_id,
        vpc_cidr: env.vpc_cidr.into(),
        public_subnets,
        private_subnets,
    })
}
