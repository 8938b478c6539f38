//! The AWS endpoint handlers (and people) talk to: a proxy in front of moto.
//!
//! It knows who is calling from the SigV4 `Credential=` access key id ([`crate::functions::access_key`]),
//! asks IAM ([`FunctionRoles`]) whether that function's role allows the call before moto sees it, answers a
//! denied call as AWS does (AccessDenied), serializes DynamoDB requests (moto's threaded server does not apply each
//! one atomically, see `runtime/moto/serial_dynamodb.py`), and reports what moto cannot act on (events put on a
//! bus, messages published to a topic, objects written to a bucket, Lambda invocations) as [`Tap`]s.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};

use crate::functions::function_of_access_key;
use crate::iam::{ApiRequest, AuthorizeError, FunctionRoles};
use crate::invoke::FunctionRef;
use crate::moto::client::MotoClient;

/// Something moto stored that the local run acts on.
#[derive(Clone, Debug)]
pub enum Tap {
    /// An event put on a bus, shaped as EventBridge delivers it to targets.
    Event {
        /// The bus name.
        bus: String,
        /// The event (`version`, `id`, `detail-type`, `source`, `account`, `time`, `region`, `resources`,
        /// `detail`).
        event: Value,
        /// Who put it.
        caller: Option<FunctionRef>,
    },
    /// A message published to a topic.
    Sns {
        /// The topic's ARN.
        topic_arn: String,
        /// moto's message id.
        message_id: String,
        /// The message.
        message: String,
        /// The subject, if any.
        subject: Option<String>,
        /// Message attributes: name -> (type, value).
        attributes: BTreeMap<String, (String, String)>,
        /// Who published it.
        caller: Option<FunctionRef>,
    },
    /// An object written to or removed from a bucket.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key, decoded.
        key: String,
        /// `ObjectCreated:Put`, `ObjectCreated:Copy`, `ObjectCreated:CompleteMultipartUpload`,
        /// `ObjectRemoved:Delete`.
        event_name: String,
        /// The object's size.
        size: u64,
        /// Its ETag, without quotes.
        etag: String,
        /// Its version id, in a versioned bucket.
        version_id: Option<String>,
        /// Who wrote it.
        caller: Option<FunctionRef>,
    },
}

/// What a refused call is reported with: the function, and why (the missing action and resource).
pub type DenialSink = Arc<dyn Fn(&FunctionRef, &AuthorizeError) + Send + Sync>;

/// Serves a Lambda Invoke API call (`POST /2015-03-31/functions/{name}/invocations`) made through the proxy:
/// `(function name or ARN, invocation type, payload)` to `(status, function error, body)`.
pub type LambdaApi = Arc<
    dyn Fn(
            String,
            String,
            Bytes,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = (StatusCode, Option<String>, Bytes)> + Send>,
        > + Send
        + Sync,
>;

/// What the proxy needs.
#[derive(Clone)]
pub struct ProxyConfig {
    /// moto.
    pub moto: MotoClient,
    /// The account moto plays.
    pub account: String,
    /// Decides each call a function makes, as IAM would with its role.
    pub roles: Arc<FunctionRoles>,
    /// Where denials are reported (the run prints the missing action and resource).
    pub denials: DenialSink,
    /// Where taps go.
    pub taps: mpsc::UnboundedSender<Tap>,
    /// Serves Lambda Invoke calls, which moto cannot run.
    pub lambda: Option<LambdaApi>,
    /// Told of every call that reached moto: the caller, the service and a short description of the call
    /// (`PutItem Orders-Table-X`), for `--trace`.
    pub calls: Option<CallSink>,
}

/// Where the proxy reports the calls it forwarded: caller (when a function), service, description.
pub type CallSink = Arc<dyn Fn(Option<&FunctionRef>, &str, &str) + Send + Sync>;

/// A short description of a call: its operation and the resource it names, where the request says.
pub fn describe(call: &ApiRequest) -> String {
    if let Some(target) = call
        .headers
        .get("x-amz-target")
        .and_then(|h| h.to_str().ok())
    {
        let op = target.rsplit('.').next().unwrap_or(target);
        let body: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
        let name = [
            "TableName",
            "QueueUrl",
            "StreamName",
            "StreamARN",
            "SecretId",
            "logGroupName",
            "Name",
        ]
        .iter()
        .find_map(|k| body[*k].as_str())
        .or_else(|| body["Entries"][0]["EventBusName"].as_str())
        .or_else(|| body["TransactItems"].as_array().map(|_| "(transaction)"))
        .unwrap_or_default();
        return format!("{op} {name}").trim_end().to_owned();
    }
    if call.service == "sns" || call.service == "sqs" {
        let form: BTreeMap<String, String> =
            form_urlencoded::parse(&call.body).into_owned().collect();
        let action = form.get("Action").cloned().unwrap_or_default();
        let name = form
            .get("TopicArn")
            .or(form.get("QueueUrl"))
            .cloned()
            .unwrap_or_default();
        return format!("{action} {name}").trim_end().to_owned();
    }
    format!("{} {}", call.method, call.path)
}

/// The running proxy; dropping it stops it.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The port.
    pub port: u16,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Shared {
    config: ProxyConfig,
    dynamodb: Mutex<()>,
}

impl Proxy {
    /// Serves on `listener`.
    pub fn start(listener: TcpListener, config: ProxyConfig) -> std::io::Result<Proxy> {
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            config,
            dynamodb: Mutex::new(()),
        });
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(&shared, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Proxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            port,
            server,
        })
    }
}

/// `(access key id, region, service)` from a SigV4 `Authorization` header or presigned query.
pub fn credential_scope(
    headers: &hyper::HeaderMap,
    query: &str,
) -> Option<(String, String, String)> {
    let from_header = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split("Credential=").nth(1))
        .map(|c| c.split([',', ' ']).next().unwrap_or_default().to_owned());
    let credential = from_header.or_else(|| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v.into_owned())
    })?;
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [key, _date, region, service, _] => Some((
            (*key).to_owned(),
            (*region).to_owned(),
            (*service).to_owned(),
        )),
        _ => None,
    }
}

fn respond(
    status: StatusCode,
    headers: &[(&str, String)],
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return respond(
                StatusCode::BAD_REQUEST,
                &[],
                format!("unreadable body: {e}"),
            )
        }
    };
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let (key, region, service) = credential_scope(&parts.headers, &query).unwrap_or_default();
    let caller = function_of_access_key(&key);
    // Built from the credential scope rather than with `ApiRequest::from_http`, which needs an Authorization
    // header: a presigned URL carries its credential in the query.
    let call = ApiRequest {
        service,
        region,
        account: shared.config.account.clone(),
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query,
        headers: parts.headers.clone(),
        body: body.clone(),
    };
    if let Some(f) = &caller {
        if let Err(e) = shared.config.roles.authorize(f, &call) {
            (shared.config.denials)(f, &e);
            let (parts, body) = e.response(&call).into_parts();
            return Response::from_parts(parts, Full::new(body));
        }
    }
    if call.service == "lambda" {
        if let Some(answer) = lambda_invoke(shared, &call).await {
            return answer;
        }
    }
    let mut forward = Request::builder().method(parts.method.clone()).uri(
        shared
            .config
            .moto
            .uri(parts.uri.path_and_query().map_or("/", |p| p.as_str())),
    );
    for (k, v) in &parts.headers {
        forward = forward.header(k, v);
    }
    let Ok(forward) = forward.body(Full::new(body)) else {
        return respond(StatusCode::BAD_REQUEST, &[], "bad request");
    };
    let target = call
        .headers
        .get("x-amz-target")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let answer = if target.starts_with("DynamoDB_") {
        let _one_at_a_time = shared.dynamodb.lock().await;
        shared.config.moto.send(forward).await
    } else {
        shared.config.moto.send(forward).await
    };
    let answer = match answer {
        Ok(a) => a,
        Err(e) => return respond(StatusCode::BAD_GATEWAY, &[], format!("moto: {e}")),
    };
    if let Some(sink) = &shared.config.calls {
        sink(caller.as_ref(), &call.service, &describe(&call));
    }
    if answer.status().is_success() {
        for tap in taps(&call, &target, &answer, caller.as_ref()) {
            let _ = shared.config.taps.send(tap);
        }
    }
    let (parts, body) = answer.into_parts();
    let mut r = Response::from_parts(parts, Full::new(body));
    r.headers_mut().remove("transfer-encoding");
    r
}

/// Serves `POST /2015-03-31/functions/{name}/invocations` when the run has a Lambda API.
async fn lambda_invoke(shared: &Shared, call: &ApiRequest) -> Option<Response<Full<Bytes>>> {
    let api = shared.config.lambda.as_ref()?;
    let rest = call.path.strip_prefix("/2015-03-31/functions/")?;
    let name = rest.strip_suffix("/invocations")?;
    let name = percent_decode(name);
    let invocation_type = call
        .headers
        .get("x-amz-invocation-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("RequestResponse")
        .to_owned();
    let (status, function_error, body) = api(name, invocation_type, call.body.clone()).await;
    let mut headers = vec![("content-type", "application/json".to_owned())];
    if let Some(e) = function_error {
        headers.push(("x-amz-function-error", e));
    }
    headers.push(("x-amz-executed-version", "$LATEST".to_owned()));
    Some(respond(status, &headers, body))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn now_iso() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What a successful call asks the local run to act on.
fn taps(
    call: &ApiRequest,
    target: &str,
    answer: &hyper::Response<Bytes>,
    caller: Option<&FunctionRef>,
) -> Vec<Tap> {
    let mut out = Vec::new();
    if target == "AWSEvents.PutEvents" {
        let request: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
        let response: Value = serde_json::from_slice(answer.body()).unwrap_or(Value::Null);
        for (i, e) in request["Entries"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(id) = response["Entries"][i]["EventId"].as_str() else {
                continue;
            };
            let detail = e["Detail"]
                .as_str()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(json!({}));
            let bus = crate::provision::bus_name(&e["EventBusName"]);
            out.push(Tap::Event {
                bus,
                event: json!({
                    "version": "0",
                    "id": id,
                    "detail-type": e["DetailType"],
                    "source": e["Source"],
                    "account": call.account,
                    "time": e.get("Time").cloned().unwrap_or_else(|| json!(now_iso())),
                    "region": call.region,
                    "resources": e.get("Resources").cloned().unwrap_or(json!([])),
                    "detail": detail,
                }),
                caller: caller.cloned(),
            });
        }
    } else if call.service == "sns" {
        let form: BTreeMap<String, String> =
            form_urlencoded::parse(&call.body).into_owned().collect();
        let text = String::from_utf8_lossy(answer.body());
        match form.get("Action").map(String::as_str) {
            Some("Publish") => {
                let topic_arn = form
                    .get("TopicArn")
                    .or(form.get("TargetArn"))
                    .cloned()
                    .unwrap_or_default();
                out.push(Tap::Sns {
                    topic_arn,
                    message_id: crate::moto::client::xml_text(&text, "MessageId")
                        .unwrap_or_default(),
                    message: form.get("Message").cloned().unwrap_or_default(),
                    subject: form.get("Subject").cloned(),
                    attributes: sns_attributes(&form, "MessageAttributes.entry."),
                    caller: caller.cloned(),
                });
            }
            Some("PublishBatch") => {
                let topic_arn = form.get("TopicArn").cloned().unwrap_or_default();
                let ids = crate::moto::client::xml_texts(&text, "MessageId");
                for n in 1.. {
                    let prefix = format!("PublishBatchRequestEntries.member.{n}.");
                    let Some(message) = form.get(&format!("{prefix}Message")) else {
                        break;
                    };
                    out.push(Tap::Sns {
                        topic_arn: topic_arn.clone(),
                        message_id: ids.get(n - 1).cloned().unwrap_or_default(),
                        message: message.clone(),
                        subject: form.get(&format!("{prefix}Subject")).cloned(),
                        attributes: sns_attributes(
                            &form,
                            &format!("{prefix}MessageAttributes.entry."),
                        ),
                        caller: caller.cloned(),
                    });
                }
            }
            _ => {}
        }
    } else if call.service == "s3" {
        let path = call.path.trim_start_matches('/');
        let Some((bucket, key)) = path.split_once('/') else {
            return out;
        };
        if key.is_empty() {
            return out;
        }
        let q: BTreeMap<String, String> = form_urlencoded::parse(call.query.as_bytes())
            .into_owned()
            .collect();
        let header = |h: &hyper::HeaderMap, k: &str| {
            h.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let event_name = match call.method {
            Method::PUT if q.is_empty() || q.contains_key("x-id") => {
                if call.headers.contains_key("x-amz-copy-source") {
                    Some("ObjectCreated:Copy")
                } else {
                    Some("ObjectCreated:Put")
                }
            }
            Method::POST if q.contains_key("uploadId") => {
                Some("ObjectCreated:CompleteMultipartUpload")
            }
            Method::DELETE if q.is_empty() || q.contains_key("x-id") => {
                Some("ObjectRemoved:Delete")
            }
            _ => None,
        };
        if let Some(event_name) = event_name {
            let etag = header(answer.headers(), "etag")
                .or_else(|| {
                    crate::moto::client::xml_text(&String::from_utf8_lossy(answer.body()), "ETag")
                })
                .unwrap_or_default()
                .trim_matches('"')
                .to_owned();
            out.push(Tap::S3 {
                bucket: bucket.to_owned(),
                key: percent_decode(key),
                event_name: event_name.to_owned(),
                size: if event_name == "ObjectCreated:Put" {
                    call.body.len() as u64
                } else {
                    0
                },
                etag,
                version_id: header(answer.headers(), "x-amz-version-id"),
                caller: caller.cloned(),
            });
        }
    }
    out
}

fn sns_attributes(
    form: &BTreeMap<String, String>,
    prefix: &str,
) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for n in 1.. {
        let Some(name) = form.get(&format!("{prefix}{n}.Name")) else {
            break;
        };
        let kind = form
            .get(&format!("{prefix}{n}.Value.DataType"))
            .cloned()
            .unwrap_or_else(|| "String".to_owned());
        let value = form
            .get(&format!("{prefix}{n}.Value.StringValue"))
            .or(form.get(&format!("{prefix}{n}.Value.BinaryValue")))
            .cloned()
            .unwrap_or_default();
        out.insert(name.clone(), (kind, value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_is_read_from_the_sigv4_credential() {
        let mut h = hyper::HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=LOCAL.Order.Api/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let (key, region, service) = credential_scope(&h, "").unwrap();
        assert_eq!(
            (key.as_str(), region.as_str(), service.as_str()),
            ("LOCAL.Order.Api", "us-east-1", "dynamodb")
        );
        assert_eq!(
            function_of_access_key(&key),
            Some(FunctionRef {
                stack: "Order".into(),
                logical_id: "Api".into()
            })
        );
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=LOCAL.A.B%2F20260101%2Feu-west-1%2Fs3%2Faws4_request";
        let (key, region, service) = credential_scope(&hyper::HeaderMap::new(), presigned).unwrap();
        assert_eq!(
            (key.as_str(), region.as_str(), service.as_str()),
            ("LOCAL.A.B", "eu-west-1", "s3")
        );
    }

    #[test]
    fn keys_are_percent_decoded() {
        assert_eq!(percent_decode("a%20b%2Fc"), "a b/c");
        assert_eq!(percent_decode("plain%"), "plain%");
    }
}
