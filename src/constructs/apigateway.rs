//! API Gateway REST APIs: [`RestApi`] with resources by path, methods with Lambda proxy integrations, request
//! validation against [`Model`]s whose JSON Schema comes from a Rust type, authorizers, and a deployed stage
//! with access logs, execution logs, X-Ray tracing and throttling.
//!
//! ```
//! use cfnkit::constructs::apigateway::{Authorization, LambdaIntegration, MethodOptions, RestApi, RestApiProps};
//! use cfnkit::constructs::lambda::Function;
//! # fn main() -> Result<(), cfnkit::constructs::ConstructError> {
//! let app = cfnkit::App::new();
//! let stack = app.stack("Order");
//! let api = RestApi::new(&stack.scope(), "Api", RestApiProps::default())?;
//! let handler = Function::from_arn("OrderApi", "arn:aws:lambda:eu-west-1:111122223333:function:orders")?;
//! let request = api.add_model_schema(
//!     "CreateOrder",
//!     serde_json::json!({"type": "object", "required": ["customerId"]}),
//! )?;
//! api.add_method("POST", "/orders", LambdaIntegration::new(&handler, Default::default()), MethodOptions {
//!     request_model: Some(&request),
//!     ..Default::default()
//! })?;
//! api.add_method("GET", "/orders/{id}", LambdaIntegration::new(&handler, Default::default()), MethodOptions::default())?;
//! # Ok(()) }
//! ```
//!
//! # CORS
//!
//! [`RestApiProps::default_cors`] answers browser preflights on every resource, and
//! [`ApiResource::add_cors_preflight`] on one: an `OPTIONS` method with a MOCK integration returning the
//! `Access-Control-*` headers of a [`Cors`] (the type the HTTP API's `cors` takes too), plus DEFAULT_4XX and
//! DEFAULT_5XX gateway responses with the origin headers, so that a page can read the API's own errors. The
//! origins have no default: `Cors::new(["https://shop.example.com"])`. Those `OPTIONS` methods are the one
//! deliberate exception to "every method is authorized": a preflight carries no credentials, so they carry the
//! rule pack's APIG4 suppression and checkov's CKV_AWS_59 skip with [`PREFLIGHT_OPEN_REASON`]. (checkov 3.x
//! passes every `OPTIONS` method anyway; the rule pack does not, so an open `OPTIONS` method made with
//! [`RestApi::add_method`] needs its own reason.)
//!
//! ```
//! use cfnkit::constructs::apigateway::{
//!     Authorization, Cors, IdentitySource, LambdaIntegration, MethodOptions, RestApi, RestApiProps,
//! };
//! use cfnkit::constructs::lambda::Function;
//! # fn main() -> Result<(), cfnkit::constructs::ConstructError> {
//! let app = cfnkit::App::new();
//! let stack = app.stack("Order");
//! let api = RestApi::new(&stack.scope(), "Api", RestApiProps {
//!     default_cors: Some(Cors { allow_credentials: true, ..Cors::new(["https://shop.example.com"]) }),
//!     ..Default::default()
//! })?;
//! let auth = Function::from_arn("Auth", "arn:aws:lambda:eu-west-1:111122223333:function:auth")?;
//! let handler = Function::from_arn("OrderApi", "arn:aws:lambda:eu-west-1:111122223333:function:orders")?;
//! let tenants = api.add_request_authorizer(
//!     "Tenant",
//!     &auth,
//!     &[IdentitySource::Header("Authorization".into()), IdentitySource::QueryString("tenant".into())],
//!     None,
//! )?;
//! api.add_method("GET", "/orders", LambdaIntegration::new(&handler, Default::default()), MethodOptions {
//!     authorization: Authorization::Authorizer(&tenants),
//!     ..Default::default()
//! })?;
//! # Ok(()) }
//! ```
//!
//! # Lambda authorizers
//!
//! [`RestApi::add_token_authorizer`] (TOKEN: one header's token) and [`RestApi::add_request_authorizer`]
//! (REQUEST: headers, query string, stage variables and context, [`IdentitySource`]) are backed by a Lambda
//! function (a [`super::lambda::Function`] or any [`LambdaTarget`]); results are cached 5 minutes
//! ([`DEFAULT_AUTHORIZER_TTL`], as in CDK) unless told otherwise, and the function's permission names this API's
//! authorizers only. A method uses one with `Authorization::Authorizer(&authorizer)`, as with the Cognito
//! authorizer.
//!
//! # Deployment
//!
//! A REST API serves what was last *deployed*, and CloudFormation only makes a new `AWS::ApiGateway::Deployment`
//! when that resource changes. Like AWS CDK, the deployment's logical ID ends in a hash of every resource, method,
//! model, validator and authorizer of the API (`ApiDeployment3f9c...`), recomputed each time the API changes
//! through this module: a changed API gets a new deployment, the stage moves to it, and the old one is deleted.
//! A change made through an escape hatch (`resource_mut`, `add_property_override`) after the last change through
//! this module is not in the hash: call [`RestApi::redeploy`] afterwards.
//!
//! # Execution logs and the account's CloudWatch role
//!
//! Execution logs (cdk-nag APIG6) and access logs are written by API Gateway with a role set once per account
//! and region (`AWS::ApiGateway::Account`); a stage with logging fails to deploy when none is set.
//! [`CloudWatchRole`] says where it comes from: by default the API makes one (an [`ApiGatewayAccount`] under
//! `<api>/CloudWatchAccount`), which suits one REST API per account and region. With several, make one
//! [`ApiGatewayAccount`] (in a base stack) and pass it to each API, or say the account is already set up. The
//! role's policy cannot name its log groups (API Gateway makes one per API and stage), so it carries an IAM5
//! suppression with that reason; it uses no AWS managed policy (cdk-nag IAM4, unlike CDK's role).
//!
//! # What checkov asks that the defaults do not do
//!
//! - CKV_AWS_120 (stage caching): without [`RestApiProps::cache`] the stage has no cache cluster, and says so in
//!   `Metadata.checkov.skip` with the reason: a cache cluster is billed by the hour whether used or not, and
//!   cached answers would serve stale order state; turn it on where reads are safe to cache.
//! - CKV2_AWS_29 (a WAF web ACL on the stage) is a graph check of checkov's Terraform scanner; nothing of it runs
//!   on CloudFormation (checkov 3.3.30). A web ACL costs money per rule and request and needs rules chosen for
//!   the API, so none is made: [`Stage::associate_web_acl`] attaches one.

mod json_schema;
mod preflight;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use cfnkit_core::{RemovalPolicy, ResourceHandle, Val, Value};
use cfnkit_l1::apigateway as l1;
use cfnkit_l1::lambda as l1_lambda;
use l1::method::AuthorizationType;
use sha2::{Digest, Sha256};

pub use json_schema::{model_schema_of, to_draft04, SchemaError, DRAFT_04};
pub use preflight::PREFLIGHT_OPEN_REASON;

pub use super::cors::Cors;

use super::cloudwatch::{Metric, Statistic};
use super::iam::{Grant, Grantable, Principal, Role, RoleProps};
use super::kms::Key;
use super::logs::{LogGroup, LogGroupProps, Retention};
use super::{
    actions, human, path_of, seconds_in, Construct, ConstructError, LambdaTarget, OwnScope,
};
use crate::{fns, AsScope, Scope};

const APIGATEWAY_SERVICE: &str = "apigateway.amazonaws.com";

/// The HTTP methods a REST API method can have (`ANY` matches every method).
pub const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// The stage name used when [`RestApiProps::stage_name`] is not set.
pub const DEFAULT_STAGE_NAME: &str = "prod";

// ---------------------------------------------------------------------------------------------------------------
// Shared with the HTTP API module: access log formats, throttling, the Lambda integration URI, checkov skips.
// ---------------------------------------------------------------------------------------------------------------

/// How each request is written to the access log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AccessLogFormat {
    /// One JSON object per request with the request id, caller, method, path, status, latencies, the X-Ray trace
    /// id and any error message: what CloudWatch Logs Insights queries without parsing.
    #[default]
    JsonStandardFields,
    /// Any format of `$context` variables; it must contain `$context.requestId` (API Gateway refuses a format
    /// without it, and it is what ties an access log line to execution logs and traces).
    Custom(String),
}

/// The fields of [`AccessLogFormat::JsonStandardFields`] for REST APIs.
const REST_LOG_FIELDS: &[(&str, &str)] = &[
    ("requestId", "$context.requestId"),
    ("extendedRequestId", "$context.extendedRequestId"),
    ("ip", "$context.identity.sourceIp"),
    ("caller", "$context.identity.caller"),
    ("user", "$context.identity.user"),
    ("requestTime", "$context.requestTime"),
    ("httpMethod", "$context.httpMethod"),
    ("resourcePath", "$context.resourcePath"),
    ("status", "$context.status"),
    ("protocol", "$context.protocol"),
    ("responseLength", "$context.responseLength"),
    ("responseLatency", "$context.responseLatency"),
    ("integrationLatency", "$context.integrationLatency"),
    ("xrayTraceId", "$context.xrayTraceId"),
    ("errorMessage", "$context.error.message"),
    ("authorizerError", "$context.authorizer.error"),
];

impl AccessLogFormat {
    /// The format string, checked; `fields` are the standard fields of the API kind.
    pub(crate) fn render(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<String, ConstructError> {
        match self {
            AccessLogFormat::JsonStandardFields => {
                let object: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                    .collect();
                // Field order is the order above (serde_json keeps maps sorted otherwise): build by hand.
                let body = fields
                    .iter()
                    .map(|(k, _)| format!("\"{k}\":{}", object[*k]))
                    .collect::<Vec<_>>()
                    .join(",");
                Ok(format!("{{{body}}}"))
            }
            AccessLogFormat::Custom(f) if f.contains("$context.requestId") => Ok(f.clone()),
            AccessLogFormat::Custom(f) => Err(ConstructError::invalid(
                path,
                format!(
                    "the access log format must contain $context.requestId (API Gateway requires it), got {f:?}"
                ),
            )),
        }
    }
}

/// Stage-wide request throttling: a token bucket refilled at `rate_limit` requests per second holding at most
/// `burst_limit` requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throttling {
    /// Steady requests per second.
    pub rate_limit: f64,
    /// Requests that may arrive at once above the steady rate.
    pub burst_limit: u32,
}

impl Default for Throttling {
    /// 100 requests per second with bursts of 200: a runaway client hits this API's limit before it uses up the
    /// account-wide limit (10,000 per second) that every API of the account and region shares.
    fn default() -> Self {
        Throttling {
            rate_limit: 100.0,
            burst_limit: 200,
        }
    }
}

impl Throttling {
    pub(crate) fn check(&self, path: &str) -> Result<(), ConstructError> {
        if !(self.rate_limit.is_finite() && self.rate_limit > 0.0) || self.burst_limit == 0 {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "throttling needs a rate_limit above 0 requests per second and a burst_limit of at least 1, \
                     got rate_limit {} and burst_limit {}",
                    self.rate_limit, self.burst_limit
                ),
            ));
        }
        Ok(())
    }
}

/// The URI API Gateway invokes a Lambda function through (REST and HTTP APIs alike).
pub(crate) fn lambda_invocation_uri(function_arn: Val<String>) -> Val<String> {
    fns::sub_with(
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function}/invocations",
        [("Function", function_arn)],
    )
}

/// `arn:<partition>:execute-api:<region>:<account>:<api id>/<rest>`: what invoke permissions are scoped to.
pub(crate) fn execute_api_arn(api_id: Val<String>, rest: &str) -> Val<String> {
    fns::sub_with(
        format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{Api}}/{rest}"),
        [("Api", api_id)],
    )
}

/// A permission for API Gateway to invoke `function`, only from `source_arn`.
pub(crate) fn invoke_permission(
    scope: &Scope,
    id: &str,
    function: &(impl LambdaTarget + ?Sized),
    source_arn: Val<String>,
) -> l1_lambda::PermissionHandle {
    scope.add(
        id,
        l1_lambda::Permission {
            action: Some(actions::LAMBDA_INVOKE[0].into()),
            function_name: Some(function.function_arn()),
            principal: Some(APIGATEWAY_SERVICE.into()),
            source_arn: Some(source_arn),
            ..Default::default()
        },
    )
}

/// An access log group for an API stage: `<scope>/AccessLogs`, retained, with the given retention and key.
/// `key_prop` names the API's prop that gives the log group a customer-managed key, for the reason of the
/// checkov skip written without one.
pub(crate) fn access_log_group(
    scope: &Scope,
    retention: Retention,
    key: Option<&Key>,
    key_prop: &str,
) -> Result<LogGroup, ConstructError> {
    let group = LogGroup::new(
        scope,
        "AccessLogs",
        LogGroupProps {
            retention,
            encryption_key: key,
            ..Default::default()
        },
    )?;
    if key.is_none() {
        crate::rules::skip_checkov(
            group.handle(),
            "CKV_AWS_158",
            &super::logs::logs_key_reason(key_prop),
        );
    }
    Ok(group)
}

// ---------------------------------------------------------------------------------------------------------------
// The account's CloudWatch role.
// ---------------------------------------------------------------------------------------------------------------

/// Why the CloudWatch role's policy has a wildcard resource.
const CLOUDWATCH_ROLE_IAM5: &str = "API Gateway writes execution logs to a log group it creates per API and stage \
    (API-Gateway-Execution-Logs_<api id>/<stage>) and this role is shared by every API of the account and region, \
    so its log groups cannot be named in advance";

/// API Gateway's account settings (`AWS::ApiGateway::Account`) with the role it writes CloudWatch logs with.
///
/// One per account and region: every REST API of the region logs through it. The role (`<id>/Role`) is assumed
/// by `apigateway.amazonaws.com` and may write to this account's log groups in this region only. Both are
/// retained when they leave the stack, because other APIs may still log through them (and deleting an
/// `AWS::ApiGateway::Account` does not unset the role anyway).
#[derive(Clone, Debug)]
pub struct ApiGatewayAccount {
    handle: l1::AccountHandle,
    role: Role,
}

impl ApiGatewayAccount {
    /// The account settings at `<scope>/<id>` (logical ID `<Id>`), with the role `<Id>Role`.
    pub fn new(scope: &impl AsScope, id: &str) -> Result<ApiGatewayAccount, ConstructError> {
        let scope = scope.as_scope().child(id);
        let role = Role::new(
            &scope,
            "Role",
            Principal::service(APIGATEWAY_SERVICE),
            RoleProps {
                description: Some(
                    "API Gateway writes the execution and access logs of this region's APIs with this role".into(),
                ),
                ..Default::default()
            },
        )?;
        role.grant(
            actions::LOGS_APIGATEWAY_PUSH,
            [fns::sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*",
            )],
        );
        crate::rules::suppress_only(
            role.handle(),
            &crate::rules::IAM5,
            &["Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*"],
            CLOUDWATCH_ROLE_IAM5,
        );
        role.apply_removal_policy(RemovalPolicy::Retain);
        let handle: l1::AccountHandle = scope.add(
            "Resource",
            l1::Account {
                cloud_watch_role_arn: Some(role.role_arn()),
            },
        );
        handle.apply_removal_policy(RemovalPolicy::Retain);
        Ok(ApiGatewayAccount { handle, role })
    }
    /// The role API Gateway logs with.
    pub fn role(&self) -> &Role {
        &self.role
    }
}

impl Construct for ApiGatewayAccount {
    type L1 = l1::Account;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::AccountHandle {
        &self.handle
    }
}

/// Where the account's CloudWatch role for API Gateway logging comes from.
#[derive(Clone, Copy, Debug, Default)]
pub enum CloudWatchRole<'a> {
    /// The API makes an [`ApiGatewayAccount`] at `<api>/CloudWatchAccount`: right for one REST API per account
    /// and region.
    #[default]
    Create,
    /// An [`ApiGatewayAccount`] made once (in a base stack) and shared; the stage waits for it.
    Use(&'a ApiGatewayAccount),
    /// The account's API Gateway settings already have a CloudWatch role (set by hand or another tool).
    AccountConfigured,
}

// ---------------------------------------------------------------------------------------------------------------
// Props.
// ---------------------------------------------------------------------------------------------------------------

/// Where a REST API's endpoint lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointType {
    /// In the API's region: clients in the region (or a CloudFront distribution of your own) call it directly.
    #[default]
    Regional,
    /// Behind an API Gateway-managed CloudFront distribution.
    Edge,
    /// Reachable only from VPCs through an interface endpoint (needs a resource policy, set it through
    /// `resource_mut`).
    Private,
}

impl EndpointType {
    fn to_l1(self) -> l1::rest_api::Types {
        match self {
            EndpointType::Regional => l1::rest_api::Types::Regional,
            EndpointType::Edge => l1::rest_api::Types::Edge,
            EndpointType::Private => l1::rest_api::Types::Private,
        }
    }
}

/// What the stage writes to its execution log (CloudWatch Logs group `API-Gateway-Execution-Logs_<api>/<stage>`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoggingLevel {
    /// Errors and request flow (authorization, validation, integration calls).
    #[default]
    Info,
    /// Errors only.
    Error,
}

/// A stage cache (a cache cluster billed by the hour, its entries encrypted).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageCache {
    /// Cache size in GB: one of 0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237.
    pub size_gb: f64,
    /// How long an answer is cached (0 to 1 hour).
    pub ttl: Duration,
}

/// The cache sizes API Gateway offers, in GB.
const CACHE_SIZES: &[l1::stage::CacheClusterSize] = {
    use l1::stage::CacheClusterSize as Gb;
    &[
        Gb::V0_5,
        Gb::V1_6,
        Gb::V6_1,
        Gb::V13_5,
        Gb::V28_4,
        Gb::V58_2,
        Gb::V118,
        Gb::V237,
    ]
};

/// Props of a [`RestApi`].
#[derive(Clone, Debug)]
pub struct RestApiProps<'a> {
    /// The API name. Without it the API is named `<stack name>-<id>`, unique per stack and region.
    pub rest_api_name: Option<Val<String>>,
    /// What the API is for. Without it the API has no description.
    pub description: Option<String>,
    /// Where the endpoint lives. Without it the endpoint is regional.
    pub endpoint_type: EndpointType,
    /// The stage name (letters, digits, `-` and `_`). Without it [`DEFAULT_STAGE_NAME`], `prod`.
    pub stage_name: Option<String>,
    /// Stage-wide throttling. Without it 100 requests per second with bursts of 200 ([`Throttling::default`]).
    pub throttling: Throttling,
    /// What the execution log holds. Without it INFO (errors and request flow); request and response bodies
    /// are never logged (they carry customer data), turn `data_trace` on to debug.
    pub logging_level: LoggingLevel,
    /// Full request and response logging in the execution log. Off unless turned on.
    pub data_trace: bool,
    /// Detailed CloudWatch metrics per method. On unless turned off.
    pub detailed_metrics: bool,
    /// X-Ray tracing of requests. On unless turned off.
    pub tracing: bool,
    /// The access log line. Without it JSON with the standard fields ([`AccessLogFormat::JsonStandardFields`]).
    pub access_log_format: AccessLogFormat,
    /// How long the access log group (`<id>/AccessLogs`) keeps events. Without it one year.
    pub access_log_retention: Retention,
    /// A customer-managed key for the access log group. Without it CloudWatch Logs encrypts with its own keys
    /// (checkov's CKV_AWS_158 asks for a customer-managed key).
    pub access_log_encryption_key: Option<&'a Key>,
    /// A stage cache. Without it the stage has no cache cluster (see the module documentation for why).
    pub cache: Option<StageCache>,
    /// Where the account's CloudWatch role comes from. Without it the API makes one.
    pub cloud_watch_role: CloudWatchRole<'a>,
    /// CORS on every resource of the API, the root and each one added later (CDK's
    /// `defaultCorsPreflightOptions`; see [`ApiResource::add_cors_preflight`] for what is made). Without it no
    /// resource answers preflights unless given its own ([`ApiResource::add_cors_preflight`]), and browsers on
    /// other origins cannot call the API.
    pub default_cors: Option<Cors>,
}

impl Default for RestApiProps<'_> {
    fn default() -> Self {
        RestApiProps {
            rest_api_name: None,
            description: None,
            endpoint_type: EndpointType::Regional,
            stage_name: None,
            throttling: Throttling::default(),
            logging_level: LoggingLevel::Info,
            data_trace: false,
            detailed_metrics: true,
            tracing: true,
            access_log_format: AccessLogFormat::JsonStandardFields,
            access_log_retention: Retention::default(),
            access_log_encryption_key: None,
            cache: None,
            cloud_watch_role: CloudWatchRole::Create,
            default_cors: None,
        }
    }
}

/// [`RestApiProps`] as [`RestApiProps::validate`] accepted them.
struct CheckedRestApiProps {
    stage_name: String,
    access_log_format: String,
    /// The cache size and the time to live in seconds, when the stage has a cache.
    cache: Option<(l1::stage::CacheClusterSize, i64)>,
}

impl RestApiProps<'_> {
    /// Every check of the props, before anything is built: the stage name, throttling, CORS, the access log
    /// format, the cache size and time to live.
    fn validate(&self, path: &str) -> Result<CheckedRestApiProps, ConstructError> {
        let stage_name = self
            .stage_name
            .clone()
            .unwrap_or_else(|| DEFAULT_STAGE_NAME.to_owned());
        let stage_ok = !stage_name.is_empty()
            && stage_name.len() <= 128
            && stage_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !stage_ok {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "stage_name must be 1 to 128 letters, digits, `-` or `_`, got {stage_name:?}"
                ),
            ));
        }
        self.throttling.check(path)?;
        if let Some(c) = &self.default_cors {
            c.check(path)?;
        }
        let access_format = self.access_log_format.render(path, REST_LOG_FIELDS)?;
        let cache = self
            .cache
            .map(|c| {
                let size = CACHE_SIZES
                    .iter()
                    .find(|s| s.as_str().parse::<f64>().ok() == Some(c.size_gb))
                    .ok_or_else(|| {
                        ConstructError::invalid(
                            path,
                            format!(
                                "cache.size_gb must be one of {} GB, got {}",
                                CACHE_SIZES
                                    .iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                c.size_gb
                            ),
                        )
                    })?;
                let ttl = seconds_in(
                    path,
                    "cache.ttl",
                    c.ttl,
                    Duration::ZERO,
                    Duration::from_secs(3_600),
                )?;
                Ok::<_, ConstructError>((size.clone(), ttl))
            })
            .transpose()?;
        Ok(CheckedRestApiProps {
            stage_name,
            access_log_format: access_format,
            cache,
        })
    }

    /// The stage's settings for every method (`*` on `/*`): logging, metrics, throttling and the cache.
    fn all_methods(
        &self,
        cache: Option<&(l1::stage::CacheClusterSize, i64)>,
    ) -> l1::stage::MethodSetting {
        let mut all_methods = l1::stage::MethodSetting {
            http_method: Some("*".into()),
            resource_path: Some("/*".into()),
            logging_level: Some(
                match self.logging_level {
                    LoggingLevel::Info => l1::stage::LoggingLevel::Info,
                    LoggingLevel::Error => l1::stage::LoggingLevel::Error,
                }
                .into(),
            ),
            data_trace_enabled: Some(self.data_trace.into()),
            metrics_enabled: Some(self.detailed_metrics.into()),
            throttling_rate_limit: Some(self.throttling.rate_limit.into()),
            throttling_burst_limit: Some(i64::from(self.throttling.burst_limit).into()),
            ..Default::default()
        };
        if let Some((_, ttl)) = cache {
            all_methods.caching_enabled = Some(true.into());
            all_methods.cache_ttl_in_seconds = Some((*ttl).into());
            all_methods.cache_data_encrypted = Some(true.into());
        }
        all_methods
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The API.
// ---------------------------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ApiState {
    /// Resource paths (`/orders/{id}`) and the id to give methods; `/` is the root.
    resources: BTreeMap<String, Val<String>>,
    /// `(path, METHOD)` of every method.
    methods: BTreeSet<(String, String)>,
    /// Model names.
    models: BTreeSet<String>,
    /// Authorizer ids.
    authorizers: BTreeSet<String>,
    validator: Option<l1::RequestValidatorHandle>,
    /// CORS for every resource ([`RestApiProps::default_cors`]).
    default_cors: Option<Cors>,
    /// The CORS headers of the gateway responses, once the first preflight made them.
    gateway_cors: Option<BTreeMap<String, String>>,
    /// Every resource whose properties make up what gets deployed, for the deployment's hash.
    deployed: Vec<ResourceHandle>,
}

/// A REST API with a deployment and a stage.
///
/// - The API (`<id>`, logical ID `<Id>`) is regional by default.
/// - Resources are added by path (`/orders/{id}`) at `<id>/Default/orders/{id}` (logical ID `<Id>OrdersId`), and
///   methods at `<resource path>/<METHOD>` (`<Id>OrdersIdGET`), each method with its Lambda permission
///   (`<Id>OrdersIdGETPermission`) scoped to that method and path on this API's stage.
/// - Every method validates its request (parameters, and the body against its model when it has one) through one
///   request validator, `<Id>Validator` (cdk-nag APIG2); methods are authorized with IAM unless told otherwise
///   (APIG4).
/// - The stage (`<Id>Stage`) has access logs in JSON to `<Id>AccessLogs` (APIG1), INFO execution logs and
///   detailed metrics for every method (APIG6), X-Ray tracing and throttling; it serves the deployment
///   `<Id>Deployment<hash>` (see the module documentation).
///
/// API Gateway refuses to deploy an API without methods: add at least one before deploying.
#[derive(Clone, Debug)]
pub struct RestApi {
    scope: OwnScope,
    handle: l1::RestApiHandle,
    deployment: l1::DeploymentHandle,
    stage: Stage,
    access_logs: LogGroup,
    account: Option<ApiGatewayAccount>,
    name: Val<String>,
    state: Rc<RefCell<ApiState>>,
}

impl RestApi {
    /// A REST API at `<scope>/<id>` (logical ID `<Id>`), deployed to its stage.
    pub fn new(
        scope: &impl AsScope,
        id: &str,
        props: RestApiProps<'_>,
    ) -> Result<RestApi, ConstructError> {
        let scope = scope.as_scope().child(id);
        let checked = props.validate(scope.path())?;
        let all_methods = props.all_methods(checked.cache.as_ref());
        let name = props
            .rest_api_name
            .unwrap_or_else(|| fns::sub(format!("${{AWS::StackName}}-{id}")));
        let handle: l1::RestApiHandle = scope.add(
            "Resource",
            l1::RestApi {
                name: Some(name.clone()),
                description: props.description.map(Val::from),
                endpoint_configuration: Some(Val::from(l1::rest_api::EndpointConfiguration {
                    types: Some(Val::from(vec![props.endpoint_type.to_l1()])),
                    ..Default::default()
                })),
                ..Default::default()
            },
        );

        let deployment: l1::DeploymentHandle = scope.add(
            "Deployment",
            l1::Deployment {
                rest_api_id: Some(handle.ref_()),
                description: Some(
                    "Made by cfnkit's RestApi: replaced whenever the API changes".into(),
                ),
                ..Default::default()
            },
        );

        let account = match props.cloud_watch_role {
            CloudWatchRole::Create => Some(ApiGatewayAccount::new(&scope, "CloudWatchAccount")?),
            CloudWatchRole::Use(a) => Some(a.clone()),
            CloudWatchRole::AccountConfigured => None,
        };
        let access_logs = access_log_group(
            &scope,
            props.access_log_retention,
            props.access_log_encryption_key,
            "RestApiProps.access_log_encryption_key",
        )?;

        let cache = checked.cache;
        let stage_handle: l1::StageHandle = scope.add(
            "Stage",
            l1::Stage {
                rest_api_id: Some(handle.ref_()),
                deployment_id: Some(deployment.ref_()),
                stage_name: Some(checked.stage_name.clone().into()),
                tracing_enabled: Some(props.tracing.into()),
                access_log_setting: Some(Val::from(l1::stage::AccessLogSetting {
                    destination_arn: Some(access_logs.log_group_arn()),
                    format: Some(checked.access_log_format.into()),
                })),
                method_settings: Some(Val::from(vec![all_methods])),
                cache_cluster_enabled: cache.as_ref().map(|_| true.into()),
                cache_cluster_size: cache.clone().map(|(size, _)| size.into()),
                ..Default::default()
            },
        );
        if let Some(a) = &account {
            // A stage with logging is refused until the account has its CloudWatch role.
            stage_handle.add_depends_on(a.handle());
        }
        if cache.is_none() {
            crate::rules::skip_checkov(
                &stage_handle,
                "CKV_AWS_120",
                "no stage cache by default: a cache cluster is billed by the hour whether used or not, and cached \
                 answers could serve stale state; set RestApiProps.cache where reads are safe to cache",
            );
        }
        let root_id = handle.attr_root_resource_id();
        let api = RestApi {
            stage: Stage {
                scope: OwnScope(scope.clone()),
                handle: stage_handle,
                api_id: handle.ref_(),
                name: checked.stage_name,
                api_name: name.clone(),
            },
            scope: OwnScope(scope),
            handle,
            deployment,
            access_logs,
            account,
            name,
            state: Rc::new(RefCell::new(ApiState {
                resources: BTreeMap::from([("/".to_owned(), root_id)]),
                methods: BTreeSet::new(),
                models: BTreeSet::new(),
                authorizers: BTreeSet::new(),
                validator: None,
                default_cors: props.default_cors.clone(),
                gateway_cors: None,
                deployed: Vec::new(),
            })),
        };
        api.redeploy();
        if let Some(c) = props.default_cors {
            api.root().add_cors_preflight(c)?;
        }
        Ok(api)
    }

    /// The root resource (`/`).
    pub fn root(&self) -> ApiResource {
        ApiResource {
            api: self.clone(),
            path: "/".to_owned(),
        }
    }

    /// The resource at `path` (`/orders/{id}`), made with every missing parent.
    pub fn resource_for_path(&self, path: &str) -> Result<ApiResource, ConstructError> {
        let parts = split_path(self.path(), path)?;
        let mut resource = self.root();
        for part in parts {
            let child = resource.child_path(part);
            resource = if self.state.borrow().resources.contains_key(&child) {
                ApiResource {
                    api: self.clone(),
                    path: child,
                }
            } else {
                resource.add_resource(part)?
            };
        }
        Ok(resource)
    }

    /// Adds `http_method` on `path` (made with its parents when missing), integrated with `integration`: a
    /// [`LambdaIntegration`], or `&function` for one with its defaults.
    pub fn add_method(
        &self,
        http_method: &str,
        path: &str,
        integration: impl Into<LambdaIntegration>,
        options: MethodOptions<'_>,
    ) -> Result<Method, ConstructError> {
        self.resource_for_path(path)?
            .add_method(http_method, integration, options)
    }

    /// A request model (`<id>/<Name>Model`) whose schema is the JSON Schema of `T`, converted to draft-04
    /// ([`model_schema_of`]); it is named after the type (`CreateOrderRequest`).
    pub fn add_model<T: schemars::JsonSchema>(&self) -> Result<Model, ConstructError> {
        let name: String = T::schema_name()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let schema = model_schema_of::<T>().map_err(|e| {
            ConstructError::invalid(
                self.path(),
                format!("the schema of model {name} cannot be a model: {e}"),
            )
        })?;
        self.add_checked_model(&name, schema)
    }

    /// A request model (`<id>/<name>Model`) from a JSON Schema (any draft; converted to draft-04 with
    /// [`to_draft04`]). `name` must be letters and digits.
    pub fn add_model_schema(
        &self,
        name: &str,
        schema: serde_json::Value,
    ) -> Result<Model, ConstructError> {
        let schema = to_draft04(&schema).map_err(|e| {
            ConstructError::invalid(
                self.path(),
                format!("the schema of model {name} cannot be a model: {e}"),
            )
        })?;
        self.add_checked_model(name, schema)
    }

    fn add_checked_model(
        &self,
        name: &str,
        schema: serde_json::Value,
    ) -> Result<Model, ConstructError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConstructError::invalid(
                self.path(),
                format!(
                    "a model name must be letters and digits (API Gateway's rule), got {name:?}"
                ),
            ));
        }
        if !schema.is_object() {
            return Err(ConstructError::invalid(
                self.path(),
                format!("the schema of model {name} must be a JSON object, got {schema}"),
            ));
        }
        if !self.state.borrow_mut().models.insert(name.to_owned()) {
            return Err(ConstructError::conflict(
                self.path(),
                format!("a model named {name} already exists: give the second one another name"),
            ));
        }
        let handle: l1::ModelHandle = self.scope.add(
            &format!("{name}Model"),
            l1::Model {
                rest_api_id: Some(self.rest_api_id()),
                name: Some(name.into()),
                content_type: Some("application/json".into()),
                schema: Some(Val::from(schema.clone())),
                ..Default::default()
            },
        );
        self.track(&handle);
        Ok(Model {
            handle,
            name: name.to_owned(),
            schema,
        })
    }

    /// A Cognito user pool authorizer (`<id>/<authorizer id>`) accepting the ID or access tokens of these pools in
    /// the `Authorization` header. `user_pool_arns` may come from an L1 user pool (`pool.attr_arn()`).
    pub fn add_cognito_authorizer(
        &self,
        id: &str,
        user_pool_arns: impl IntoIterator<Item = Val<String>>,
    ) -> Result<Authorizer, ConstructError> {
        let arns: Vec<Val<String>> = user_pool_arns.into_iter().collect();
        if arns.is_empty() {
            return Err(ConstructError::invalid(
                self.path(),
                format!("Cognito authorizer {id} needs at least one user pool ARN"),
            ));
        }
        self.new_authorizer(id)?;
        let handle: l1::AuthorizerHandle = self.scope.add(
            id,
            l1::Authorizer {
                rest_api_id: Some(self.rest_api_id()),
                name: Some(id.into()),
                type_: Some(l1::authorizer::Type::CognitoUserPools.into()),
                provider_arns: Some(Val::from_raw(Value::List(
                    arns.into_iter().map(Val::into_raw).collect(),
                ))),
                identity_source: Some("method.request.header.Authorization".into()),
                ..Default::default()
            },
        );
        self.track(&handle);
        Ok(Authorizer {
            handle,
            kind: AuthorizerKind::Cognito,
        })
    }

    /// A Lambda token authorizer (`<id>/<authorizer id>`, type TOKEN): `function` gets the token of
    /// `identity_header` and answers with a policy, cached per token for `results_cache_ttl` (0 to 1 hour; 0 turns
    /// caching off; without it 5 minutes, as in CDK). The function may be invoked by this API's authorizers only
    /// (`<id>/<authorizer id>Permission`). Methods use it with `Authorization::Authorizer(&authorizer)`.
    pub fn add_token_authorizer(
        &self,
        id: &str,
        function: &(impl LambdaTarget + ?Sized),
        identity_header: &str,
        results_cache_ttl: Option<Duration>,
    ) -> Result<Authorizer, ConstructError> {
        let source = IdentitySource::Header(identity_header.to_owned())
            .render()
            .map_err(|m| ConstructError::invalid(self.path(), format!("identity_header: {m}")))?;
        let ttl = self.authorizer_ttl(results_cache_ttl)?;
        self.lambda_authorizer(id, function, AuthorizerKind::Token, source, ttl)
    }

    /// A Lambda request authorizer (`<id>/<authorizer id>`, type REQUEST): `function` gets the whole request's
    /// headers, query string, stage variables and context and answers with a policy, cached for
    /// `results_cache_ttl` (0 to 1 hour; 0 turns caching off; without it 5 minutes, as in CDK) per combination of
    /// the `identity_sources`, which API Gateway also requires to be present before it calls the function (a
    /// request without them gets 401). With caching on at least one identity source is needed (the cache key).
    /// The function may be invoked by this API's authorizers only (`<id>/<authorizer id>Permission`).
    pub fn add_request_authorizer(
        &self,
        id: &str,
        function: &(impl LambdaTarget + ?Sized),
        identity_sources: &[IdentitySource],
        results_cache_ttl: Option<Duration>,
    ) -> Result<Authorizer, ConstructError> {
        let sources = identity_sources
            .iter()
            .map(IdentitySource::render)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| {
                ConstructError::invalid(self.path(), format!("identity_sources of {id}: {m}"))
            })?;
        let ttl = self.authorizer_ttl(results_cache_ttl)?;
        if ttl > 0 && sources.is_empty() {
            return Err(ConstructError::invalid(
                self.path(),
                format!(
                    "request authorizer {id} caches results for {} but has no identity_sources: API Gateway keys \
                     the cache on them, so give at least one (IdentitySource::Header(\"Authorization\".into())) or \
                     set results_cache_ttl to Some(Duration::ZERO)",
                    human(Duration::from_secs(ttl as u64))
                ),
            ));
        }
        self.lambda_authorizer(
            id,
            function,
            AuthorizerKind::Request,
            sources.join(","),
            ttl,
        )
    }

    /// The result cache time of a Lambda authorizer in seconds: 5 minutes unless given, at most an hour.
    fn authorizer_ttl(&self, ttl: Option<Duration>) -> Result<i64, ConstructError> {
        seconds_in(
            self.path(),
            "results_cache_ttl",
            ttl.unwrap_or(DEFAULT_AUTHORIZER_TTL),
            Duration::ZERO,
            Duration::from_secs(3_600),
        )
    }

    /// A TOKEN or REQUEST authorizer backed by `function`, with the permission for this API's authorizers to
    /// invoke it.
    fn lambda_authorizer(
        &self,
        id: &str,
        function: &(impl LambdaTarget + ?Sized),
        kind: AuthorizerKind,
        identity_source: String,
        ttl: i64,
    ) -> Result<Authorizer, ConstructError> {
        self.new_authorizer(id)?;
        let handle: l1::AuthorizerHandle = self.scope.add(
            id,
            l1::Authorizer {
                rest_api_id: Some(self.rest_api_id()),
                name: Some(id.into()),
                type_: Some(
                    match kind {
                        AuthorizerKind::Request => l1::authorizer::Type::Request,
                        _ => l1::authorizer::Type::Token,
                    }
                    .into(),
                ),
                authorizer_uri: Some(lambda_invocation_uri(function.function_arn())),
                identity_source: (!identity_source.is_empty()).then(|| identity_source.into()),
                authorizer_result_ttl_in_seconds: Some(ttl.into()),
                ..Default::default()
            },
        );
        invoke_permission(
            &self.scope,
            &format!("{id}Permission"),
            function,
            fns::sub_with(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/authorizers/${Authorizer}",
                [("Api", self.rest_api_id()), ("Authorizer", handle.ref_())],
            ),
        );
        self.track(&handle);
        Ok(Authorizer { handle, kind })
    }

    fn new_authorizer(&self, id: &str) -> Result<(), ConstructError> {
        if !self.state.borrow_mut().authorizers.insert(id.to_owned()) {
            return Err(ConstructError::conflict(
                self.path(),
                format!("an authorizer {id} already exists: give the second one another id"),
            ));
        }
        Ok(())
    }

    /// The request validator every method uses (`<id>/Validator`), made with the first method: it validates
    /// required parameters and, where the method has a model, the body.
    fn validator(&self) -> Val<String> {
        if let Some(v) = &self.state.borrow().validator {
            return v.ref_();
        }
        let v: l1::RequestValidatorHandle = self.scope.add(
            "Validator",
            l1::RequestValidator {
                rest_api_id: Some(self.rest_api_id()),
                validate_request_body: Some(true.into()),
                validate_request_parameters: Some(true.into()),
                ..Default::default()
            },
        );
        self.track(&v);
        let r = v.ref_();
        self.state.borrow_mut().validator = Some(v);
        r
    }

    fn track(&self, handle: &ResourceHandle) {
        self.state.borrow_mut().deployed.push(handle.clone());
        self.redeploy();
    }

    /// Renames the deployment after a hash of the API's resources, methods, models, validators and authorizers
    /// as they are now, so that CloudFormation deploys the API again when they changed. Called by every change
    /// made through this module; call it after changing one of them through an escape hatch.
    pub fn redeploy(&self) {
        let mut hasher = Sha256::new();
        for h in &self.state.borrow().deployed {
            let entry = h.entry();
            // Properties render deterministically (sorted maps, references by construct path).
            hasher.update(format!("{}\n{:?}\n", h.path(), entry.resource.properties()).as_bytes());
            hasher.update(format!("{:?}\n", entry.overrides).as_bytes());
        }
        let digest = hasher.finalize();
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let base = crate::synth::logical_id::from_path(self.deployment.path());
        self.deployment.override_logical_id(format!("{base}{hash}"));
    }

    /// Lets the grantee call `http_method` (or `*`) on `path` (`/orders/{id}`, or `/*`) of the stage: what
    /// callers of IAM-authorized methods need.
    pub fn grant_invoke(
        &self,
        grantee: &(impl Grantable + ?Sized),
        http_method: &str,
        path: &str,
    ) -> Grant {
        grantee.grant_role().grant(
            actions::EXECUTE_API_INVOKE,
            [self.arn_for_execute_api(http_method, path)],
        )
    }

    /// `arn:...:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>` with path parameters as `*`:
    /// what IAM policies and Lambda permissions name a method by. `http_method` may be `*` (and `ANY` is `*`).
    pub fn arn_for_execute_api(&self, http_method: &str, path: &str) -> Val<String> {
        let method = match http_method {
            "ANY" => "*".to_owned(),
            m => m.to_ascii_uppercase(),
        };
        execute_api_arn(
            self.rest_api_id(),
            &format!("{}/{method}{}", self.stage.name, arn_path(path)),
        )
    }

    /// The stage URL: `https://<api id>.execute-api.<region>.<url suffix>/<stage>/`.
    pub fn url(&self) -> Val<String> {
        fns::sub_with(
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}/",
            [
                ("Api", self.rest_api_id()),
                ("Stage", self.stage.handle.ref_()),
            ],
        )
    }
    /// The API id.
    pub fn rest_api_id(&self) -> Val<String> {
        self.handle.ref_()
    }
    /// The API's name (the `ApiName` dimension of its metrics).
    pub fn rest_api_name(&self) -> Val<String> {
        self.name.clone()
    }
    /// The id of the root resource (`/`).
    pub fn root_resource_id(&self) -> Val<String> {
        self.handle.attr_root_resource_id()
    }
    /// The stage the API is deployed to.
    pub fn deployment_stage(&self) -> &Stage {
        &self.stage
    }
    /// The deployment (its logical ID changes with the API).
    pub fn deployment(&self) -> &l1::DeploymentHandle {
        &self.deployment
    }
    /// The access log group.
    pub fn access_log_group(&self) -> &LogGroup {
        &self.access_logs
    }
    /// The account settings with the CloudWatch role, unless the account was said to be configured already.
    pub fn cloud_watch_account(&self) -> Option<&ApiGatewayAccount> {
        self.account.as_ref()
    }
    /// A metric of the API's stage (`AWS/ApiGateway`, dimensions `ApiName` and `Stage`).
    pub fn metric(&self, metric_name: &str) -> Metric {
        self.stage.metric(metric_name)
    }
    /// `5XXError`: requests that failed on the server side (sum over 5 minutes).
    pub fn metric_5xx_error(&self) -> Metric {
        self.metric("5XXError").statistic(Statistic::Sum)
    }
    /// `4XXError`: requests refused as the client's fault (sum over 5 minutes).
    pub fn metric_4xx_error(&self) -> Metric {
        self.metric("4XXError").statistic(Statistic::Sum)
    }
    /// `Count`: requests (sum over 5 minutes).
    pub fn metric_count(&self) -> Metric {
        self.metric("Count").statistic(Statistic::Sum)
    }
    /// `Latency`: time from request to response, p99 over 5 minutes.
    pub fn metric_latency(&self) -> Metric {
        self.metric("Latency")
            .statistic(Statistic::Percentile(99.0))
    }
}

impl Construct for RestApi {
    type L1 = l1::RestApi;
    fn path(&self) -> &str {
        self.scope.path()
    }
    fn handle(&self) -> &l1::RestApiHandle {
        &self.handle
    }
}

/// `/orders/{id}` as it appears in execute-api ARNs: `/orders/*`.
pub(crate) fn arn_path(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| if p.starts_with('{') { "*" } else { p })
        .collect();
    if parts.is_empty() {
        "/".to_owned()
    } else {
        format!("/{}", parts.join("/"))
    }
}

/// The parts of a resource path, checked: `/orders/{id}` is `["orders", "{id}"]`.
fn split_path<'p>(api: &str, path: &'p str) -> Result<Vec<&'p str>, ConstructError> {
    if !path.starts_with('/') || path.contains("//") || (path.len() > 1 && path.ends_with('/')) {
        return Err(ConstructError::invalid(
            api,
            format!("a resource path starts with `/` and has no empty part (`/orders/{{id}}`), got {path:?}"),
        ));
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        check_path_part(part, i + 1 == parts.len())
            .map_err(|m| ConstructError::invalid(api, format!("{m} in path {path:?}")))?;
    }
    Ok(parts)
}

/// A path part: letters, digits, `.`, `_`, `-`, or a parameter `{name}` (`{name+}`, greedy, only last).
pub(crate) fn check_path_part(part: &str, last: bool) -> Result<(), String> {
    let literal = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        let (name, greedy) = match inner.strip_suffix('+') {
            Some(n) => (n, true),
            None => (inner, false),
        };
        if !literal(name) {
            return Err(format!(
                "path parameter {part:?} must be `{{name}}` with letters, digits, `.`, `_` or `-`"
            ));
        }
        if greedy && !last {
            return Err(format!(
                "greedy path parameter {part:?} must be the last part"
            ));
        }
        return Ok(());
    }
    if literal(part) {
        Ok(())
    } else {
        Err(format!(
            "path part {part:?} must be letters, digits, `.`, `_`, `-` or a parameter `{{name}}`"
        ))
    }
}

/// The path parameters of a resource path: `/orders/{id}/lines/{line}` has `id` and `line`.
fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|p| p.trim_end_matches('+').to_owned())
        .collect()
}

/// A resource of a [`RestApi`] (a path), to add children and methods to.
#[derive(Clone, Debug)]
pub struct ApiResource {
    api: RestApi,
    path: String,
}

impl ApiResource {
    fn child_path(&self, part: &str) -> String {
        if self.path == "/" {
            format!("/{part}")
        } else {
            format!("{}/{part}", self.path)
        }
    }

    /// The construct scope of this resource: `<api>/Default/<part>/<part>...`.
    fn scope(&self) -> Scope {
        let mut scope = self.api.scope.child("Default");
        for part in self.path.split('/').filter(|p| !p.is_empty()) {
            scope = scope.child(part);
        }
        scope
    }

    /// Adds the child resource `part` (`orders`, or a parameter `{id}`).
    pub fn add_resource(&self, part: &str) -> Result<ApiResource, ConstructError> {
        let api_path = self.api.path().to_owned();
        let child = self.child_path(part);
        check_path_part(part, true).map_err(|m| {
            ConstructError::invalid(&api_path, format!("{m} under {:?}", self.path))
        })?;
        {
            let state = self.api.state.borrow();
            if state.resources.contains_key(&child) {
                return Err(ConstructError::conflict(
                    &api_path,
                    format!("resource {child} already exists: use api.resource_for_path({child:?}) to get it"),
                ));
            }
            if part.starts_with('{') {
                let prefix = self.child_path("{");
                if let Some(sibling) = state
                    .resources
                    .keys()
                    .find(|k| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
                {
                    return Err(ConstructError::conflict(
                        &api_path,
                        format!(
                            "{child} and {sibling} are both path parameters under {}: API Gateway allows one, \
                             so use the same parameter name",
                            self.path
                        ),
                    ));
                }
            }
        }
        let parent_id = self.api.state.borrow().resources[&self.path].clone();
        let scope = self.scope().child(part);
        let handle: l1::ResourceResourceHandle = scope.add(
            "Resource",
            l1::ResourceResource {
                rest_api_id: Some(self.api.rest_api_id()),
                parent_id: Some(parent_id),
                path_part: Some(part.into()),
            },
        );
        self.api
            .state
            .borrow_mut()
            .resources
            .insert(child.clone(), handle.ref_());
        self.api.track(&handle);
        let resource = ApiResource {
            api: self.api.clone(),
            path: child,
        };
        let default_cors = self.api.state.borrow().default_cors.clone();
        if let Some(c) = default_cors {
            resource.add_cors_preflight(c)?;
        }
        Ok(resource)
    }

    /// Adds the method `http_method` (`GET`, `POST`... or `ANY`) to this resource, integrated with `integration`
    /// (a [`LambdaIntegration`], or `&function` for one with its defaults).
    pub fn add_method(
        &self,
        http_method: &str,
        integration: impl Into<LambdaIntegration>,
        options: MethodOptions<'_>,
    ) -> Result<Method, ConstructError> {
        let api_path = self.api.path().to_owned();
        let method = http_method.to_ascii_uppercase();
        if !HTTP_METHODS.contains(&method.as_str()) {
            return Err(ConstructError::invalid(
                &api_path,
                format!(
                    "http_method must be one of {}, got {http_method:?}",
                    HTTP_METHODS.join(", ")
                ),
            ));
        }
        if self
            .api
            .state
            .borrow()
            .methods
            .contains(&(self.path.clone(), method.clone()))
        {
            return Err(ConstructError::conflict(
                &api_path,
                format!("method {method} {} already exists: each resource has one method per HTTP method", self.path),
            ));
        }
        let integration = integration.into();
        let timeout = integration.props.validate(&api_path)?;
        let (auth_type, authorizer_id) = match options.authorization {
            Authorization::None => (AuthorizationType::None, None),
            Authorization::Iam => (AuthorizationType::AwsIam, None),
            Authorization::Authorizer(a) => (
                match a.kind {
                    AuthorizerKind::Cognito => AuthorizationType::CognitoUserPools,
                    AuthorizerKind::Token | AuthorizerKind::Request => AuthorizationType::Custom,
                },
                Some(a.authorizer_id()),
            ),
        };
        if !options.authorization_scopes.is_empty()
            && auth_type != AuthorizationType::CognitoUserPools
        {
            return Err(ConstructError::conflict(
                &api_path,
                format!(
                    "authorization_scopes of {method} {} need a Cognito authorizer \
                     (Authorization::Authorizer(&cognito_authorizer)), got {}",
                    self.path,
                    auth_type.as_str()
                ),
            ));
        }
        if options.request_model.is_some() && matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS")
        {
            return Err(ConstructError::conflict(
                &api_path,
                format!(
                    "{method} {} has no body to validate: drop request_model",
                    self.path
                ),
            ));
        }
        // Only the API's request validator checks a body model and required parameters: without it they would be
        // written and never enforced.
        let unchecked: Vec<&str> = [
            ("request_model", options.request_model.is_some()),
            (
                "required_query_strings",
                !options.required_query_strings.is_empty(),
            ),
            ("required_headers", !options.required_headers.is_empty()),
        ]
        .into_iter()
        .filter_map(|(prop, set)| set.then_some(prop))
        .collect();
        if !options.validate_request && !unchecked.is_empty() {
            return Err(ConstructError::conflict(
                &api_path,
                format!(
                    "{method} {} sets {} but MethodOptions::validate_request is off, so nothing would check \
                     them: turn validate_request on (the default) or drop them",
                    self.path,
                    unchecked.join(", ")
                ),
            ));
        }
        let mut params: BTreeMap<String, bool> = path_parameters(&self.path)
            .into_iter()
            .map(|p| (format!("method.request.path.{p}"), true))
            .collect();
        for q in &options.required_query_strings {
            params.insert(format!("method.request.querystring.{q}"), true);
        }
        for h in &options.required_headers {
            params.insert(format!("method.request.header.{h}"), true);
        }

        let scope = self.scope().child(&method);
        let resource_id = self.api.state.borrow().resources[&self.path].clone();
        let l1_method = l1::Method {
            rest_api_id: Some(self.api.rest_api_id()),
            resource_id: Some(resource_id),
            http_method: Some(method.clone().into()),
            authorization_type: Some(auth_type.into()),
            authorizer_id,
            authorization_scopes: (!options.authorization_scopes.is_empty())
                .then(|| Val::from(options.authorization_scopes.clone())),
            api_key_required: options.api_key_required.then(|| true.into()),
            operation_name: options.operation_name.clone().map(Val::from),
            request_parameters: (!params.is_empty()).then(|| Val::from(params)),
            request_models: options.request_model.map(|m| {
                Val::from_raw(Value::map([(
                    "application/json",
                    m.handle.ref_().into_raw(),
                )]))
            }),
            request_validator_id: options.validate_request.then(|| self.api.validator()),
            integration: Some(Val::from(l1::method::Integration {
                type_: Some(l1::method::Type::AwsProxy.into()),
                // Lambda is always invoked with POST, whatever the client's method.
                integration_http_method: Some("POST".into()),
                uri: Some(lambda_invocation_uri(integration.function_arn.clone())),
                timeout_in_millis: timeout.map(Val::from),
                ..Default::default()
            })),
            ..Default::default()
        };
        let handle: l1::MethodHandle = scope.add("Resource", l1_method);
        invoke_permission(
            &scope,
            "Permission",
            &ArnTarget(integration.function_arn.clone()),
            self.api.arn_for_execute_api(&method, &self.path),
        );
        self.api
            .state
            .borrow_mut()
            .methods
            .insert((self.path.clone(), method.clone()));
        // A deployment of an API without its methods fails: the deployment waits for every method.
        self.api.deployment.add_depends_on(&handle);
        self.api.track(&handle);
        Ok(Method {
            handle,
            http_method: method,
            resource_path: self.path.clone(),
        })
    }

    /// The resource path (`/orders/{id}`).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The resource id, for methods made through the escape hatch.
    pub fn resource_id(&self) -> Val<String> {
        self.api.state.borrow().resources[&self.path].clone()
    }
}

/// A function ARN as a [`LambdaTarget`], for the permission helper.
pub(crate) struct ArnTarget(pub(crate) Val<String>);

impl LambdaTarget for ArnTarget {
    fn function_arn(&self) -> Val<String> {
        self.0.clone()
    }
    fn target_id(&self) -> String {
        String::new()
    }
}

/// Props of a [`LambdaIntegration`].
#[derive(Clone, Debug, Default)]
pub struct LambdaIntegrationProps {
    /// How long API Gateway waits for the function (50 milliseconds to 29 seconds). Without it 29 seconds.
    pub timeout: Option<Duration>,
}

impl LambdaIntegrationProps {
    /// Every check of the props (errors name the API at `path`); returns the timeout in milliseconds.
    fn validate(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        match self.timeout {
            Some(d) if d < Duration::from_millis(50) || d > Duration::from_secs(29) => {
                Err(ConstructError::invalid(
                    path,
                    format!(
                        "the integration timeout must be from 50 milliseconds to 29 seconds, got {}",
                        human(d)
                    ),
                ))
            }
            d => Ok(d.map(|d| d.as_millis() as i64)),
        }
    }
}

/// A Lambda proxy integration (`AWS_PROXY`): the function gets the whole request and answers the whole response.
#[derive(Clone, Debug)]
pub struct LambdaIntegration {
    function_arn: Val<String>,
    props: LambdaIntegrationProps,
}

impl LambdaIntegration {
    /// Proxies requests to `function`; the method gets a permission to invoke it.
    pub fn new(function: &(impl LambdaTarget + ?Sized), props: LambdaIntegrationProps) -> Self {
        LambdaIntegration {
            function_arn: function.function_arn(),
            props,
        }
    }
}

/// `&function` for `LambdaIntegration::new(&function, Default::default())`.
impl<T: LambdaTarget + ?Sized> From<&T> for LambdaIntegration {
    fn from(function: &T) -> Self {
        LambdaIntegration::new(function, LambdaIntegrationProps::default())
    }
}

/// Who may call a method.
#[derive(Clone, Copy, Debug, Default)]
pub enum Authorization<'a> {
    /// Anyone: the rule pack's APIG4 (and checkov's CKV_AWS_59) fail until suppressed with a reason
    /// ([`Method::allow_unauthenticated`]).
    None,
    /// Callers signing with SigV4 whose IAM policy allows `execute-api:Invoke` on the method
    /// ([`RestApi::grant_invoke`]).
    #[default]
    Iam,
    /// A Cognito user pool, Lambda token or Lambda request authorizer of the API.
    Authorizer(&'a Authorizer),
}

/// Options of a method.
#[derive(Clone, Debug)]
pub struct MethodOptions<'a> {
    /// Who may call. Without it IAM (SigV4-signed calls allowed by the caller's policy).
    pub authorization: Authorization<'a>,
    /// OAuth scopes a Cognito access token must carry. Without any, an ID token or any access token passes.
    pub authorization_scopes: Vec<String>,
    /// The JSON body model the request is validated against (`application/json`). Without it the body is not
    /// validated.
    pub request_model: Option<&'a Model>,
    /// Query string parameters that must be present. Path parameters are always required.
    pub required_query_strings: Vec<String>,
    /// Headers that must be present.
    pub required_headers: Vec<String>,
    /// Whether the API's validator checks the request. On unless turned off (cdk-nag APIG2).
    pub validate_request: bool,
    /// Requires an API key (`x-api-key`). Off unless turned on.
    pub api_key_required: bool,
    /// The operation name shown in generated SDKs. Without it none.
    pub operation_name: Option<String>,
}

impl Default for MethodOptions<'_> {
    fn default() -> Self {
        MethodOptions {
            authorization: Authorization::Iam,
            authorization_scopes: Vec::new(),
            request_model: None,
            required_query_strings: Vec::new(),
            required_headers: Vec::new(),
            validate_request: true,
            api_key_required: false,
            operation_name: None,
        }
    }
}

/// A method of a [`RestApi`].
#[derive(Clone, Debug)]
pub struct Method {
    handle: l1::MethodHandle,
    http_method: String,
    resource_path: String,
}

impl Method {
    /// Records why this method is open to anyone: suppresses the rule pack's APIG4 and checkov's CKV_AWS_59 on
    /// it with `reason`.
    pub fn allow_unauthenticated(&self, reason: &str) {
        crate::rules::suppress(&self.handle, &crate::rules::APIG4, reason);
        crate::rules::skip_checkov(&self.handle, "CKV_AWS_59", reason);
    }
    /// The HTTP method.
    pub fn http_method(&self) -> &str {
        &self.http_method
    }
    /// The resource path.
    pub fn resource_path(&self) -> &str {
        &self.resource_path
    }
}

impl Construct for Method {
    type L1 = l1::Method;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::MethodHandle {
        &self.handle
    }
}

/// A request model of a [`RestApi`].
#[derive(Clone, Debug)]
pub struct Model {
    handle: l1::ModelHandle,
    name: String,
    schema: serde_json::Value,
}

impl Model {
    /// The model name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The draft-04 schema.
    pub fn schema(&self) -> &serde_json::Value {
        &self.schema
    }
}

impl Construct for Model {
    type L1 = l1::Model;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::ModelHandle {
        &self.handle
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthorizerKind {
    Cognito,
    Token,
    Request,
}

/// How long a Lambda authorizer's answer is cached when no `results_cache_ttl` is given (CDK's default).
pub const DEFAULT_AUTHORIZER_TTL: Duration = Duration::from_secs(300);

/// Where a request authorizer takes the values it is called with (and its cache is keyed on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// A request header (`Authorization`): `method.request.header.<name>`.
    Header(String),
    /// A query string parameter: `method.request.querystring.<name>`.
    QueryString(String),
    /// A stage variable: `stageVariables.<name>`.
    StageVariable(String),
    /// A `$context` variable (`identity.sourceIp`): `context.<name>`.
    Context(String),
}

impl IdentitySource {
    /// The identity source expression, or why the name cannot be one.
    fn render(&self) -> Result<String, String> {
        let (prefix, name, extra) = match self {
            IdentitySource::Header(n) => ("method.request.header.", n, "-"),
            IdentitySource::QueryString(n) => ("method.request.querystring.", n, "-_."),
            IdentitySource::StageVariable(n) => ("stageVariables.", n, "_"),
            IdentitySource::Context(n) => ("context.", n, "._"),
        };
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c));
        if ok {
            Ok(format!("{prefix}{name}"))
        } else {
            Err(format!(
                "{self:?} must name a {} of letters, digits and `{extra}` (`{}`), got {name:?}",
                match self {
                    IdentitySource::Header(_) => "header",
                    IdentitySource::QueryString(_) => "query string parameter",
                    IdentitySource::StageVariable(_) => "stage variable",
                    IdentitySource::Context(_) => "context variable",
                },
                match self {
                    IdentitySource::Header(_) => "Authorization",
                    IdentitySource::QueryString(_) => "token",
                    IdentitySource::StageVariable(_) => "authStage",
                    IdentitySource::Context(_) => "identity.sourceIp",
                }
            ))
        }
    }
}

/// An authorizer of a [`RestApi`] ([`RestApi::add_cognito_authorizer`], [`RestApi::add_token_authorizer`],
/// [`RestApi::add_request_authorizer`]).
#[derive(Clone, Debug)]
pub struct Authorizer {
    handle: l1::AuthorizerHandle,
    kind: AuthorizerKind,
}

impl Authorizer {
    /// The authorizer id.
    pub fn authorizer_id(&self) -> Val<String> {
        self.handle.ref_()
    }
}

impl Construct for Authorizer {
    type L1 = l1::Authorizer;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::AuthorizerHandle {
        &self.handle
    }
}

/// The deployed stage of a [`RestApi`].
#[derive(Clone, Debug)]
pub struct Stage {
    scope: OwnScope,
    handle: l1::StageHandle,
    api_id: Val<String>,
    api_name: Val<String>,
    name: String,
}

impl Stage {
    /// The stage name.
    pub fn stage_name(&self) -> &str {
        &self.name
    }
    /// `arn:<partition>:apigateway:<region>::/restapis/<api id>/stages/<stage>`: what a WAF web ACL association
    /// (`AWS::WAFv2::WebACLAssociation`'s `ResourceArn`) takes.
    pub fn stage_arn(&self) -> Val<String> {
        fns::sub_with(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}/stages/${Stage}",
            [("Api", self.api_id.clone()), ("Stage", self.handle.ref_())],
        )
    }
    /// Protects the stage with a regional WAF web ACL (`AWS::WAFv2::WebACLAssociation` at `<api>/WebAcl`,
    /// logical ID `<Api>WebAcl`; the web ACL's `attr_arn()`, or its ARN from another stack). Without one the
    /// stage takes every request that passes authorization and throttling.
    pub fn associate_web_acl(&self, web_acl_arn: impl Into<Val<String>>) -> ResourceHandle {
        self.scope.add_raw(
            "WebAcl",
            crate::RawResource::new("AWS::WAFv2::WebACLAssociation")
                .prop("ResourceArn", self.stage_arn().into_raw())
                .prop("WebACLArn", web_acl_arn.into().into_raw()),
        )
    }
    /// A metric of the stage (`AWS/ApiGateway`, dimensions `ApiName` and `Stage`).
    pub fn metric(&self, metric_name: &str) -> Metric {
        Metric::new("AWS/ApiGateway", metric_name)
            .dimension("ApiName", self.api_name.clone())
            .dimension("Stage", self.name.clone())
    }
}

impl Construct for Stage {
    type L1 = l1::Stage;
    fn path(&self) -> &str {
        path_of(&self.handle)
    }
    fn handle(&self) -> &l1::StageHandle {
        &self.handle
    }
}
