//! Creating what the templates declare in moto, and saying what the local run does not run.

use std::collections::BTreeMap;

use bytes::Bytes;
use hyper::Method;
use serde_json::{json, Value};

use crate::model::{LocalApp, LocalResource};
use crate::moto::client::{escape_xml, xml_text, AwsError, MotoClient};

/// Types created in moto from their properties.
pub const PROVISIONED: &[&str] = &[
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::DynamoDB::Table",
    "AWS::Kinesis::Stream",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::S3::Bucket",
];

/// Types the local run runs itself (functions as processes, event source mappings as pollers).
pub const RUN: &[&str] = &["AWS::Lambda::Function", "AWS::Lambda::EventSourceMapping"];

/// Types the local run reads without creating anything: roles and policies for IAM evaluation, invoke
/// permissions.
pub const READ: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
];

/// A resource, or part of one, that the local run does not run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotRun {
    /// The stack.
    pub stack: String,
    /// The logical ID.
    pub logical_id: String,
    /// The type.
    pub type_name: String,
    /// What is missing locally.
    pub reason: String,
}

impl std::fmt::Display for NotRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} ({}): {}",
            self.stack, self.logical_id, self.type_name, self.reason
        )
    }
}

/// A stack set (`cfnkit::constructs::cloudformation::StackSet`): its instances live in other accounts and
/// regions.
const STACK_SET: &str = <cfnkit::l1::cloudformation::StackSet as cfnkit::Resource>::TYPE_NAME;

/// Why the local run says a type is not run.
fn reason_for(type_name: &str) -> String {
    let service = type_name.split("::").nth(1).unwrap_or_default();
    match service {
        "KMS" => "encryption is not emulated: data is stored unencrypted".into(),
        // Its stack instances belong to the target accounts and regions, which one local account cannot stand in for.
        _ if type_name == STACK_SET => {
            "StackSets deploy to other accounts and regions: its stack instances are not created"
                .into()
        }
        "CloudWatch" => "alarms and dashboards are not evaluated".into(),
        _ if crate::apigw::SERVED_TYPES.contains(&type_name) => {
            "the APIs are not served: the run was started without an API server".into()
        }
        "ApiGateway" | "ApiGatewayV2" => {
            "API Gateway's account settings, API keys, usage plans and domains are not emulated"
                .into()
        }
        _ if type_name.ends_with("Policy") => "resource policies are not enforced".into(),
        _ => "not emulated by the local run".into(),
    }
}

/// Everything of `app` that is not created, run or read, and the parts of supported resources that are not
/// (a rule's schedule, an e-mail subscription...), sorted. `served` are types another part of the run serves
/// (the HTTP APIs).
pub fn not_run(app: &LocalApp, served: &[&str]) -> Vec<NotRun> {
    let mut out = Vec::new();
    for (stack, r) in app.resources() {
        let t = r.type_name.as_str();
        let mut push = |reason: String| {
            out.push(NotRun {
                stack: stack.to_owned(),
                logical_id: r.logical_id.clone(),
                type_name: r.type_name.clone(),
                reason,
            })
        };
        let handled = PROVISIONED.contains(&t)
            || RUN.contains(&t)
            || READ.contains(&t)
            || served.contains(&t);
        if !handled {
            push(reason_for(t));
            continue;
        }
        let p = &r.properties;
        match t {
            "AWS::Events::Rule" if p.get("ScheduleExpression").is_some() => {
                push("its schedule is not fired (put events on its bus to trigger its targets)".into())
            }
            "AWS::SNS::Subscription" if !matches!(p["Protocol"].as_str(), Some("sqs" | "lambda")) => {
                push(format!("{} subscriptions are not delivered", p["Protocol"]))
            }
            "AWS::S3::Bucket"
                if p["NotificationConfiguration"]
                    .get("EventBridgeConfiguration")
                    .is_some() =>
            {
                push("notifications to EventBridge are not sent".into())
            }
            "AWS::Lambda::EventSourceMapping" => {
                let arn = p["EventSourceArn"].as_str().unwrap_or_default();
                let known = arn.starts_with("arn:aws:sqs:")
                    || arn.starts_with("arn:aws:kinesis:")
                    || arn.contains(":table/") && arn.contains("/stream/");
                if !known {
                    push(format!("event source {arn} is not polled (SQS, DynamoDB and Kinesis streams are)"));
                }
            }
            "AWS::Lambda::Function" if r.metadata["cfnkit:asset"].is_null() => push(
                "its code is not a cfnkit asset (Code::cargo_bin or Code::asset), so there is no binary to run"
                    .into(),
            ),
            _ => {}
        }
    }
    out.sort();
    out
}

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
#[error("could not create {stack}/{logical_id} ({type_name}) in moto: {error}")]
pub struct ProvisionError {
    /// The stack.
    pub stack: String,
    /// The logical ID.
    pub logical_id: String,
    /// The type.
    pub type_name: String,
    /// moto's answer.
    pub error: AwsError,
}

/// Attribute values moto chose, by `(stack, logical ID)`, for [`crate::model::LoadOptions::actual`].
pub type Actual = BTreeMap<(String, String), BTreeMap<String, String>>;

/// Creates every resource of a [`PROVISIONED`] type in moto, in an order that satisfies their references
/// (dead-letter queues before their sources, queues and topics before subscriptions and rule targets).
pub async fn provision(app: &LocalApp, moto: &MotoClient) -> Result<Actual, ProvisionError> {
    let mut actual = Actual::new();
    for t in [
        "AWS::Logs::LogGroup",
        "AWS::SecretsManager::Secret",
        "AWS::DynamoDB::Table",
        "AWS::Kinesis::Stream",
    ] {
        for (stack, r) in app.of_type(t) {
            let got = create(moto, r)
                .await
                .map_err(|error| fail(stack, r, error))?;
            if !got.is_empty() {
                actual.insert((stack.to_owned(), r.logical_id.clone()), got);
            }
        }
    }
    // Queues whose dead-letter queue exists go first, until all are made.
    let mut queues: Vec<(&str, &LocalResource)> = app.of_type("AWS::SQS::Queue").collect();
    let mut made: Vec<String> = Vec::new();
    while !queues.is_empty() {
        let ready = queues.iter().position(|(_, r)| {
            r.properties["RedrivePolicy"]["deadLetterTargetArn"]
                .as_str()
                .is_none_or(|dlq| made.iter().any(|m| m == dlq))
        });
        // A redrive to a queue outside the app is moto's to judge: create it anyway.
        let (stack, r) = queues.remove(ready.unwrap_or(0));
        create(moto, r)
            .await
            .map_err(|error| fail(stack, r, error))?;
        made.extend(r.arn.clone());
    }
    for t in [
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::Events::EventBus",
        "AWS::Events::Rule",
        "AWS::S3::Bucket",
    ] {
        for (stack, r) in app.of_type(t) {
            create(moto, r)
                .await
                .map_err(|error| fail(stack, r, error))?;
        }
    }
    Ok(actual)
}

fn fail(stack: &str, r: &LocalResource, error: AwsError) -> ProvisionError {
    ProvisionError {
        stack: stack.to_owned(),
        logical_id: r.logical_id.clone(),
        type_name: r.type_name.clone(),
        error,
    }
}

fn string_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(_) | Value::Array(_) => v.to_string(),
        other => other.to_string(),
    }
}

/// The name of a bus from a rule's `EventBusName` (a name or an ARN).
pub fn bus_name(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.rsplit('/').next().unwrap_or(s).to_owned(),
        None => "default".to_owned(),
    }
}

/// Whether an ARN is a Lambda function's (targets and notifications the local run delivers itself).
pub fn is_function_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws:lambda:")
}

/// Whether the local run delivers a rule's events to this target itself: functions (moto cannot run them)
/// and Kinesis streams (moto 5.2.1 answers PutEvents with a server error for a rule with a Kinesis target).
pub fn delivered_locally(arn: &str) -> bool {
    is_function_arn(arn) || arn.starts_with("arn:aws:kinesis:")
}

async fn create(
    moto: &MotoClient,
    r: &LocalResource,
) -> Result<BTreeMap<String, String>, AwsError> {
    let p = &r.properties;
    let mut actual = BTreeMap::new();
    match r.type_name.as_str() {
        "AWS::Logs::LogGroup" => {
            moto.json(
                "logs",
                "Logs_20140328.CreateLogGroup",
                &json!({"logGroupName": r.name}),
            )
            .await?;
            if let Some(days) = p.get("RetentionInDays") {
                moto.json(
                    "logs",
                    "Logs_20140328.PutRetentionPolicy",
                    &json!({"logGroupName": r.name, "retentionInDays": days.as_i64().or_else(|| days.as_str()?.parse().ok())}),
                )
                .await?;
            }
        }
        "AWS::SecretsManager::Secret" => {
            let value = match (p.get("SecretString"), p.get("GenerateSecretString")) {
                (Some(s), _) => string_of(s),
                (None, Some(g)) => generate_secret(moto, g).await?,
                (None, None) => String::new(),
            };
            let mut body = json!({"Name": r.name, "SecretString": value});
            if let Some(d) = p.get("Description") {
                body["Description"] = d.clone();
            }
            let out = moto
                .json("secretsmanager", "secretsmanager.CreateSecret", &body)
                .await?;
            if let Some(arn) = out["ARN"].as_str() {
                actual.insert("Ref".to_owned(), arn.to_owned());
                actual.insert("Arn".to_owned(), arn.to_owned());
                actual.insert("Id".to_owned(), arn.to_owned());
            }
        }
        "AWS::DynamoDB::Table" => {
            let mut body = json!({
                "TableName": r.name,
                "KeySchema": p["KeySchema"],
                "AttributeDefinitions": p["AttributeDefinitions"],
                "BillingMode": p.get("BillingMode").cloned().unwrap_or(json!("PAY_PER_REQUEST")),
            });
            for key in ["ProvisionedThroughput", "LocalSecondaryIndexes"] {
                if let Some(v) = p.get(key) {
                    body[key] = v.clone();
                }
            }
            if let Some(Value::Array(gsis)) = p.get("GlobalSecondaryIndexes") {
                let cleaned: Vec<Value> = gsis
                    .iter()
                    .map(|g| {
                        let mut g = g.clone();
                        if let Some(o) = g.as_object_mut() {
                            o.remove("ContributorInsightsSpecification");
                        }
                        g
                    })
                    .collect();
                body["GlobalSecondaryIndexes"] = json!(cleaned);
            }
            if let Some(view) = p["StreamSpecification"].get("StreamViewType") {
                body["StreamSpecification"] =
                    json!({"StreamEnabled": true, "StreamViewType": view});
            }
            let out = moto
                .json("dynamodb", "DynamoDB_20120810.CreateTable", &body)
                .await?;
            if let Some(arn) = out["TableDescription"]["LatestStreamArn"].as_str() {
                actual.insert("StreamArn".to_owned(), arn.to_owned());
            }
            if let Some(ttl) = p.get("TimeToLiveSpecification") {
                moto.json(
                    "dynamodb",
                    "DynamoDB_20120810.UpdateTimeToLive",
                    &json!({"TableName": r.name, "TimeToLiveSpecification": ttl}),
                )
                .await?;
            }
        }
        "AWS::Kinesis::Stream" => {
            let shards = p["ShardCount"].as_i64().unwrap_or(1);
            moto.json(
                "kinesis",
                "Kinesis_20131202.CreateStream",
                &json!({"StreamName": r.name, "ShardCount": shards}),
            )
            .await?;
        }
        "AWS::SQS::Queue" => {
            let mut attributes = serde_json::Map::new();
            for key in [
                "ContentBasedDeduplication",
                "DeduplicationScope",
                "DelaySeconds",
                "FifoQueue",
                "FifoThroughputLimit",
                "MaximumMessageSize",
                "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds",
                "RedriveAllowPolicy",
                "RedrivePolicy",
                "VisibilityTimeout",
            ] {
                if let Some(v) = p.get(key) {
                    attributes.insert(key.to_owned(), json!(string_of(v)));
                }
            }
            moto.json(
                "sqs",
                "AmazonSQS.CreateQueue",
                &json!({"QueueName": r.name, "Attributes": attributes}),
            )
            .await?;
        }
        "AWS::SNS::Topic" => {
            let mut params = vec![
                param("Action", "CreateTopic"),
                param("Name", r.name.clone()),
            ];
            let mut n = 0;
            for key in ["FifoTopic", "ContentBasedDeduplication"] {
                if let Some(v) = p.get(key) {
                    n += 1;
                    params.push(param(&format!("Attributes.entry.{n}.key"), key));
                    params.push(param(&format!("Attributes.entry.{n}.value"), string_of(v)));
                }
            }
            moto.query("sns", &params).await?;
            for s in p["Subscription"].as_array().into_iter().flatten() {
                subscribe(moto, r.arn.as_deref().unwrap_or_default(), s).await?;
            }
        }
        "AWS::SNS::Subscription" => {
            subscribe(moto, p["TopicArn"].as_str().unwrap_or_default(), p).await?;
        }
        "AWS::Events::EventBus" => {
            moto.json(
                "events",
                "AWSEvents.CreateEventBus",
                &json!({"Name": r.name}),
            )
            .await?;
        }
        "AWS::Events::Rule" => {
            let bus = bus_name(&p["EventBusName"]);
            let mut body = json!({
                "Name": r.name,
                "EventBusName": bus,
                "State": p.get("State").cloned().unwrap_or(json!("ENABLED")),
            });
            if let Some(pattern) = p.get("EventPattern") {
                body["EventPattern"] = json!(string_of(pattern));
            }
            if let Some(s) = p.get("ScheduleExpression") {
                body["ScheduleExpression"] = s.clone();
            }
            moto.json("events", "AWSEvents.PutRule", &body).await?;
            // Function and Kinesis targets are the local run's to deliver; moto gets the rest.
            let targets: Vec<Value> = p["Targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| !delivered_locally(t["Arn"].as_str().unwrap_or_default()))
                .map(|t| {
                    let mut t = t.clone();
                    if let Some(o) = t.as_object_mut() {
                        o.remove("RoleArn");
                    }
                    t
                })
                .collect();
            if !targets.is_empty() {
                let out = moto
                    .json(
                        "events",
                        "AWSEvents.PutTargets",
                        &json!({"Rule": r.name, "EventBusName": bus, "Targets": targets}),
                    )
                    .await?;
                if out["FailedEntryCount"].as_i64().unwrap_or(0) > 0 {
                    return Err(AwsError {
                        operation: "AWSEvents.PutTargets".into(),
                        code: "FailedEntries".into(),
                        message: out["FailedEntries"].to_string(),
                    });
                }
            }
        }
        "AWS::S3::Bucket" => {
            moto.rest(
                "s3",
                Method::PUT,
                &format!("/{}", r.name),
                &[],
                Bytes::new(),
            )
            .await?;
            if p["VersioningConfiguration"]["Status"] == "Enabled" {
                moto.rest(
                    "s3",
                    Method::PUT,
                    &format!("/{}?versioning", r.name),
                    &[],
                    Bytes::from(
                        "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>",
                    ),
                )
                .await?;
            }
            let n = &p["NotificationConfiguration"];
            let mut xml = String::new();
            for (list, element, target) in [
                ("QueueConfigurations", "QueueConfiguration", "Queue"),
                ("TopicConfigurations", "TopicConfiguration", "Topic"),
            ] {
                for (i, c) in n[list].as_array().into_iter().flatten().enumerate() {
                    xml.push_str(&format!(
                        "<{element}><Id>{element}{i}</Id><{target}>{}</{target}><Event>{}</Event>{}</{element}>",
                        escape_xml(c[target].as_str().unwrap_or_default()),
                        escape_xml(c["Event"].as_str().unwrap_or_default()),
                        filter_xml(&c["Filter"]),
                    ));
                }
            }
            if !xml.is_empty() {
                moto.rest(
                    "s3",
                    Method::PUT,
                    &format!("/{}?notification", r.name),
                    &[],
                    Bytes::from(format!(
                        "<NotificationConfiguration>{xml}</NotificationConfiguration>"
                    )),
                )
                .await?;
            }
        }
        _ => {}
    }
    Ok(actual)
}

fn filter_xml(filter: &Value) -> String {
    let rules: String = filter["S3Key"]["Rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "<FilterRule><Name>{}</Name><Value>{}</Value></FilterRule>",
                escape_xml(r["Name"].as_str().unwrap_or_default()),
                escape_xml(r["Value"].as_str().unwrap_or_default())
            )
        })
        .collect();
    if rules.is_empty() {
        String::new()
    } else {
        format!("<Filter><S3Key>{rules}</S3Key></Filter>")
    }
}

fn param(key: &str, value: impl Into<String>) -> (String, String) {
    (key.to_owned(), value.into())
}

async fn subscribe(moto: &MotoClient, topic_arn: &str, s: &Value) -> Result<(), AwsError> {
    // Lambda subscriptions are delivered by the local run, other protocols than SQS are not delivered.
    if s["Protocol"] != "sqs" {
        return Ok(());
    }
    let mut params = vec![
        param("Action", "Subscribe"),
        param("TopicArn", topic_arn),
        param("Protocol", "sqs"),
        param("Endpoint", string_of(&s["Endpoint"])),
        param("ReturnSubscriptionArn", "true"),
    ];
    let mut n = 0;
    for key in [
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
    ] {
        if let Some(v) = s.get(key) {
            n += 1;
            params.push(param(&format!("Attributes.entry.{n}.key"), key));
            params.push(param(&format!("Attributes.entry.{n}.value"), string_of(v)));
        }
    }
    moto.query("sns", &params).await.map(|_| ())
}

/// A secret value as `GenerateSecretString` describes it, from moto's GetRandomPassword.
async fn generate_secret(moto: &MotoClient, g: &Value) -> Result<String, AwsError> {
    let mut body = json!({"PasswordLength": g["PasswordLength"].as_i64().unwrap_or(32)});
    for key in [
        "ExcludeCharacters",
        "ExcludeLowercase",
        "ExcludeNumbers",
        "ExcludePunctuation",
        "ExcludeUppercase",
        "IncludeSpace",
        "RequireEachIncludedType",
    ] {
        if let Some(v) = g.get(key) {
            body[key] = v.clone();
        }
    }
    let out = moto
        .json("secretsmanager", "secretsmanager.GetRandomPassword", &body)
        .await?;
    let password = out["RandomPassword"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match (
        g["SecretStringTemplate"].as_str(),
        g["GenerateStringKey"].as_str(),
    ) {
        (Some(template), Some(key)) => {
            let mut v: Value = serde_json::from_str(template).unwrap_or(json!({}));
            v[key] = json!(password);
            Ok(v.to_string())
        }
        _ => Ok(password),
    }
}

/// The XML text of one element of a query answer (`SubscriptionArn`), for callers of [`MotoClient::query`].
pub fn answer(xml: &str, tag: &str) -> Option<String> {
    xml_text(xml, tag)
}
