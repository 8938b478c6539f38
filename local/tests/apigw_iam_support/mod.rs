//! What the iam and apigw tests share: a cfnkit app synthesized in-process and resolved into a [`LocalApp`]
//! the way the local run names things (moto's account and region, names derived from the stack and logical ID),
//! so the tests read the platform's real policies and APIs without the model resolution of the full run.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cfnkit::synth::synth;
use cfnkit::App;
use cfnkit_local::model::{LocalApp, LocalResource, LocalStack};
use serde_json::{json, Map, Value};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// Every stack of `app`, synthesized and resolved.
pub fn local_app(app: &App) -> LocalApp {
    let assembly = synth(app).unwrap_or_else(|e| panic!("synth failed: {e}"));
    let mut exports: BTreeMap<String, Value> = BTreeMap::new();
    let mut stacks = Vec::new();
    for artifact in &assembly.stacks {
        let template: Value = serde_json::from_str(&artifact.template.to_json()).unwrap();
        let stack = resolve_stack(&artifact.name, &template, &mut exports);
        stacks.push(stack);
    }
    LocalApp {
        account: ACCOUNT.into(),
        region: REGION.into(),
        stacks,
    }
}

struct Named {
    physical_id: String,
    arn: Option<String>,
    attributes: BTreeMap<String, String>,
}

fn name_of(stack: &str, logical_id: &str, props: &Value, name_prop: Option<&str>) -> String {
    name_prop
        .and_then(|p| props.get(p))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{stack}-{logical_id}"))
}

/// The names and ARNs the local run gives a resource (resolved properties are read for explicit names).
fn names(stack: &str, logical_id: &str, type_name: &str, props: &Value) -> Named {
    let arn = |service: &str, resource: String| {
        format!("arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}")
    };
    let lower = logical_id.to_ascii_lowercase();
    let mut attributes = BTreeMap::new();
    let (physical_id, arn) = match type_name {
        "AWS::DynamoDB::Table" => {
            let name = name_of(stack, logical_id, props, Some("TableName"));
            let a = arn("dynamodb", format!("table/{name}"));
            attributes.insert(
                "StreamArn".into(),
                format!("{a}/stream/2024-01-01T00:00:00.000"),
            );
            (name, Some(a))
        }
        "AWS::SQS::Queue" => {
            let name = name_of(stack, logical_id, props, Some("QueueName"));
            attributes.insert("QueueName".into(), name.clone());
            attributes.insert(
                "QueueUrl".into(),
                format!("http://localhost:4566/{ACCOUNT}/{name}"),
            );
            (
                format!("http://localhost:4566/{ACCOUNT}/{name}"),
                Some(arn("sqs", name)),
            )
        }
        "AWS::SNS::Topic" => {
            let name = name_of(stack, logical_id, props, Some("TopicName"));
            let a = arn("sns", name.clone());
            attributes.insert("TopicName".into(), name);
            attributes.insert("TopicArn".into(), a.clone());
            (a.clone(), Some(a))
        }
        "AWS::Lambda::Function" => {
            let name = name_of(stack, logical_id, props, Some("FunctionName"));
            (
                name.clone(),
                Some(arn("lambda", format!("function:{name}"))),
            )
        }
        "AWS::IAM::Role" => {
            let name = name_of(stack, logical_id, props, Some("RoleName"));
            (
                name.clone(),
                Some(format!("arn:aws:iam::{ACCOUNT}:role/{name}")),
            )
        }
        "AWS::IAM::ManagedPolicy" => {
            let a = format!("arn:aws:iam::{ACCOUNT}:policy/{stack}-{logical_id}");
            (a.clone(), Some(a))
        }
        "AWS::KMS::Key" => {
            let id = format!("{lower}-key-id");
            (id.clone(), Some(arn("kms", format!("key/{id}"))))
        }
        "AWS::Events::EventBus" => {
            let name = name_of(stack, logical_id, props, Some("Name"));
            attributes.insert("Name".into(), name.clone());
            (
                name.clone(),
                Some(arn("events", format!("event-bus/{name}"))),
            )
        }
        "AWS::S3::Bucket" => {
            let name = name_of(stack, logical_id, props, Some("BucketName")).to_ascii_lowercase();
            (name.clone(), Some(format!("arn:aws:s3:::{name}")))
        }
        "AWS::Logs::LogGroup" => {
            let name = name_of(stack, logical_id, props, Some("LogGroupName"));
            (
                name.clone(),
                Some(arn("logs", format!("log-group:{name}:*"))),
            )
        }
        "AWS::SecretsManager::Secret" => {
            let name = name_of(stack, logical_id, props, Some("Name"));
            let a = arn("secretsmanager", format!("secret:{name}-AbCdEf"));
            (a.clone(), Some(a))
        }
        "AWS::Kinesis::Stream" => {
            let name = name_of(stack, logical_id, props, Some("Name"));
            (name.clone(), Some(arn("kinesis", format!("stream/{name}"))))
        }
        "AWS::Cognito::UserPool" => {
            let id = format!("{REGION}_{logical_id}");
            attributes.insert(
                "ProviderURL".into(),
                format!("https://cognito-idp.{REGION}.amazonaws.com/{id}"),
            );
            (
                id.clone(),
                Some(arn("cognito-idp", format!("userpool/{id}"))),
            )
        }
        "AWS::ApiGateway::RestApi" | "AWS::ApiGatewayV2::Api" => {
            let id: String = lower.chars().take(10).collect();
            attributes.insert("RootResourceId".into(), format!("{id}root"));
            attributes.insert(
                "ApiEndpoint".into(),
                format!("https://{id}.execute-api.{REGION}.amazonaws.com"),
            );
            (id, None)
        }
        t if t.starts_with("AWS::ApiGateway") => (lower, None),
        _ => (format!("{stack}-{logical_id}"), None),
    };
    if let Some(a) = &arn {
        attributes.entry("Arn".into()).or_insert_with(|| a.clone());
    }
    Named {
        physical_id,
        arn,
        attributes,
    }
}

struct Resolver<'a> {
    stack: &'a str,
    names: &'a BTreeMap<String, Named>,
    parameters: BTreeMap<String, Value>,
    conditions: &'a Value,
    exports: &'a BTreeMap<String, Value>,
}

fn resolve_stack(
    name: &str,
    template: &Value,
    exports: &mut BTreeMap<String, Value>,
) -> LocalStack {
    let empty = Map::new();
    let resources = template["Resources"].as_object().unwrap_or(&empty);
    let parameters = template["Parameters"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                p.get("Default").cloned().unwrap_or(json!("param")),
            )
        })
        .collect();
    // Names first from unresolved properties (explicit names are literals in cfnkit's templates or Subs of
    // pseudo parameters, resolved below).
    let mut names_map = BTreeMap::new();
    let bootstrap = Resolver {
        stack: name,
        names: &BTreeMap::new(),
        parameters: BTreeMap::new(),
        conditions: &template["Conditions"],
        exports,
    };
    for (id, r) in resources {
        let props = bootstrap.resolve_lenient(&r["Properties"]);
        names_map.insert(
            id.clone(),
            names(name, id, r["Type"].as_str().unwrap_or(""), &props),
        );
    }
    let resolver = Resolver {
        stack: name,
        names: &names_map,
        parameters,
        conditions: &template["Conditions"],
        exports,
    };
    let mut local = BTreeMap::new();
    for (id, r) in resources {
        let named = &names_map[id];
        local.insert(
            id.clone(),
            LocalResource {
                logical_id: id.clone(),
                type_name: r["Type"].as_str().unwrap_or("").to_owned(),
                properties: resolver.resolve(r.get("Properties").unwrap_or(&json!({}))),
                physical_id: named.physical_id.clone(),
                arn: named.arn.clone(),
                metadata: r.get("Metadata").cloned().unwrap_or(Value::Null),
            },
        );
    }
    let mut new_exports = BTreeMap::new();
    for output in template["Outputs"].as_object().unwrap_or(&empty).values() {
        if let Some(export) = output.get("Export") {
            let export_name = resolver.resolve(&export["Name"]);
            new_exports.insert(
                export_name.as_str().unwrap_or_default().to_owned(),
                resolver.resolve(&output["Value"]),
            );
        }
    }
    exports.extend(new_exports);
    LocalStack {
        name: name.to_owned(),
        resources: local,
    }
}

const NO_VALUE: &str = "\u{0}AWS::NoValue";

impl Resolver<'_> {
    fn resolve(&self, v: &Value) -> Value {
        strip_no_value(self.walk(v, true))
    }

    /// Resolution before names are known: references become placeholders.
    fn resolve_lenient(&self, v: &Value) -> Value {
        strip_no_value(self.walk(v, false))
    }

    fn reference(&self, name: &str, strict: bool) -> Value {
        match name {
            "AWS::Region" => json!(REGION),
            "AWS::AccountId" => json!(ACCOUNT),
            "AWS::Partition" => json!("aws"),
            "AWS::URLSuffix" => json!("amazonaws.com"),
            "AWS::StackName" => json!(self.stack),
            "AWS::StackId" => json!(format!(
                "arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{}/id",
                self.stack
            )),
            "AWS::NoValue" => json!(NO_VALUE),
            "AWS::NotificationARNs" => json!([]),
            _ => {
                if let Some(p) = self.parameters.get(name) {
                    return p.clone();
                }
                match self.names.get(name) {
                    Some(n) => json!(n.physical_id),
                    None if strict => panic!("{}: Ref to unknown {name}", self.stack),
                    None => json!(format!("<{name}>")),
                }
            }
        }
    }

    fn attribute(&self, id: &str, attr: &str, strict: bool) -> Value {
        match self.names.get(id) {
            Some(n) => match n.attributes.get(attr) {
                Some(v) => json!(v),
                None => json!(format!("{}.{attr}", n.physical_id)),
            },
            None if strict => panic!("{}: GetAtt of unknown {id}", self.stack),
            None => json!(format!("<{id}.{attr}>")),
        }
    }

    fn condition(&self, name: &str) -> bool {
        self.truthy(&self.conditions[name])
    }

    fn truthy(&self, v: &Value) -> bool {
        let Some((k, a)) = v.as_object().and_then(|o| o.iter().next()) else {
            return v.as_bool().unwrap_or(true);
        };
        match k.as_str() {
            "Fn::Equals" => self.walk(&a[0], true) == self.walk(&a[1], true),
            "Fn::Not" => !self.truthy(&a[0]),
            "Fn::And" => a.as_array().unwrap().iter().all(|c| self.truthy(c)),
            "Fn::Or" => a.as_array().unwrap().iter().any(|c| self.truthy(c)),
            "Condition" => self.condition(a.as_str().unwrap()),
            _ => true,
        }
    }

    fn walk(&self, v: &Value, strict: bool) -> Value {
        match v {
            Value::Array(a) => Value::Array(a.iter().map(|x| self.walk(x, strict)).collect()),
            Value::Object(o) if o.len() == 1 => {
                let (k, a) = o.iter().next().unwrap();
                let s = |x: &Value| self.walk(x, strict);
                match k.as_str() {
                    "Ref" => self.reference(a.as_str().unwrap(), strict),
                    "Fn::GetAtt" => {
                        let (id, attr) = match a {
                            Value::String(s) => {
                                let (i, t) = s.split_once('.').unwrap();
                                (i.to_owned(), t.to_owned())
                            }
                            _ => (
                                a[0].as_str().unwrap().to_owned(),
                                s(&a[1]).as_str().unwrap().to_owned(),
                            ),
                        };
                        self.attribute(&id, &attr, strict)
                    }
                    "Fn::Sub" => {
                        let (template, vars) = match a {
                            Value::String(t) => (t.clone(), Map::new()),
                            _ => (
                                a[0].as_str().unwrap().to_owned(),
                                a[1].as_object().cloned().unwrap_or_default(),
                            ),
                        };
                        json!(self.sub(&template, &vars, strict))
                    }
                    "Fn::Join" => {
                        let sep = a[0].as_str().unwrap_or("");
                        let parts = s(&a[1]);
                        let parts: Vec<String> = parts
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|p| p.as_str() != Some(NO_VALUE))
                            .map(text)
                            .collect();
                        json!(parts.join(sep))
                    }
                    "Fn::Select" => {
                        let i = s(&a[0]).as_str().map_or_else(
                            || a[0].as_u64().unwrap() as usize,
                            |x| x.parse().unwrap(),
                        );
                        s(&a[1])[i].clone()
                    }
                    "Fn::Split" => {
                        let sep = a[0].as_str().unwrap();
                        json!(text(&s(&a[1])).split(sep).collect::<Vec<_>>())
                    }
                    "Fn::ImportValue" => {
                        let name = text(&s(a));
                        match self.exports.get(&name) {
                            Some(v) => v.clone(),
                            None if strict => panic!("{}: no export {name}", self.stack),
                            None => json!(format!("<import {name}>")),
                        }
                    }
                    "Fn::If" => {
                        let branch = if self.condition(a[0].as_str().unwrap()) {
                            &a[1]
                        } else {
                            &a[2]
                        };
                        s(branch)
                    }
                    "Fn::Base64" => s(a),
                    "Fn::GetAZs" => json!(["us-east-1a", "us-east-1b", "us-east-1c"]),
                    "Fn::ToJsonString" => json!(s(a).to_string()),
                    "Fn::Length" => json!(s(a).as_array().map_or(0, Vec::len)),
                    _ => Value::Object(o.iter().map(|(k, v)| (k.clone(), s(v))).collect()),
                }
            }
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.walk(v, strict)))
                    .collect(),
            ),
            v => v.clone(),
        }
    }

    fn sub(&self, template: &str, vars: &Map<String, Value>, strict: bool) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}').unwrap();
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.walk(v, strict)
            } else if let Some((id, attr)) = name.split_once('.') {
                self.attribute(id, attr, strict)
            } else {
                self.reference(name, strict)
            };
            out.push_str(&text(&value));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn strip_no_value(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(
            a.into_iter()
                .filter(|x| x.as_str() != Some(NO_VALUE))
                .map(strip_no_value)
                .collect(),
        ),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, x)| x.as_str() != Some(NO_VALUE))
                .map(|(k, x)| (k, strip_no_value(x)))
                .collect(),
        ),
        v => v,
    }
}

/// An [`Invoke`](cfnkit_local::invoke::Invoke) that records every event and answers with `answer`.
pub struct FakeInvoke {
    pub calls: std::sync::Mutex<Vec<(cfnkit_local::invoke::FunctionRef, Value)>>,
    #[allow(clippy::type_complexity)]
    answer: Box<
        dyn Fn(
                &cfnkit_local::invoke::FunctionRef,
                &Value,
            ) -> Result<Value, cfnkit_local::invoke::InvokeError>
            + Send
            + Sync,
    >,
}

impl FakeInvoke {
    pub fn new(
        answer: impl Fn(
                &cfnkit_local::invoke::FunctionRef,
                &Value,
            ) -> Result<Value, cfnkit_local::invoke::InvokeError>
            + Send
            + Sync
            + 'static,
    ) -> std::sync::Arc<FakeInvoke> {
        std::sync::Arc::new(FakeInvoke {
            calls: Default::default(),
            answer: Box::new(answer),
        })
    }

    /// The events `logical_id` was invoked with.
    pub fn events_of(&self, logical_id: &str) -> Vec<Value> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(f, _)| f.logical_id == logical_id)
            .map(|(_, e)| e.clone())
            .collect()
    }
}

impl cfnkit_local::invoke::Invoke for FakeInvoke {
    fn invoke<'a>(
        &'a self,
        function: &'a cfnkit_local::invoke::FunctionRef,
        payload: Value,
    ) -> cfnkit_local::invoke::InvokeFuture<'a> {
        let answer = (self.answer)(function, &payload);
        self.calls.lock().unwrap().push((function.clone(), payload));
        Box::pin(async move { answer })
    }
}

/// A response as a test reads it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request over a real connection.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let mut request = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_owned(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
