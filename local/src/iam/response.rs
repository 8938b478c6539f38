//! The error AWS answers a refused call with, in the request's protocol, so the SDK in the handler fails as it
//! does on AWS (`AccessDeniedException` from DynamoDB, `AuthorizationError` from SNS, `AccessDenied` from S3).

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::{Response, StatusCode};

use super::request::{ApiRequest, Protocol};

/// The AWS-shaped `AccessDenied` answer to `request`, carrying `message`
/// ([`super::Denied::aws_message`] for a denial).
pub fn access_denied(request: &ApiRequest, message: &str) -> Response<Bytes> {
    let request_id = request_id();
    let xml = escape_xml(message);
    let (status, content_type, error_type, body) = match request.protocol() {
        protocol @ (Protocol::AwsJson10 | Protocol::AwsJson11) => {
            let content_type = if protocol == Protocol::AwsJson10 {
                "application/x-amz-json-1.0"
            } else {
                "application/x-amz-json-1.1"
            };
            let body = serde_json::json!({
                "__type": "com.amazon.coral.service#AccessDeniedException",
                "Message": message,
            });
            // SQS's JSON protocol keeps its query-protocol status and code (403 AccessDenied).
            let status = if request.service == "sqs" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            (
                status,
                content_type,
                Some("AccessDeniedException"),
                body.to_string(),
            )
        }
        Protocol::AwsQuery => {
            let (code, namespace) = match request.service.as_str() {
                "sns" => (
                    "AuthorizationError",
                    "http://sns.amazonaws.com/doc/2010-03-31/",
                ),
                _ => ("AccessDenied", "https://sts.amazonaws.com/doc/2011-06-15/"),
            };
            let body = format!(
                "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>{code}</Code>\
                 <Message>{xml}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            );
            (StatusCode::FORBIDDEN, "text/xml", None, body)
        }
        Protocol::RestXml => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{xml}</Message>\
                 <RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
            );
            (StatusCode::FORBIDDEN, "application/xml", None, body)
        }
        Protocol::RestJson => {
            let body = serde_json::json!({"Type": "User", "message": message});
            (
                StatusCode::FORBIDDEN,
                "application/json",
                Some("AccessDeniedException"),
                body.to_string(),
            )
        }
    };
    let mut response = Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", &request_id);
    if request.service == "s3" {
        response = response.header("x-amz-request-id", &request_id);
    }
    if let Some(error_type) = error_type {
        response = response.header("x-amzn-errortype", error_type);
    }
    if request.service == "sqs" {
        response = response.header("x-amzn-query-error", "AccessDenied;Sender");
    }
    response
        .body(Bytes::from(body))
        .expect("static header names and values are valid")
}

fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        nanos as u32,
        n & 0xffff,
        (nanos >> 32) & 0xfff,
        n & 0xfff,
        nanos >> 16 & 0xffff_ffff_ffff
    )
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
