//! restJson: Lambda's and X-Ray's operations are their method and path.

use super::{arn, Check, Classified, ClassifyError};
use crate::iam::request::ApiRequest;

pub(super) fn classify(request: &ApiRequest) -> Result<Classified, ClassifyError> {
    let segments: Vec<String> = request
        .path
        .trim_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method.as_str();
    let unknown = || {
        ClassifyError::new(
            "lambda",
            format!("{method} {}", request.path),
            "a Lambda path cfnkit-local does not classify",
        )
    };
    let qualifier = request
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "Qualifier")
        .map(|(_, v)| v);
    let function = |name: &str| function_arn(name, qualifier.as_deref(), request);
    let (operation, action, resource) = match (method, segments.as_slice()) {
        ("GET", [_, "functions"]) => ("ListFunctions", "ListFunctions", "*".to_owned()),
        ("GET", [_, "event-source-mappings"]) => (
            "ListEventSourceMappings",
            "ListEventSourceMappings",
            "*".to_owned(),
        ),
        ("POST", [_, "functions", f, "invocations"]) => ("Invoke", "InvokeFunction", function(f)),
        ("POST", [_, "functions", f, "response-streaming-invocations"]) => {
            ("InvokeWithResponseStream", "InvokeFunction", function(f))
        }
        ("POST", [_, "functions", f, "invoke-async"]) => {
            ("InvokeAsync", "InvokeFunction", function(f))
        }
        ("GET", [_, "functions", f]) => ("GetFunction", "GetFunction", function(f)),
        ("GET", [_, "functions", f, "configuration"]) => (
            "GetFunctionConfiguration",
            "GetFunctionConfiguration",
            function(f),
        ),
        ("PUT", [_, "functions", f, "configuration"]) => (
            "UpdateFunctionConfiguration",
            "UpdateFunctionConfiguration",
            function(f),
        ),
        ("PUT", [_, "functions", f, "code"]) => {
            ("UpdateFunctionCode", "UpdateFunctionCode", function(f))
        }
        ("GET", [_, "functions", f, "versions"]) => (
            "ListVersionsByFunction",
            "ListVersionsByFunction",
            function(f),
        ),
        ("POST", [_, "functions", f, "versions"]) => {
            ("PublishVersion", "PublishVersion", function(f))
        }
        ("GET", [_, "functions", f, "aliases"]) => ("ListAliases", "ListAliases", function(f)),
        ("GET", [_, "functions", f, "aliases", _]) => ("GetAlias", "GetAlias", function(f)),
        ("GET", [_, "functions", f, "policy"]) => ("GetPolicy", "GetPolicy", function(f)),
        ("GET", [_, "functions", f, "concurrency"]) => (
            "GetFunctionConcurrency",
            "GetFunctionConcurrency",
            function(f),
        ),
        _ => return Err(unknown()),
    };
    Ok(Classified::new(operation).with(Check::new(format!("lambda:{action}"), resource)))
}

/// A function's ARN from any form Lambda accepts: a name, `name:qualifier`, a partial ARN
/// (`123456789012:function:name`) or a full ARN; qualified when the call names a version or alias.
fn function_arn(name: &str, qualifier: Option<&str>, request: &ApiRequest) -> String {
    let base = if name.starts_with("arn:") {
        name.to_owned()
    } else if let Some((account, rest)) = name.split_once(":function:") {
        arn(
            "lambda",
            &request.region,
            account,
            &format!("function:{rest}"),
        )
    } else {
        arn(
            "lambda",
            &request.region,
            &request.account,
            &format!("function:{name}"),
        )
    };
    match qualifier {
        // `function:<name>` has 7 segments; an 8th is already a qualifier.
        Some(q) if base.split(':').count() == 7 => format!("{base}:{q}"),
        _ => base,
    }
}

pub(super) fn classify_xray(request: &ApiRequest) -> Result<Classified, ClassifyError> {
    let action = match (request.method.as_str(), request.path.trim_end_matches('/')) {
        ("POST", "/TraceSegments") => "PutTraceSegments",
        ("POST", "/TelemetryRecords") => "PutTelemetryRecords",
        ("POST", "/GetSamplingRules") => "GetSamplingRules",
        ("POST", "/SamplingTargets") => "GetSamplingTargets",
        _ => {
            return Err(ClassifyError::new(
                "xray",
                format!("{} {}", request.method, request.path),
                "an X-Ray path cfnkit-local does not classify",
            ))
        }
    };
    // X-Ray's write actions take no resource.
    Ok(Classified::new(action).with(Check::new(format!("xray:{action}"), "*")))
}
