//! API Gateway: APIG1 (access logging), APIG2 (request validation), APIG4 (authorization), APIG6 (execution
//! logging of every method).

use cfnkit_l1::{apigateway as rest, apigatewayv2 as http};

use super::context::{type_name, Ctx, Res};
use super::read::{as_str, items};
use super::registry::{RuleInfo, APIG1, APIG2, APIG4, APIG6};

const REST_STAGE: &str = type_name::<rest::Stage>();
const HTTP_STAGE: &str = type_name::<http::Stage>();
const REST_API: &str = type_name::<rest::RestApi>();
const METHOD: &str = type_name::<rest::Method>();
const ROUTE: &str = type_name::<http::Route>();

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut found: Vec<(&RuleInfo, Res<'_>, String, &str)> = Vec::new();
    for r in ctx.all() {
        match r.type_name() {
            REST_STAGE => {
                if !access_logged(&r, "AccessLogSetting") {
                    found.push((
                        &APIG1,
                        r,
                        "the stage has no access logging.".to_owned(),
                        "cfnkit's RestApi logs access to its `<id>/AccessLogs` group (RestApiProps.access_log_format \
                         sets the line); on a raw stage set AccessLogSetting: {DestinationArn: <a log group's Arn>, \
                         Format: <format>}.",
                    ));
                }
                if !logs_every_method(&r) {
                    found.push((
                        &APIG6,
                        r,
                        "the stage does not log every method to CloudWatch.".to_owned(),
                        "cfnkit's RestApi logs every method at RestApiProps.logging_level (INFO unless set); on a raw \
                         stage add to MethodSettings {HttpMethod: \"*\", ResourcePath: \"/*\", LoggingLevel: \
                         ERROR} (or INFO).",
                    ));
                }
            }
            HTTP_STAGE if !access_logged(&r, "AccessLogSettings") => {
                found.push((
                    &APIG1,
                    r,
                    "the stage has no access logging.".to_owned(),
                    "cfnkit's HttpApi logs access to its `<id>/AccessLogs` group (HttpApiProps.access_log_format \
                     sets the line); on a raw stage set AccessLogSettings: {DestinationArn: <a log group's Arn>, \
                     Format: <format>}.",
                ));
            }
            REST_API if !validated(ctx, &r) => {
                found.push((
                    &APIG2,
                    r,
                    "the REST API has no request validator.".to_owned(),
                    "cfnkit's RestApi validates every method's request (MethodOptions.validate_request, on unless \
                     turned off); on a raw API add an AWS::ApiGateway::RequestValidator with RestApiId: Ref <the \
                     API>, ValidateRequestBody: true and ValidateRequestParameters: true.",
                ));
            }
            // An OPTIONS method is not let through for its verb: one that answers CORS preflights (which carry no
            // credentials) says so in a suppression with its reason, as cfnkit's generated preflights do; any other
            // open OPTIONS method (a Lambda behind it, say) is as open as a GET would be.
            METHOD if !authorized(&r) => {
                let preflight = r.prop("HttpMethod").and_then(as_str) == Some("OPTIONS");
                found.push((
                    &APIG4,
                    r,
                    "the method has no authorization (AuthorizationType is NONE).".to_owned(),
                    if preflight {
                        "for a CORS preflight use cfnkit's ApiResource::add_cors_preflight (or \
                         RestApiProps.default_cors), which records why it is open; any other OPTIONS method takes \
                         MethodOptions.authorization, or records why it is public with \
                         `method.allow_unauthenticated(reason)`. On a raw method set AuthorizationType to AWS_IAM, \
                         COGNITO_USER_POOLS or CUSTOM (with AuthorizerId), or suppress APIG4 with the reason."
                    } else {
                        "cfnkit's methods take MethodOptions.authorization (Authorization::Iam unless set, or \
                         Authorization::Authorizer); a method meant to be public records why with \
                         `method.allow_unauthenticated(reason)`. On a raw method set AuthorizationType to AWS_IAM, \
                         COGNITO_USER_POOLS or CUSTOM (with AuthorizerId)."
                    },
                ));
            }
            ROUTE if !authorized(&r) => {
                found.push((
                    &APIG4,
                    r,
                    "the route has no authorization (AuthorizationType is NONE).".to_owned(),
                    "cfnkit's routes take RouteOptions.authorization (HttpAuthorization::Iam unless set, or \
                     HttpAuthorization::Jwt); a route meant to be public records why with \
                     `route.allow_unauthenticated(reason)`. On a raw route set AuthorizationType to AWS_IAM, JWT or \
                     CUSTOM (with AuthorizerId).",
                ));
            }
            _ => {}
        }
    }
    for (rule, r, message, fix) in found {
        ctx.report(rule, &r, message, fix);
    }
}

fn access_logged(stage: &Res<'_>, key: &str) -> bool {
    ["DestinationArn", "Format"]
        .iter()
        .all(|k| stage.prop_at(&[key, k]).is_some())
}

fn logs_every_method(stage: &Res<'_>) -> bool {
    stage
        .prop("MethodSettings")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .any(|m| {
            let field = |k| m.get(k).and_then(as_str);
            field("HttpMethod") == Some("*")
                && field("ResourcePath") == Some("/*")
                && matches!(field("LoggingLevel"), Some("ERROR" | "INFO"))
        })
}

fn authorized(r: &Res<'_>) -> bool {
    // A value from a parameter is only known at deploy time: give it the benefit of the doubt.
    r.prop("AuthorizationType")
        .is_some_and(|t| as_str(t) != Some("NONE"))
}

/// A request validator on the API, or one named in its OpenAPI body.
fn validated(ctx: &Ctx<'_>, api: &Res<'_>) -> bool {
    let in_body = api
        .prop("Body")
        .is_some_and(|b| b.get("x-amazon-apigateway-request-validator").is_some());
    in_body
        || ctx.of::<rest::RequestValidator>().any(|v| {
            v.prop("RestApiId")
                .and_then(|id| ctx.referent(v.stack, id))
                .is_some_and(|t| t.res.key() == api.key())
        })
}
