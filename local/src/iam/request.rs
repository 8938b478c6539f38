//! What the proxy in front of the emulator sees of one AWS call.

use bytes::Bytes;
use http::{HeaderMap, Method};

/// One AWS API call as it arrived at the proxy, plus the account and region the emulator plays.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    /// The service's signing name, from the SigV4 credential scope (`dynamodb`, `sqs`, `s3`...):
    /// see [`ApiRequest::signing_service`].
    pub service: String,
    /// The HTTP method.
    pub method: Method,
    /// The path as sent, still percent-encoded (`/bucket/key%20name`).
    pub path: String,
    /// The query string as sent, without `?` (empty when there is none).
    pub query: String,
    /// The headers (`X-Amz-Target`, `Content-Type`, `Host`, `x-amz-copy-source`...).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The account the emulator plays: ARNs built from names (a table, a bucket's objects) are in it.
    pub account: String,
    /// The region the emulator plays.
    pub region: String,
}

/// The AWS wire protocols, which decide how an operation is named and how an error must look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `awsJson1_0` (DynamoDB, SQS, Step Functions): the operation in `X-Amz-Target`.
    AwsJson10,
    /// `awsJson1_1` (Kinesis, EventBridge, Secrets Manager, CloudWatch Logs, KMS, SSM).
    AwsJson11,
    /// `awsQuery` (SNS, STS): a form body `Action=Publish&...`, XML responses.
    AwsQuery,
    /// `restJson1` (Lambda, X-Ray): the operation in the method and path.
    RestJson,
    /// `restXml` (S3): the operation in the method, path and query, XML responses.
    RestXml,
}

impl ApiRequest {
    /// The call as the proxy received it, its service read from the SigV4 signature.
    pub fn from_http(
        request: http::Request<Bytes>,
        account: &str,
        region: &str,
    ) -> Result<ApiRequest, super::ClassifyError> {
        let (parts, body) = request.into_parts();
        let service = Self::signing_service(&parts.headers).ok_or_else(|| super::ClassifyError {
            service: "(unsigned)".into(),
            operation: format!("{} {}", parts.method, parts.uri.path()),
            reason: "the request has no SigV4 Authorization header, which names the service it calls (the AWS \
                     SDK signs every call: was it sent by a handler?)"
                .into(),
        })?;
        Ok(ApiRequest {
            service,
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body,
            account: account.to_owned(),
            region: region.to_owned(),
        })
    }

    /// The signing name in a SigV4 `Authorization` header's credential scope
    /// (`Credential=AKID/20240101/us-east-1/dynamodb/aws4_request`), which names the service whatever
    /// endpoint the call was sent to.
    pub fn signing_service(headers: &HeaderMap) -> Option<String> {
        let auth = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let credential = auth
            .split([',', ' '])
            .find_map(|part| part.trim().strip_prefix("Credential="))?;
        // AKID/date/region/service/aws4_request
        let mut scope = credential.rsplit('/');
        let terminator = scope.next()?;
        let service = scope.next()?;
        (terminator == "aws4_request" && !service.is_empty()).then(|| service.to_owned())
    }

    /// The protocol the request speaks.
    pub fn protocol(&self) -> Protocol {
        if self.service == "s3" {
            return Protocol::RestXml;
        }
        let content_type = self.header("content-type").unwrap_or_default();
        if self.header("x-amz-target").is_some() {
            if content_type.contains("json-1.0") {
                Protocol::AwsJson10
            } else {
                Protocol::AwsJson11
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            Protocol::AwsQuery
        } else {
            Protocol::RestJson
        }
    }

    /// A header's value as text (`None` when absent or not visible ASCII).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The query's pairs, percent-decoded.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }
}
