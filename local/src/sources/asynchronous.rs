//! Asynchronous invocation, and the sources that use it: rules with Lambda targets, SNS subscriptions of
//! protocol `lambda`, S3 notifications to Lambda, and `Invoke` with `InvocationType: Event`.
//!
//! As Lambda does (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html>): an event that fails
//! is retried twice (or `EventInvokeConfig`'s `MaximumRetryAttempts`), then sent to the function's
//! `DeadLetterConfig` target (SQS or SNS, with the `RequestID`, `ErrorCode` and `ErrorMessage` attributes) or
//! its on-failure destination. Lambda waits about a minute, then two, between attempts; the local run waits
//! [`AsyncConfig::retry_delays`] instead so that a failure shows in seconds. EventBridge delivers to a function
//! only with an `AWS::Lambda::Permission` for `events.amazonaws.com`; without one the event goes to the
//! target's dead-letter queue, as in AWS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use super::function_named;
use crate::invoke::{FunctionRef, Invoke, InvokeError};
use crate::model::LocalApp;
use crate::moto::client::MotoClient;
use crate::pattern;
use crate::proxy::Tap;
use crate::trace::Tracer;

/// How asynchronous invocation is paced locally.
#[derive(Clone, Debug)]
pub struct AsyncConfig {
    /// The wait before each retry (Lambda: about 1 and 2 minutes).
    pub retry_delays: Vec<Duration>,
}

impl Default for AsyncConfig {
    fn default() -> Self {
        AsyncConfig {
            retry_delays: vec![Duration::from_secs(1), Duration::from_secs(2)],
        }
    }
}

/// A rule's function target.
#[derive(Clone, Debug)]
struct RuleTarget {
    rule: String,
    rule_name: String,
    rule_arn: String,
    bus: String,
    pattern: Value,
    function: FunctionRef,
    target: Value,
}

/// A rule's Kinesis target.
#[derive(Clone, Debug)]
struct StreamTarget {
    rule: String,
    rule_name: String,
    bus: String,
    pattern: Value,
    stream: String,
    target: Value,
}

#[derive(Clone, Debug)]
struct SnsTarget {
    topic_arn: String,
    subscription: String,
    function: FunctionRef,
    filter: Option<Value>,
    scope: Option<String>,
}

#[derive(Clone, Debug)]
struct S3Target {
    bucket: String,
    bucket_label: String,
    function: FunctionRef,
    event: String,
    rules: Vec<(String, String)>,
}

/// Where a function's failed asynchronous events go.
#[derive(Clone, Debug, Default)]
struct FailurePolicy {
    max_retries: usize,
    dead_letter: Option<String>,
}

/// Delivers taps to the functions that subscribe to them, asynchronously.
pub struct AsyncInvoker {
    app: Arc<LocalApp>,
    invoker: Arc<dyn Invoke>,
    moto: MotoClient,
    tracer: Arc<Tracer>,
    config: AsyncConfig,
    rules: Vec<RuleTarget>,
    /// Rules with targets moto delivers to (queues, topics, streams), for `--trace`: (bus, pattern, rule,
    /// target ARNs).
    delivered_by_moto: Vec<(String, Value, String, Vec<String>)>,
    streams: Vec<StreamTarget>,
    topics: Vec<SnsTarget>,
    buckets: Vec<S3Target>,
    policies: BTreeMap<FunctionRef, FailurePolicy>,
    shutdown: watch::Receiver<bool>,
}

fn label(stack: &str, id: &str) -> String {
    format!("{stack}/{id}")
}

impl AsyncInvoker {
    /// Reads the app's rule targets, subscriptions, notifications and failure policies.
    pub fn new(
        app: Arc<LocalApp>,
        invoker: Arc<dyn Invoke>,
        moto: MotoClient,
        tracer: Arc<Tracer>,
        config: AsyncConfig,
        shutdown: watch::Receiver<bool>,
    ) -> AsyncInvoker {
        let mut rules = Vec::new();
        let mut delivered_by_moto = Vec::new();
        let mut streams = Vec::new();
        for (stack, r) in app.of_type("AWS::Events::Rule") {
            let p = &r.properties;
            if p["State"] == "DISABLED" {
                continue;
            }
            let Some(pattern) = p.get("EventPattern") else {
                continue;
            };
            let pattern = match pattern {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                v => v.clone(),
            };
            let others: Vec<String> = p["Targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t["Arn"].as_str())
                .filter(|a| !crate::provision::delivered_locally(a))
                .map(|a| {
                    let kind = if a.starts_with("arn:aws:sqs:") {
                        "AWS::SQS::Queue"
                    } else {
                        "AWS::SNS::Topic"
                    };
                    super::label(&app, kind, a)
                })
                .collect();
            if !others.is_empty() {
                delivered_by_moto.push((
                    crate::provision::bus_name(&p["EventBusName"]),
                    pattern.clone(),
                    label(stack, &r.logical_id),
                    others,
                ));
            }
            for t in p["Targets"].as_array().into_iter().flatten() {
                let arn = t["Arn"].as_str().unwrap_or_default();
                if arn.starts_with("arn:aws:kinesis:") {
                    streams.push(StreamTarget {
                        rule: label(stack, &r.logical_id),
                        rule_name: r.name.clone(),
                        bus: crate::provision::bus_name(&p["EventBusName"]),
                        pattern: pattern.clone(),
                        stream: super::label(&app, "AWS::Kinesis::Stream", arn),
                        target: t.clone(),
                    });
                }
                if !crate::provision::is_function_arn(arn) {
                    continue;
                }
                let Some(function) = function_named(&app, arn) else {
                    continue;
                };
                rules.push(RuleTarget {
                    rule: label(stack, &r.logical_id),
                    rule_name: r.name.clone(),
                    rule_arn: r.arn.clone().unwrap_or_default(),
                    bus: crate::provision::bus_name(&p["EventBusName"]),
                    pattern: pattern.clone(),
                    function,
                    target: t.clone(),
                });
            }
        }
        let mut topics = Vec::new();
        let mut subscribe = |topic_arn: &str, id: String, s: &Value| {
            if s["Protocol"] != "lambda" {
                return;
            }
            let Some(function) = function_named(&app, s["Endpoint"].as_str().unwrap_or_default())
            else {
                return;
            };
            topics.push(SnsTarget {
                topic_arn: topic_arn.to_owned(),
                subscription: id,
                function,
                filter: s.get("FilterPolicy").map(|f| match f {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                    v => v.clone(),
                }),
                scope: s["FilterPolicyScope"].as_str().map(str::to_owned),
            });
        };
        for (stack, r) in app.of_type("AWS::SNS::Subscription") {
            subscribe(
                r.properties["TopicArn"].as_str().unwrap_or_default(),
                label(stack, &r.logical_id),
                &r.properties,
            );
        }
        for (stack, r) in app.of_type("AWS::SNS::Topic") {
            for s in r.properties["Subscription"]
                .as_array()
                .into_iter()
                .flatten()
            {
                subscribe(&r.physical_id, label(stack, &r.logical_id), s);
            }
        }
        let mut buckets = Vec::new();
        for (stack, r) in app.of_type("AWS::S3::Bucket") {
            for c in r.properties["NotificationConfiguration"]["LambdaConfigurations"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(function) =
                    function_named(&app, c["Function"].as_str().unwrap_or_default())
                else {
                    continue;
                };
                buckets.push(S3Target {
                    bucket: r.name.clone(),
                    bucket_label: label(stack, &r.logical_id),
                    function,
                    event: c["Event"]
                        .as_str()
                        .unwrap_or("s3:ObjectCreated:*")
                        .to_owned(),
                    rules: c["Filter"]["S3Key"]["Rules"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            (
                                r["Name"].as_str().unwrap_or_default().to_lowercase(),
                                r["Value"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect(),
                });
            }
        }
        let mut policies = BTreeMap::new();
        for (stack, r) in app.of_type("AWS::Lambda::Function") {
            policies.insert(
                FunctionRef {
                    stack: stack.to_owned(),
                    logical_id: r.logical_id.clone(),
                },
                FailurePolicy {
                    max_retries: 2,
                    dead_letter: r.properties["DeadLetterConfig"]["TargetArn"]
                        .as_str()
                        .map(str::to_owned),
                },
            );
        }
        for (_, r) in app.of_type("AWS::Lambda::EventInvokeConfig") {
            let p = &r.properties;
            if let Some(f) = function_named(&app, p["FunctionName"].as_str().unwrap_or_default()) {
                let policy = policies.entry(f).or_default();
                if let Some(n) = p["MaximumRetryAttempts"].as_u64() {
                    policy.max_retries = n as usize;
                }
                if let Some(d) = p["DestinationConfig"]["OnFailure"]["Destination"].as_str() {
                    policy.dead_letter = Some(d.to_owned());
                }
            }
        }
        AsyncInvoker {
            app,
            invoker,
            moto,
            tracer,
            config,
            rules,
            delivered_by_moto,
            streams,
            topics,
            buckets,
            policies,
            shutdown,
        }
    }

    /// Whether an `AWS::Lambda::Permission` lets `principal` invoke `function` from `source_arn`.
    fn permitted(&self, function: &FunctionRef, principal: &str, source_arn: &str) -> bool {
        self.app.of_type("AWS::Lambda::Permission").any(|(_, r)| {
            let p = &r.properties;
            p["Principal"] == principal
                && function_named(&self.app, p["FunctionName"].as_str().unwrap_or_default())
                    .as_ref()
                    == Some(function)
                && p["SourceArn"].as_str().is_none_or(|s| {
                    s == source_arn
                        || crate::pattern::matches(
                            &json!({"a": [{"wildcard": s}]}),
                            &json!({"a": source_arn}),
                        )
                })
        })
    }

    /// Acts on one tap: every function target it reaches is invoked asynchronously.
    pub fn deliver(self: &Arc<Self>, tap: Tap) {
        match tap {
            Tap::Event { bus, event, .. } => {
                for (b, p, rule, targets) in &self.delivered_by_moto {
                    if *b == bus && pattern::matches(p, &event) {
                        for t in targets {
                            self.tracer.step(
                                &format!("bus {bus} -> rule {rule}"),
                                t,
                                &format!("event {} (delivered by moto)", event["id"]),
                            );
                        }
                    }
                }
                for t in self
                    .streams
                    .iter()
                    .filter(|t| t.bus == bus && pattern::matches(&t.pattern, &event))
                {
                    let this = self.clone();
                    let t = t.clone();
                    let event = event.clone();
                    tokio::spawn(async move { this.put_record(&t, &event).await });
                }
                for t in self
                    .rules
                    .iter()
                    .filter(|t| t.bus == bus && pattern::matches(&t.pattern, &event))
                {
                    self.tracer.step(
                        &format!("bus {bus}"),
                        &format!("rule {}", t.rule),
                        &format!("event {}", event["id"]),
                    );
                    if !self.permitted(&t.function, "events.amazonaws.com", &t.rule_arn) {
                        self.tracer.note(&format!(
                            "rule {} cannot invoke {}: no AWS::Lambda::Permission lets events.amazonaws.com invoke \
                             it from {}; grant it (function.grant_invoke or a Permission resource)",
                            t.rule, t.function, t.rule_arn
                        ));
                        if let Some(dlq) = t.target["DeadLetterConfig"]["Arn"].as_str() {
                            let this = self.clone();
                            let dlq = dlq.to_owned();
                            let body = event.to_string();
                            tokio::spawn(async move {
                                this.send_dead_letter(
                                    &dlq,
                                    &body,
                                    "NO_PERMISSIONS",
                                    "EventBridge is not allowed to invoke the function",
                                )
                                .await;
                            });
                        }
                        continue;
                    }
                    match transform(&t.target, &event, &t.rule_name) {
                        Ok(payload) => self.invoke_async(
                            t.function.clone(),
                            payload,
                            format!("rule {}", t.rule),
                        ),
                        Err(e) => self
                            .tracer
                            .note(&format!("rule {}: input transformer: {e}", t.rule)),
                    }
                }
            }
            Tap::Sns {
                topic_arn,
                message_id,
                message,
                subject,
                attributes,
                ..
            } => {
                for t in self.topics.iter().filter(|t| t.topic_arn == topic_arn) {
                    if let Some(policy) = &t.filter {
                        if !pattern::sns_filter_matches(
                            policy,
                            t.scope.as_deref(),
                            &message,
                            &attributes,
                        ) {
                            self.tracer
                                .step(&t.subscription, "filtered out", &message_id);
                            continue;
                        }
                    }
                    let attrs: serde_json::Map<String, Value> = attributes
                        .iter()
                        .map(|(k, (kind, v))| (k.clone(), json!({"Type": kind, "Value": v})))
                        .collect();
                    let payload = json!({"Records": [{
                        "EventVersion": "1.0",
                        "EventSubscriptionArn": format!("{topic_arn}:{}", crate::functions::request_id()),
                        "EventSource": "aws:sns",
                        "Sns": {
                            "Type": "Notification",
                            "MessageId": message_id,
                            "TopicArn": topic_arn,
                            "Subject": subject,
                            "Message": message,
                            "Timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                            "SignatureVersion": "1",
                            "Signature": "",
                            "SigningCertUrl": "",
                            "UnsubscribeUrl": "",
                            "MessageAttributes": attrs,
                        }
                    }]});
                    let topic = super::label(&self.app, "AWS::SNS::Topic", &topic_arn);
                    self.tracer.step(
                        &format!("topic {topic}"),
                        &t.function.to_string(),
                        &format!("message {message_id}"),
                    );
                    self.invoke_async(t.function.clone(), payload, format!("topic {topic}"));
                }
            }
            Tap::S3 {
                bucket,
                key,
                event_name,
                size,
                etag,
                version_id,
                ..
            } => {
                for t in self.buckets.iter().filter(|t| t.bucket == bucket) {
                    let wanted = t.event.trim_start_matches("s3:");
                    let matches_event = match wanted.strip_suffix('*') {
                        Some(prefix) => event_name.starts_with(prefix),
                        None => wanted == event_name,
                    };
                    let matches_key = t.rules.iter().all(|(name, value)| match name.as_str() {
                        "prefix" => key.starts_with(value.as_str()),
                        "suffix" => key.ends_with(value.as_str()),
                        _ => true,
                    });
                    if !matches_event || !matches_key {
                        continue;
                    }
                    // S3 URL-encodes the key in notifications, slashes aside (`my file/a.txt` is `my+file/a.txt`).
                    let encoded: String = form_urlencoded::byte_serialize(key.as_bytes())
                        .collect::<String>()
                        .replace("%2F", "/");
                    let payload = json!({"Records": [{
                        "eventVersion": "2.1",
                        "eventSource": "aws:s3",
                        "awsRegion": self.app.region,
                        "eventTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                        "eventName": event_name,
                        "userIdentity": {"principalId": "AWS:LOCAL"},
                        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                        "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
                        "s3": {
                            "s3SchemaVersion": "1.0",
                            "configurationId": "local",
                            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "LOCAL"}, "arn": format!("arn:aws:s3:::{bucket}")},
                            "object": {"key": encoded, "size": size, "eTag": etag, "versionId": version_id, "sequencer": format!("{:016X}", chrono::Utc::now().timestamp_micros())},
                        }
                    }]});
                    self.tracer.step(
                        &format!("bucket {}", t.bucket_label),
                        &t.function.to_string(),
                        &format!("{event_name} {key}"),
                    );
                    self.invoke_async(
                        t.function.clone(),
                        payload,
                        format!("bucket {}", t.bucket_label),
                    );
                }
            }
        }
    }

    /// Invokes `function` with `payload` in the background: retries, then the function's dead-letter target.
    pub fn invoke_async(self: &Arc<Self>, function: FunctionRef, payload: Value, source: String) {
        let this = self.clone();
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => {}
                _ = this.attempts(&function, payload, &source) => {}
            }
        });
    }

    async fn attempts(&self, function: &FunctionRef, payload: Value, source: &str) {
        let policy = self
            .policies
            .get(function)
            .cloned()
            .unwrap_or(FailurePolicy {
                max_retries: 2,
                dead_letter: None,
            });
        let mut last: Option<InvokeError> = None;
        for attempt in 0..=policy.max_retries {
            if attempt > 0 {
                let delay = self
                    .config
                    .retry_delays
                    .get(attempt - 1)
                    .or(self.config.retry_delays.last())
                    .copied()
                    .unwrap_or_default();
                self.tracer.step(
                    source,
                    &function.to_string(),
                    &format!("retry {attempt} after {} ms", delay.as_millis()),
                );
                tokio::time::sleep(delay).await;
            }
            match self.invoker.invoke(function, payload.clone()).await {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
        }
        let Some(error) = last else { return };
        let (code, message) = match &error {
            InvokeError::Function {
                error_type,
                error_message,
                ..
            } => (error_type.clone(), error_message.clone()),
            other => ("Unhandled".to_owned(), other.to_string()),
        };
        match &policy.dead_letter {
            Some(dlq) => {
                let queue = super::label(&self.app, if dlq.starts_with("arn:aws:sns:") { "AWS::SNS::Topic" } else { "AWS::SQS::Queue" }, dlq);
                self.tracer.note(&format!(
                    "{function}: event from {source} failed {} times: sent to its dead-letter target {queue}",
                    policy.max_retries + 1
                ));
                self.send_dead_letter(dlq, &payload.to_string(), &code, &message).await;
            }
            None => self.tracer.note(&format!(
                "{function}: event from {source} failed {} times and was dropped (the function has no DeadLetterConfig): {error}",
                policy.max_retries + 1
            )),
        }
    }

    /// Delivers an event to a rule's Kinesis target: the (transformed) event as the record's data, the
    /// partition key from `KinesisParameters.PartitionKeyPath` (the event id without one).
    async fn put_record(&self, t: &StreamTarget, event: &Value) {
        use base64::Engine;
        let data = match transform(&t.target, event, &t.rule_name) {
            Ok(Value::String(s)) => s,
            Ok(v) => v.to_string(),
            Err(e) => {
                self.tracer
                    .note(&format!("rule {}: input transformer: {e}", t.rule));
                return;
            }
        };
        let key = t.target["KinesisParameters"]["PartitionKeyPath"]
            .as_str()
            .and_then(|p| json_path(event, p))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_else(|| event["id"].as_str().unwrap_or("event").to_owned());
        self.tracer.step(
            &format!("rule {}", t.rule),
            &format!("stream {}", t.stream),
            &format!("event {}", event["id"]),
        );
        let put = self
            .moto
            .json(
                "kinesis",
                "Kinesis_20131202.PutRecord",
                &json!({
                    "StreamARN": t.target["Arn"],
                    "PartitionKey": key,
                    "Data": base64::engine::general_purpose::STANDARD.encode(data),
                }),
            )
            .await;
        if let Err(e) = put {
            self.tracer.note(&format!(
                "rule {} could not put the event on stream {}: {e}",
                t.rule, t.stream
            ));
        }
    }

    async fn send_dead_letter(&self, arn: &str, body: &str, code: &str, message: &str) {
        let result = if arn.starts_with("arn:aws:sns:") {
            self.moto
                .query(
                    "sns",
                    &[
                        ("Action".into(), "Publish".into()),
                        ("TopicArn".into(), arn.to_owned()),
                        ("Message".into(), body.to_owned()),
                    ],
                )
                .await
                .map(|_| ())
        } else {
            let Some((_, queue)) = self.app.find("AWS::SQS::Queue", arn) else {
                self.tracer.note(&format!(
                    "dead-letter target {arn} is not a queue of the app"
                ));
                return;
            };
            let attribute = |v: &str| json!({"DataType": "String", "StringValue": v});
            self.moto
                .json(
                    "sqs",
                    "AmazonSQS.SendMessage",
                    &json!({
                        "QueueUrl": queue.physical_id,
                        "MessageBody": body,
                        "MessageAttributes": {
                            "RequestID": attribute(&crate::functions::request_id()),
                            "ErrorCode": attribute(code),
                            "ErrorMessage": attribute(&message.chars().take(1000).collect::<String>()),
                        }
                    }),
                )
                .await
                .map(|_| ())
        };
        if let Err(e) = result {
            self.tracer
                .note(&format!("cannot send to dead-letter target {arn}: {e}"));
        }
    }
}

/// A value at a JSONPath of the simple form EventBridge uses (`$.detail.items[0].id`).
pub fn json_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let rest = path.strip_prefix('$')?;
    let mut cur = v;
    for part in rest.split('.').filter(|p| !p.is_empty()) {
        let (name, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            cur = cur.get(name)?;
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.trim_end_matches(']').parse().ok()?;
            cur = cur.get(n)?;
        }
    }
    Some(cur)
}

/// What a rule target passes to its function: the event, `Input`, `InputPath` or `InputTransformer`.
pub fn transform(target: &Value, event: &Value, rule_name: &str) -> Result<Value, String> {
    if let Some(input) = target["Input"].as_str() {
        return serde_json::from_str(input).map_err(|e| format!("Input is not JSON: {e}"));
    }
    if let Some(path) = target["InputPath"].as_str() {
        return Ok(json_path(event, path).cloned().unwrap_or(Value::Null));
    }
    let Some(t) = target.get("InputTransformer") else {
        return Ok(event.clone());
    };
    let template = t["InputTemplate"]
        .as_str()
        .ok_or("InputTemplate is missing")?;
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for (name, path) in t["InputPathsMap"].as_object().into_iter().flatten() {
        let path = path.as_str().unwrap_or_default();
        values.insert(
            name.clone(),
            json_path(event, path).cloned().unwrap_or(Value::Null),
        );
    }
    values.insert("aws.events.rule-name".into(), json!(rule_name));
    values.insert("aws.events.event".into(), event.clone());
    values.insert("aws.events.event.json".into(), event.clone());
    values.insert(
        "aws.events.event.ingestion-time".into(),
        event["time"].clone(),
    );
    let mut out = template.to_owned();
    for (name, v) in &values {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out = out.replace(&format!("<{name}>"), &text);
    }
    Ok(serde_json::from_str(&out).unwrap_or(Value::String(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_transformers_fill_the_template_from_the_event() {
        let event =
            json!({"id": "e1", "detail": {"order": {"id": "o-7", "total": 12}}, "time": "t"});
        let target = json!({"InputTransformer": {
            "InputPathsMap": {"id": "$.detail.order.id", "total": "$.detail.order.total"},
            "InputTemplate": "{\"order\": \"<id>\", \"total\": <total>, \"rule\": \"<aws.events.rule-name>\"}"
        }});
        assert_eq!(
            transform(&target, &event, "R").unwrap(),
            json!({"order": "o-7", "total": 12, "rule": "R"})
        );
        assert_eq!(
            transform(&json!({"InputPath": "$.detail.order"}), &event, "R").unwrap(),
            json!({"id": "o-7", "total": 12})
        );
        assert_eq!(
            transform(&json!({"Input": "{\"a\":1}"}), &event, "R").unwrap(),
            json!({"a": 1})
        );
        assert_eq!(transform(&json!({}), &event, "R").unwrap(), event);
    }
}
