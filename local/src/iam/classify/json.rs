//! awsJson 1.0 and 1.1: `X-Amz-Target: <Prefix>.<Operation>`, the parameters in a JSON body. The IAM action is
//! `<signing name>:<Operation>` except where IAM names it otherwise (SQS batches); the resource comes from the
//! body's well-known fields, service by service.

use serde_json::Value;

use super::{arn, ArnIndex, Check, Classified, ClassifyError};
use crate::iam::request::ApiRequest;

pub(super) fn classify(
    request: &ApiRequest,
    index: &ArnIndex,
) -> Result<Classified, ClassifyError> {
    let service = request.service.as_str();
    let target = request.header("x-amz-target").unwrap_or_default();
    let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
    let body: Value = if request.body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&request.body).map_err(|e| {
            ClassifyError::new(
                service,
                &operation,
                format!("the JSON body does not parse: {e}"),
            )
        })?
    };
    let call = Call {
        request,
        index,
        operation: &operation,
        body: &body,
    };
    match service {
        "dynamodb" => call.dynamodb(),
        "sqs" => call.sqs(),
        "kinesis" => call.kinesis(),
        "events" => call.events(),
        "secretsmanager" => call.secrets_manager(),
        "logs" => call.logs(),
        "states" => call.states(),
        "kms" => call.kms(),
        "ssm" => call.ssm(),
        _ => Err(call.unknown("a service cfnkit-local does not classify")),
    }
}

struct Call<'a> {
    request: &'a ApiRequest,
    index: &'a ArnIndex,
    operation: &'a str,
    body: &'a Value,
}

impl Call<'_> {
    fn action(&self) -> String {
        format!("{}:{}", self.request.service, self.operation)
    }

    fn arn(&self, resource: &str) -> String {
        arn(
            &self.request.service,
            &self.request.region,
            &self.request.account,
            resource,
        )
    }

    fn str(&self, field: &str) -> Option<&str> {
        self.body.get(field).and_then(Value::as_str)
    }

    fn one(&self, resource: String) -> Result<Classified, ClassifyError> {
        Ok(Classified::new(self.operation).with(Check::new(self.action(), resource)))
    }

    fn unknown(&self, reason: &str) -> ClassifyError {
        ClassifyError::new(&self.request.service, self.operation, reason)
    }

    fn missing(&self, fields: &str) -> ClassifyError {
        self.unknown(&format!(
            "the operation names no resource cfnkit-local knows ({fields} absent) and is not one that takes `*`"
        ))
    }

    fn dynamodb(&self) -> Result<Classified, ClassifyError> {
        let table = |name: &str| {
            if name.starts_with("arn:") {
                name.to_owned()
            } else {
                self.arn(&format!("table/{name}"))
            }
        };
        match self.operation {
            "ListTables" | "DescribeLimits" | "DescribeEndpoints" | "ListBackups"
            | "ListGlobalTables" | "ListImports" | "ListExports" => self.one("*".into()),
            // IAM authorizes a batch once per table under the batch's own action.
            "BatchGetItem" | "BatchWriteItem" => {
                let items = self
                    .body
                    .get("RequestItems")
                    .and_then(Value::as_object)
                    .ok_or_else(|| self.missing("RequestItems"))?;
                let mut c = Classified::new(self.operation);
                for name in items.keys() {
                    c.push(Check::new(self.action(), table(name)));
                }
                Ok(c)
            }
            // Transactions have no IAM action of their own: each item is authorized as its single-item action.
            "TransactGetItems" | "TransactWriteItems" => {
                let items = self
                    .body
                    .get("TransactItems")
                    .and_then(Value::as_array)
                    .ok_or_else(|| self.missing("TransactItems"))?;
                let mut c = Classified::new(self.operation);
                for item in items {
                    let (kind, inner) = item
                        .as_object()
                        .and_then(|o| o.iter().next())
                        .ok_or_else(|| self.unknown("a TransactItems entry is empty"))?;
                    let action = match kind.as_str() {
                        "Get" => "dynamodb:GetItem",
                        "Put" => "dynamodb:PutItem",
                        "Update" => "dynamodb:UpdateItem",
                        "Delete" => "dynamodb:DeleteItem",
                        "ConditionCheck" => "dynamodb:ConditionCheckItem",
                        other => {
                            return Err(self.unknown(&format!("unknown transaction item kind {other}")))
                        }
                    };
                    let name = inner
                        .get("TableName")
                        .and_then(Value::as_str)
                        .ok_or_else(|| self.missing("TableName of a transaction item"))?;
                    c.push(Check::new(action, table(name)));
                }
                Ok(c)
            }
            "ExecuteStatement" | "BatchExecuteStatement" | "ExecuteTransaction" => Err(self.unknown(
                "PartiQL statements are authorized per statement kind and table (dynamodb:PartiQLSelect...), \
                 which cfnkit-local does not parse; use the item operations (GetItem, Query, PutItem...)",
            )),
            // DynamoDB Streams signs as `dynamodb` too.
            "ListStreams" => self.one("*".into()),
            "DescribeStream" | "GetRecords" | "GetShardIterator" => match self.str("StreamArn") {
                Some(stream) => self.one(stream.to_owned()),
                // A shard iterator names its stream only in a form IAM's resource cannot be read from.
                None if self.operation == "GetRecords" => Err(self.unknown(
                    "GetRecords names its stream only inside the opaque shard iterator",
                )),
                None => Err(self.missing("StreamArn")),
            },
            _ => {
                if let Some(arn) = self.str("ResourceArn") {
                    return self.one(arn.to_owned());
                }
                let name = self
                    .str("TableName")
                    .ok_or_else(|| self.missing("TableName"))?;
                let mut resource = table(name);
                // A Query or Scan of an index is authorized on the index's ARN.
                if let Some(index) = self.str("IndexName") {
                    resource = format!("{resource}/index/{index}");
                }
                self.one(resource)
            }
        }
    }

    fn sqs(&self) -> Result<Classified, ClassifyError> {
        // The batch operations are authorized as their single-message actions.
        let action = match self.operation {
            "SendMessageBatch" => "sqs:SendMessage".to_owned(),
            "DeleteMessageBatch" => "sqs:DeleteMessage".to_owned(),
            "ChangeMessageVisibilityBatch" => "sqs:ChangeMessageVisibility".to_owned(),
            _ => self.action(),
        };
        let resource = match self.operation {
            "ListQueues" => "*".to_owned(),
            "GetQueueUrl" | "CreateQueue" => {
                let name = self
                    .str("QueueName")
                    .ok_or_else(|| self.missing("QueueName"))?;
                let account = self
                    .str("QueueOwnerAWSAccountId")
                    .unwrap_or(&self.request.account);
                arn("sqs", &self.request.region, account, name)
            }
            _ => {
                let url = self
                    .str("QueueUrl")
                    .ok_or_else(|| self.missing("QueueUrl"))?;
                queue_arn(url, &self.request.region).ok_or_else(|| {
                    self.unknown(&format!(
                        "QueueUrl {url} is not of the form <endpoint>/<account>/<queue name>"
                    ))
                })?
            }
        };
        Ok(Classified::new(self.operation).with(Check::new(action, resource)))
    }

    fn kinesis(&self) -> Result<Classified, ClassifyError> {
        if matches!(self.operation, "ListStreams" | "DescribeLimits") {
            return self.one("*".into());
        }
        if let Some(consumer) = self.str("ConsumerARN") {
            return self.one(consumer.to_owned());
        }
        if let Some(stream) = self.str("StreamARN") {
            return self.one(stream.to_owned());
        }
        match self.str("StreamName") {
            Some(name) => self.one(self.arn(&format!("stream/{name}"))),
            None => Err(self.missing("StreamARN, StreamName and ConsumerARN")),
        }
    }

    fn events(&self) -> Result<Classified, ClassifyError> {
        let bus = |name: Option<&str>| match name {
            Some(arn) if arn.starts_with("arn:") => arn.to_owned(),
            Some(name) => self.arn(&format!("event-bus/{name}")),
            None => self.arn("event-bus/default"),
        };
        match self.operation {
            // Each entry is authorized on its own bus.
            "PutEvents" => {
                let entries = self
                    .body
                    .get("Entries")
                    .and_then(Value::as_array)
                    .ok_or_else(|| self.missing("Entries"))?;
                let mut c = Classified::new(self.operation);
                for entry in entries {
                    let name = entry.get("EventBusName").and_then(Value::as_str);
                    c.push(Check::new(self.action(), bus(name)));
                }
                Ok(c)
            }
            "ListRules" | "ListEventBuses" | "TestEventPattern" | "ListRuleNamesByTarget" => {
                self.one("*".into())
            }
            "DescribeEventBus" | "CreateEventBus" | "DeleteEventBus" => {
                self.one(bus(self.str("Name")))
            }
            "PutRule" | "DescribeRule" | "DeleteRule" | "EnableRule" | "DisableRule"
            | "PutTargets" | "RemoveTargets" | "ListTargetsByRule" => {
                let name = self
                    .str("Name")
                    .or_else(|| self.str("Rule"))
                    .ok_or_else(|| self.missing("Name and Rule"))?;
                // Rules on the default bus are `rule/<name>`, on another bus `rule/<bus>/<name>`.
                let resource = match self.str("EventBusName") {
                    Some(b) if b != "default" => {
                        let b = b.rsplit('/').next().unwrap_or(b);
                        format!("rule/{b}/{name}")
                    }
                    _ => format!("rule/{name}"),
                };
                self.one(self.arn(&resource))
            }
            _ => Err(self.unknown("an EventBridge operation cfnkit-local does not classify")),
        }
    }

    fn secrets_manager(&self) -> Result<Classified, ClassifyError> {
        let secret = |id: &str| {
            if id.starts_with("arn:") {
                id.to_owned()
            } else {
                // A name stands for the secret's full ARN (with its random suffix).
                self.index
                    .secrets
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| self.arn(&format!("secret:{id}")))
            }
        };
        match self.operation {
            "ListSecrets" | "GetRandomPassword" => self.one("*".into()),
            "BatchGetSecretValue" => {
                let mut c = Classified::new(self.operation)
                    .with(Check::new("secretsmanager:BatchGetSecretValue", "*"));
                for id in self
                    .body
                    .get("SecretIdList")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    c.push(Check::new("secretsmanager:GetSecretValue", secret(id)));
                }
                Ok(c)
            }
            "CreateSecret" => {
                let name = self.str("Name").ok_or_else(|| self.missing("Name"))?;
                self.one(secret(name))
            }
            _ => {
                let id = self
                    .str("SecretId")
                    .ok_or_else(|| self.missing("SecretId"))?;
                self.one(secret(id))
            }
        }
    }

    fn logs(&self) -> Result<Classified, ClassifyError> {
        if matches!(self.operation, "DescribeLogGroups" | "DescribeDestinations") {
            return self.one(self.arn("log-group:*"));
        }
        let group = self
            .str("logGroupName")
            .map(str::to_owned)
            .or_else(|| {
                self.str("logGroupIdentifier").map(|id| {
                    let id = id.split(":log-group:").nth(1).unwrap_or(id);
                    id.trim_end_matches(":*").to_owned()
                })
            })
            .ok_or_else(|| self.missing("logGroupName and logGroupIdentifier"))?;
        // Stream operations are authorized on the stream; group operations on `log-group:<name>:*`, the ARN
        // CloudFormation returns for a group and what grants name.
        let resource = match self.str("logStreamName") {
            Some(stream) => format!("log-group:{group}:log-stream:{stream}"),
            None => format!("log-group:{group}:*"),
        };
        self.one(self.arn(&resource))
    }

    fn states(&self) -> Result<Classified, ClassifyError> {
        if matches!(
            self.operation,
            "ListStateMachines"
                | "ListActivities"
                | "SendTaskSuccess"
                | "SendTaskFailure"
                | "SendTaskHeartbeat"
        ) {
            return self.one("*".into());
        }
        ["stateMachineArn", "executionArn", "activityArn"]
            .iter()
            .find_map(|f| self.str(f))
            .map(|arn| self.one(arn.to_owned()))
            .unwrap_or_else(|| Err(self.missing("stateMachineArn, executionArn and activityArn")))
    }

    fn kms(&self) -> Result<Classified, ClassifyError> {
        if matches!(
            self.operation,
            "ListKeys" | "ListAliases" | "GenerateRandom"
        ) {
            return self.one("*".into());
        }
        let id = self.str("KeyId").ok_or_else(|| {
            self.unknown(
                "the call names no KeyId (a Decrypt without KeyId names its key only inside the ciphertext); \
                 pass the key's ARN as KeyId",
            )
        })?;
        let resource = if let Some(alias) = id
            .split(':')
            .next_back()
            .filter(|a| a.starts_with("alias/"))
        {
            self.index.kms_aliases.get(alias).cloned().ok_or_else(|| {
                self.unknown(&format!(
                    "the alias {alias} is not an AWS::KMS::Alias of the app"
                ))
            })?
        } else if id.starts_with("arn:") {
            id.to_owned()
        } else {
            self.arn(&format!("key/{id}"))
        };
        self.one(resource)
    }

    fn ssm(&self) -> Result<Classified, ClassifyError> {
        let parameter = |name: &str| {
            if name.starts_with("arn:") {
                name.to_owned()
            } else {
                // `/a/b` is `parameter/a/b`, `a` is `parameter/a`.
                self.arn(&format!("parameter/{}", name.trim_start_matches('/')))
            }
        };
        match self.operation {
            "DescribeParameters" => self.one("*".into()),
            "GetParameters" => {
                let mut c = Classified::new(self.operation);
                for name in self
                    .body
                    .get("Names")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    c.push(Check::new(self.action(), parameter(name)));
                }
                Ok(c)
            }
            "GetParametersByPath" => {
                let path = self.str("Path").ok_or_else(|| self.missing("Path"))?;
                self.one(parameter(path))
            }
            _ => {
                let name = self.str("Name").ok_or_else(|| self.missing("Name"))?;
                self.one(parameter(name))
            }
        }
    }
}

/// `https://sqs.us-east-1.amazonaws.com/123456789012/orders` (or moto's `http://localhost:5000/123456789012/orders`)
/// -> `arn:aws:sqs:<region>:123456789012:orders`.
pub(crate) fn queue_arn(url: &str, region: &str) -> Option<String> {
    let path = url.split("://").nth(1).unwrap_or(url);
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let account = parts
        .next()
        .filter(|a| a.chars().all(|c| c.is_ascii_digit()))?;
    Some(arn("sqs", region, account, name))
}
