//! Talking to moto: the AWS JSON, query and REST protocols over plain HTTP.
//!
//! The local run passes CloudFormation's property JSON straight into the APIs (CreateTable's `KeySchema`,
//! `GlobalSecondaryIndexes` and `StreamSpecification` have the template's shapes), which typed SDK builders
//! would make a field-by-field copy. moto reads the service and region from the SigV4 credential scope and
//! does not check signatures, so requests carry an `Authorization` header with a scope and no real signature.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// An error answer of the emulator (or a failure to reach it).
#[derive(Clone, Debug, thiserror::Error)]
#[error("{operation}: {code}: {message}")]
pub struct AwsError {
    /// The API call (`DynamoDB_20120810.CreateTable`, `sns:Subscribe`).
    pub operation: String,
    /// The error code (`ResourceInUseException`), or `Unreachable`.
    pub code: String,
    /// The message.
    pub message: String,
}

/// A response of the emulator, as bytes.
pub type HttpResponse = hyper::Response<Bytes>;

/// An HTTP client for one moto server.
#[derive(Clone, Debug)]
pub struct MotoClient {
    endpoint: String,
    region: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

/// The `X-Amz-Target` JSON version of a service.
fn json_version(service: &str) -> &'static str {
    match service {
        "dynamodb" | "sqs" => "1.0",
        _ => "1.1",
    }
}

impl MotoClient {
    /// A client for moto at `endpoint` (`http://127.0.0.1:PORT`), in region us-east-1.
    pub fn new(endpoint: &str) -> MotoClient {
        MotoClient::in_region(endpoint, crate::model::DEFAULT_REGION)
    }

    /// A client for moto at `endpoint` speaking for `region`.
    pub fn in_region(endpoint: &str, region: &str) -> MotoClient {
        MotoClient {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn authorization(&self, service: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=cfnkit-local/20260101/{}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0",
            self.region
        )
    }

    /// Whether the server answers HTTP at all.
    pub async fn ping(&self) -> bool {
        let Ok(req) = Request::get(format!("{}/moto-api/", self.endpoint)).body(Full::default())
        else {
            return false;
        };
        self.http.request(req).await.is_ok()
    }

    /// Sends a request as it is (the proxy's forwarding), returning moto's answer.
    pub async fn send(&self, req: Request<Full<Bytes>>) -> Result<HttpResponse, AwsError> {
        let unreachable = |e: String| AwsError {
            operation: "forward".into(),
            code: "Unreachable".into(),
            message: e,
        };
        let response = self
            .http
            .request(req)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_bytes();
        Ok(hyper::Response::from_parts(parts, body))
    }

    /// An absolute URI on the server for `path_and_query`.
    pub fn uri(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.endpoint)
    }

    /// A JSON-protocol call: `target` is `<Prefix>.<Operation>` (`DynamoDB_20120810.CreateTable`).
    pub async fn json(&self, service: &str, target: &str, body: &Value) -> Result<Value, AwsError> {
        let req = Request::post(self.uri("/"))
            .header(
                "content-type",
                format!("application/x-amz-json-{}", json_version(service)),
            )
            .header("x-amz-target", target)
            .header("authorization", self.authorization(service))
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("a valid request");
        let response = self.send(req).await.map_err(|e| AwsError {
            operation: target.to_owned(),
            ..e
        })?;
        let value: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        if response.status().is_success() {
            return Ok(value);
        }
        let code = value["__type"]
            .as_str()
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
            .unwrap_or_else(|| response.status().to_string());
        let message = value["message"]
            .as_str()
            .or(value["Message"].as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(response.body()).into_owned());
        Err(AwsError {
            operation: target.to_owned(),
            code,
            message,
        })
    }

    /// A query-protocol call (SNS): form parameters in, the XML answer out.
    pub async fn query(
        &self,
        service: &str,
        params: &[(String, String)],
    ) -> Result<String, AwsError> {
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let action = params
            .iter()
            .find(|(k, _)| *k == "Action")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let req = Request::post(self.uri("/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", self.authorization(service))
            .body(Full::new(Bytes::from(form)))
            .expect("a valid request");
        let operation = format!("{service}:{action}");
        let response = self.send(req).await.map_err(|e| AwsError {
            operation: operation.clone(),
            ..e
        })?;
        let text = String::from_utf8_lossy(response.body()).into_owned();
        if response.status().is_success() {
            Ok(text)
        } else {
            Err(AwsError {
                operation,
                code: xml_text(&text, "Code").unwrap_or_else(|| response.status().to_string()),
                message: xml_text(&text, "Message").unwrap_or(text),
            })
        }
    }

    /// A REST call (S3): method, path and query, headers, body.
    pub async fn rest(
        &self,
        service: &str,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<HttpResponse, AwsError> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(self.uri(path_and_query))
            .header("authorization", self.authorization(service));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req.body(Full::new(body)).expect("a valid request");
        let operation = format!("{service}:{method} {path_and_query}");
        let response = self.send(req).await.map_err(|e| AwsError {
            operation: operation.clone(),
            ..e
        })?;
        if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
            Ok(response)
        } else {
            let text = String::from_utf8_lossy(response.body()).into_owned();
            Err(AwsError {
                operation,
                code: xml_text(&text, "Code").unwrap_or_else(|| response.status().to_string()),
                message: xml_text(&text, "Message").unwrap_or(text),
            })
        }
    }
}

/// The text of the first `<tag>...</tag>` in an XML answer (moto's answers are simple enough for this).
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(unescape_xml(&xml[start..end]))
}

/// Every `<tag>...</tag>` text in an XML answer.
pub fn xml_texts(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(unescape_xml(&after[..j]));
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape_xml(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// XML-escapes text for a request body.
pub fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
