//! Physical names, `Ref` values, ARNs and attributes as CloudFormation gives them, per resource type.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// What a resource is called locally.
#[derive(Clone, Debug)]
pub(super) struct Identity {
    /// What `Ref` returns.
    pub physical_id: String,
    /// The resource's own name (queue name, topic name...).
    pub name: String,
    pub arn: Option<String>,
    /// `Fn::GetAtt` values by attribute.
    pub attributes: serde_json::Map<String, Value>,
}

/// Where a type keeps its name, how long a generated one may be, and whether it is lower case.
struct Naming {
    property: &'static str,
    max: usize,
    lower: bool,
}

fn naming(type_name: &str) -> Naming {
    let (property, max, lower) = match type_name {
        "AWS::DynamoDB::Table" => ("TableName", 255, false),
        "AWS::SQS::Queue" => ("QueueName", 80, false),
        "AWS::SNS::Topic" => ("TopicName", 256, false),
        "AWS::Lambda::Function" => ("FunctionName", 64, false),
        "AWS::IAM::Role" => ("RoleName", 64, false),
        "AWS::IAM::ManagedPolicy" => ("ManagedPolicyName", 128, false),
        "AWS::Events::EventBus" => ("Name", 256, false),
        "AWS::Events::Rule" => ("Name", 64, false),
        "AWS::S3::Bucket" => ("BucketName", 63, true),
        "AWS::Kinesis::Stream" => ("Name", 128, false),
        "AWS::SecretsManager::Secret" => ("Name", 512, false),
        "AWS::Logs::LogGroup" => ("LogGroupName", 512, false),
        "AWS::StepFunctions::StateMachine" => ("StateMachineName", 80, false),
        "AWS::ApiGateway::RestApi" | "AWS::ApiGatewayV2::Api" => ("Name", 128, false),
        _ => ("Name", 128, false),
    };
    Naming {
        property,
        max,
        lower,
    }
}

/// The name property of a type, when it has one the local run honours.
pub(super) fn name_property(type_name: &str) -> &'static str {
    naming(type_name).property
}

/// A deterministic stand-in for CloudFormation's random suffix: 12 characters of `[A-Z0-9]` from a hash of
/// the stack and logical ID (and a salt, for suffixes of other kinds).
pub(super) fn suffix(stack: &str, logical_id: &str, salt: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let digest = Sha256::digest(format!("{stack}\0{logical_id}\0{salt}").as_bytes());
    digest
        .iter()
        .take(len)
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// `<stack>-<LogicalId>-<SUFFIX>`, cut to `max` as CloudFormation cuts it (the stack and logical ID parts
/// shorten, the suffix stays).
pub(super) fn generated_name(stack: &str, logical_id: &str, type_name: &str, fifo: bool) -> String {
    let n = naming(type_name);
    let sfx = suffix(stack, logical_id, "", 12);
    let tail = if fifo { ".fifo" } else { "" };
    let room = n.max.saturating_sub(sfx.len() + 2 + tail.len());
    let mut stack_part: String = stack.to_owned();
    let mut id_part: String = logical_id.to_owned();
    while stack_part.len() + id_part.len() > room {
        if stack_part.len() >= id_part.len() {
            stack_part.pop();
        } else {
            id_part.pop();
        }
    }
    let name = format!("{stack_part}-{id_part}-{sfx}{tail}");
    if n.lower {
        name.to_lowercase()
    } else {
        name
    }
}

/// The ARN of a resource of `type_name` called `name` (`physical_id` for types whose ARN holds the `Ref`).
pub fn arn_of(type_name: &str, name: &str, region: &str, account: &str) -> Option<String> {
    let r = region;
    let a = account;
    Some(match type_name {
        "AWS::DynamoDB::Table" => format!("arn:aws:dynamodb:{r}:{a}:table/{name}"),
        "AWS::SQS::Queue" => format!("arn:aws:sqs:{r}:{a}:{name}"),
        "AWS::SNS::Topic" => format!("arn:aws:sns:{r}:{a}:{name}"),
        "AWS::Lambda::Function" => format!("arn:aws:lambda:{r}:{a}:function:{name}"),
        "AWS::IAM::Role" => format!("arn:aws:iam::{a}:role/{name}"),
        "AWS::IAM::ManagedPolicy" => format!("arn:aws:iam::{a}:policy/{name}"),
        "AWS::Events::EventBus" => format!("arn:aws:events:{r}:{a}:event-bus/{name}"),
        "AWS::S3::Bucket" => format!("arn:aws:s3:::{name}"),
        "AWS::Kinesis::Stream" => format!("arn:aws:kinesis:{r}:{a}:stream/{name}"),
        "AWS::Logs::LogGroup" => format!("arn:aws:logs:{r}:{a}:log-group:{name}:*"),
        "AWS::StepFunctions::StateMachine" => format!("arn:aws:states:{r}:{a}:stateMachine:{name}"),
        "AWS::KMS::Key" => format!("arn:aws:kms:{r}:{a}:key/{name}"),
        "AWS::SQS::QueuePolicy" | "AWS::IAM::Policy" | "AWS::Lambda::Permission" => return None,
        _ => return None,
    })
}

/// A UUID-shaped id from the hash (a KMS key id, an event source mapping's UUID).
fn uuid_like(stack: &str, logical_id: &str) -> String {
    let h = hex(&Sha256::digest(format!("{stack}\0{logical_id}").as_bytes()));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The identity of a resource from its type and (resolved) explicit name, if any.
pub(super) fn identity(
    stack: &str,
    logical_id: &str,
    type_name: &str,
    explicit_name: Option<String>,
    properties: &Value,
    region: &str,
    account: &str,
) -> Identity {
    let fifo = properties["FifoQueue"] == true || properties["FifoTopic"] == true;
    let name = explicit_name.unwrap_or_else(|| match type_name {
        // CloudFormation names a function's log group after the function only through the property.
        "AWS::SecretsManager::Secret" => {
            format!("{logical_id}-{}", suffix(stack, logical_id, "", 12))
        }
        _ => generated_name(stack, logical_id, type_name, fifo),
    });
    let mut attributes = serde_json::Map::new();
    let arn = arn_of(type_name, &name, region, account);
    if let Some(arn) = &arn {
        attributes.insert("Arn".into(), json!(arn));
    }
    let physical_id = match type_name {
        "AWS::SQS::Queue" => {
            let url = format!("https://sqs.{region}.amazonaws.com/{account}/{name}");
            attributes.insert("QueueName".into(), json!(name));
            attributes.insert("QueueUrl".into(), json!(url));
            url
        }
        "AWS::SNS::Topic" => {
            let arn = arn.clone().unwrap_or_default();
            attributes.insert("TopicName".into(), json!(name));
            attributes.insert("TopicArn".into(), json!(arn));
            arn
        }
        "AWS::DynamoDB::Table" => {
            // The stream label moto gives is a timestamp known only once the table exists; this placeholder
            // is replaced through `LoadOptions::actual` after provisioning.
            if properties.get("StreamSpecification").is_some() {
                attributes.insert(
                    "StreamArn".into(),
                    json!(format!(
                        "arn:aws:dynamodb:{region}:{account}:table/{name}/stream/1970-01-01T00:00:00.000"
                    )),
                );
            }
            name.clone()
        }
        "AWS::Events::EventBus" => {
            attributes.insert("Name".into(), json!(name));
            name.clone()
        }
        "AWS::Events::Rule" => {
            let bus = properties["EventBusName"]
                .as_str()
                .map(|b| b.rsplit('/').next().unwrap_or(b).to_owned())
                .filter(|b| b != "default");
            let rule_arn = match &bus {
                Some(b) => format!("arn:aws:events:{region}:{account}:rule/{b}/{name}"),
                None => format!("arn:aws:events:{region}:{account}:rule/{name}"),
            };
            attributes.insert("Arn".into(), json!(rule_arn));
            let physical_id = match bus {
                Some(b) => format!("{b}|{name}"),
                None => name.clone(),
            };
            return Identity {
                physical_id,
                name,
                arn: Some(rule_arn),
                attributes,
            };
        }
        "AWS::S3::Bucket" => {
            attributes.insert(
                "DomainName".into(),
                json!(format!("{name}.s3.amazonaws.com")),
            );
            attributes.insert(
                "RegionalDomainName".into(),
                json!(format!("{name}.s3.{region}.amazonaws.com")),
            );
            attributes.insert(
                "WebsiteURL".into(),
                json!(format!("http://{name}.s3-website-{region}.amazonaws.com")),
            );
            name.clone()
        }
        "AWS::SecretsManager::Secret" => {
            let arn = format!(
                "arn:aws:secretsmanager:{region}:{account}:secret:{name}-{}",
                suffix(stack, logical_id, "secret", 6)
            );
            attributes.insert("Id".into(), json!(arn));
            attributes.insert("Arn".into(), json!(arn));
            return Identity {
                physical_id: arn.clone(),
                name,
                arn: Some(arn),
                attributes,
            };
        }
        "AWS::KMS::Key" => {
            let id = uuid_like(stack, logical_id);
            let arn = format!("arn:aws:kms:{region}:{account}:key/{id}");
            attributes.insert("Arn".into(), json!(arn));
            attributes.insert("KeyId".into(), json!(id));
            return Identity {
                physical_id: id.clone(),
                name: id,
                arn: Some(arn),
                attributes,
            };
        }
        "AWS::IAM::Role" => {
            attributes.insert(
                "RoleId".into(),
                json!(format!("AROA{}", suffix(stack, logical_id, "role", 17))),
            );
            name.clone()
        }
        // A gradually deployed function's triggers invoke its alias (`Function::deploy_gradually`): the alias's
        // `Ref` is its ARN, the function's qualified by the alias name, which the run resolves to the function.
        "AWS::Lambda::Alias" | "AWS::Lambda::Version" => {
            let function = properties["FunctionName"].as_str().unwrap_or_default();
            let function_arn = if function.starts_with("arn:") {
                function.to_owned()
            } else {
                format!("arn:aws:lambda:{region}:{account}:function:{function}")
            };
            let qualifier = match type_name {
                "AWS::Lambda::Alias" => properties["Name"].as_str().unwrap_or(&name).to_owned(),
                // The one version the local run has: the code it runs.
                _ => "1".to_owned(),
            };
            let arn = format!("{function_arn}:{qualifier}");
            if type_name == "AWS::Lambda::Alias" {
                attributes.insert("AliasArn".into(), json!(arn));
            } else {
                attributes.insert("Version".into(), json!(qualifier));
                attributes.insert("FunctionArn".into(), json!(function_arn));
            }
            return Identity {
                physical_id: arn.clone(),
                name: qualifier,
                arn: Some(arn),
                attributes,
            };
        }
        "AWS::Lambda::EventSourceMapping" => {
            let id = uuid_like(stack, logical_id);
            attributes.insert("Id".into(), json!(id));
            return Identity {
                physical_id: id.clone(),
                name: id,
                arn: None,
                attributes,
            };
        }
        "AWS::ApiGateway::RestApi" => {
            let id = suffix(stack, logical_id, "api", 10).to_lowercase();
            attributes.insert(
                "RootResourceId".into(),
                json!(suffix(stack, logical_id, "root", 10).to_lowercase()),
            );
            attributes.insert("RestApiId".into(), json!(id));
            return Identity {
                physical_id: id.clone(),
                name,
                arn: None,
                attributes,
            };
        }
        "AWS::ApiGatewayV2::Api" => {
            let id = suffix(stack, logical_id, "api", 10).to_lowercase();
            attributes.insert("ApiId".into(), json!(id));
            attributes.insert(
                "ApiEndpoint".into(),
                json!(format!("https://{id}.execute-api.{region}.amazonaws.com")),
            );
            return Identity {
                physical_id: id.clone(),
                name,
                arn: None,
                attributes,
            };
        }
        _ => name.clone(),
    };
    Identity {
        physical_id,
        name,
        arn,
        attributes,
    }
}

/// Whether a type is one whose `Ref` is its explicit name property: the others get generated ids.
pub(super) fn has_name(type_name: &str) -> bool {
    matches!(
        type_name,
        "AWS::DynamoDB::Table"
            | "AWS::SQS::Queue"
            | "AWS::SNS::Topic"
            | "AWS::Lambda::Function"
            | "AWS::IAM::Role"
            | "AWS::IAM::ManagedPolicy"
            | "AWS::Events::EventBus"
            | "AWS::Events::Rule"
            | "AWS::S3::Bucket"
            | "AWS::Kinesis::Stream"
            | "AWS::SecretsManager::Secret"
            | "AWS::Logs::LogGroup"
            | "AWS::StepFunctions::StateMachine"
    )
}
