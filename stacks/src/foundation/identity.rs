//! `<Env>Identity`: the seed's users and the front door of its APIs. A Cognito user pool (the Auth and User
//! services' identities; the API authorizers check its tokens) with an app client for the platform's front
//! ends, and a regional WAF web ACL of AWS managed rule groups plus a per-IP rate limit, logging to an
//! encrypted log group.
//!
//! The REST API that the web ACL protects is the seed-003 Order API (`Order` stack), which is made before the
//! foundation and does not hand its stage to it, so the web ACL is not associated here: its ARN is exported
//! (`<Env>Identity:WebAcl:Arn`) for an `AWS::WAFv2::WebACLAssociation` next to the stage, and the user pool's
//! ARN (`<Env>Identity:UserPool:Arn`) for the API's Cognito authorizer.

use cfnkit::constructs::logs::{LogGroup, LogGroupProps};
use cfnkit::constructs::ConstructError;
use cfnkit::l1::{cognito, wafv2};
use cfnkit::{App, Val};

use super::network::Network;
use super::Env;

/// What the APIs use from identity: the user pool their authorizers trust and the web ACL for their stages.
#[derive(Clone, Debug)]
pub struct Identity {
    pub user_pool_arn: Val<String>,
    pub user_pool_client_id: Val<String>,
    pub web_acl_arn: Val<String>,
}

/// Requests one client IP may make in five minutes before WAF blocks it.
pub const RATE_LIMIT_PER_5_MIN: i64 = 2_000;

pub fn stack(app: &App, env: &Env, net: &Network) -> Result<Identity, ConstructError> {
    let stack = app.stack(&env.stack_name("Identity"));
    stack.set_description(format!(
        "Order platform ({}): Cognito user pool for the API authorizers, WAF web ACL for the API stages",
        env.name
    ));
    let scope = stack.scope();
    let prefix = format!("order-platform-{}", env.name.to_lowercase());

    let pool = scope.add(
        "UserPool",
        cognito::UserPool {
            username_attributes: Some(Val::from(vec!["email"])),
            auto_verified_attributes: Some(Val::from(vec!["email"])),
            username_configuration: Some(Val::from(cognito::user_pool::UsernameConfiguration {
                case_sensitive: Some(false.into()),
            })),
            policies: Some(Val::from(cognito::user_pool::Policies {
                password_policy: Some(Val::from(cognito::user_pool::PasswordPolicy {
                    minimum_length: Some(12.into()),
                    require_lowercase: Some(true.into()),
                    require_uppercase: Some(true.into()),
                    require_numbers: Some(true.into()),
                    require_symbols: Some(true.into()),
                    temporary_password_validity_days: Some(3.into()),
                    ..Default::default()
                })),
                ..Default::default()
            })),
            mfa_configuration: Some("OPTIONAL".into()),
            enabled_mfas: Some(Val::from(vec!["SOFTWARE_TOKEN_MFA"])),
            account_recovery_setting: Some(Val::from(cognito::user_pool::AccountRecoverySetting {
                recovery_mechanisms: Some(Val::from(vec![cognito::user_pool::RecoveryOption {
                    name: Some("verified_email".into()),
                    priority: Some(1.into()),
                }])),
            })),
            deletion_protection: Some("ACTIVE".into()),
            ..Default::default()
        },
    );
    // The users are the data: a replaced or deleted pool loses every account.
    pool.apply_removal_policy(cfnkit::RemovalPolicy::Retain);
    let client = scope.add(
        "UserPoolClient",
        cognito::UserPoolClient {
            user_pool_id: Some(pool.ref_()),
            // Browser and mobile front ends cannot keep a secret; SRP never sends the password.
            generate_secret: Some(false.into()),
            explicit_auth_flows: Some(Val::from(vec![
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ])),
            prevent_user_existence_errors: Some("ENABLED".into()),
            enable_token_revocation: Some(true.into()),
            access_token_validity: Some(60.into()),
            id_token_validity: Some(60.into()),
            refresh_token_validity: Some(30.into()),
            token_validity_units: Some(Val::from(cognito::user_pool_client::TokenValidityUnits {
                access_token: Some("minutes".into()),
                id_token: Some("minutes".into()),
                refresh_token: Some("days".into()),
            })),
            ..Default::default()
        },
    );

    let visibility = |metric: &str| {
        Val::from(wafv2::web_acl::VisibilityConfig {
            cloud_watch_metrics_enabled: Some(true.into()),
            sampled_requests_enabled: Some(true.into()),
            metric_name: Some(metric.into()),
        })
    };
    let managed = |priority: i64, name: &str| wafv2::web_acl::Rule {
        name: Some(name.into()),
        priority: Some(priority.into()),
        statement: Some(Val::from(wafv2::web_acl::Statement {
            managed_rule_group_statement: Some(Val::from(
                wafv2::web_acl::ManagedRuleGroupStatement {
                    vendor_name: Some("AWS".into()),
                    name: Some(name.into()),
                    ..Default::default()
                },
            )),
            ..Default::default()
        })),
        // The group's own actions apply.
        override_action: Some(Val::from(wafv2::web_acl::OverrideAction {
            none: Some(Val::from(serde_json::json!({}))),
            ..Default::default()
        })),
        visibility_config: Some(visibility(name)),
        ..Default::default()
    };
    let rate_limit = wafv2::web_acl::Rule {
        name: Some("RateLimitPerIp".into()),
        priority: Some(0.into()),
        statement: Some(Val::from(wafv2::web_acl::Statement {
            rate_based_statement: Some(Val::from(wafv2::web_acl::RateBasedStatement {
                limit: Some(RATE_LIMIT_PER_5_MIN.into()),
                aggregate_key_type: Some(wafv2::web_acl::AggregateKeyType::Ip.into()),
                ..Default::default()
            })),
            ..Default::default()
        })),
        action: Some(Val::from(wafv2::web_acl::RuleAction {
            block: Some(Val::from(wafv2::web_acl::BlockAction::default())),
            ..Default::default()
        })),
        visibility_config: Some(visibility("RateLimitPerIp")),
        ..Default::default()
    };
    let acl = scope.add(
        "WebAcl",
        wafv2::WebAcl {
            scope: Some(wafv2::web_acl::Scope::Regional.into()),
            description: Some(format!("Order platform {} API protection", env.name).into()),
            default_action: Some(Val::from(wafv2::web_acl::DefaultAction {
                allow: Some(Val::from(wafv2::web_acl::AllowAction::default())),
                ..Default::default()
            })),
            rules: Some(Val::from(vec![
                rate_limit,
                managed(1, "AWSManagedRulesAmazonIpReputationList"),
                managed(2, "AWSManagedRulesCommonRuleSet"),
                // Includes the Log4j (Log4Shell) rules checkov's CKV_AWS_192 asks for.
                managed(3, "AWSManagedRulesKnownBadInputsRuleSet"),
                managed(4, "AWSManagedRulesSQLiRuleSet"),
            ])),
            visibility_config: Some(visibility(&format!("{prefix}-web-acl"))),
            ..Default::default()
        },
    );
    // WAF only delivers to log groups whose name starts with `aws-waf-logs-`.
    let waf_logs = LogGroup::new(
        &scope,
        "WebAclLogGroup",
        LogGroupProps {
            log_group_name: Some(format!("aws-waf-logs-{prefix}").into()),
            retention: env.retention,
            encryption_key: Some(&net.key),
            ..Default::default()
        },
    )?;
    scope.add(
        "WebAclLogging",
        wafv2::LoggingConfiguration {
            resource_arn: Some(acl.attr_arn()),
            log_destination_configs: Some(Val::from(vec![waf_logs.log_group_arn()])),
            // Tokens are credentials: never written to the logs.
            redacted_fields: Some(Val::from(vec![
                wafv2::logging_configuration::FieldToMatch {
                    single_header: Some(Val::from(wafv2::logging_configuration::SingleHeader {
                        name: Some("authorization".into()),
                    })),
                    ..Default::default()
                },
            ])),
            ..Default::default()
        },
    );

    let identity = Identity {
        user_pool_arn: pool.attr_arn(),
        user_pool_client_id: client.ref_(),
        web_acl_arn: acl.attr_arn(),
    };
    // Exported even before anything imports them: the Order API attaches its authorizer and its web ACL by
    // these names (see the report in stacks/README.md, "Seed 004").
    stack.export_value(&identity.user_pool_arn);
    stack.export_value(&identity.web_acl_arn);
    Ok(identity)
}
