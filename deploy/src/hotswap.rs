//! `deploy --hotswap`: when all a stack's template changes are Lambda functions' code (the asset's S3 key, whose
//! name holds the zip's hash) or environment variables, the functions are updated directly (UpdateFunctionCode,
//! UpdateFunctionConfiguration), which takes seconds where a change set takes a minute. The stack's template in
//! CloudFormation then differs from what runs until the next deploy without --hotswap.
//!
//! Functions are compared with what runs, not only with the deployed template, so that a change hotswapped
//! earlier and since undone in the source (a save in `cargo cfn watch`) is undone in the function too.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::resource::Resource;
use serde_json::Value;

use crate::aws::Clients;
use crate::cfn::Deployed;
use crate::diff::{self, Kind};
use crate::error::DeployError;
use crate::template::is_intrinsic;

const FUNCTION: &str = <cfnkit::l1::lambda::Function as Resource>::TYPE_NAME;

/// How often a function being updated is asked whether its update finished, and for how long at most. Lambda
/// finishes most updates within seconds; one attached to a VPC can take minutes.
const POLL: Duration = Duration::from_millis(500);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a stack is deployed through a change set after all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Fallback {
    #[error("it is not deployed yet")]
    NotDeployed,
    #[error("it is in {0}, not settled after a successful deploy")]
    Unsettled(String),
    #[error("{entry} changes ({what}), which only a change set deploys")]
    OtherChange { entry: String, what: String },
    #[error("the value of parameter {0} changes")]
    Parameter(String),
    #[error("its tags change")]
    Tags,
    #[error(
        "the new {what} of function {function} uses {construct}, which only CloudFormation evaluates"
    )]
    Unevaluable {
        function: String,
        what: String,
        construct: String,
    },
    #[error("function {0} has no physical ID in the stack")]
    NoPhysicalId(String),
}

/// A function of the new template, with what the template changes in it.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionTarget {
    pub logical_id: String,
    /// The `S3Bucket` and `S3Key` expressions; `None` for inline or image code, which is never hotswapped.
    pub code: Option<(Value, Value)>,
    pub code_changed: bool,
    /// Each variable's expression, and whether the template changes it.
    pub environment: BTreeMap<String, (Value, bool)>,
}

/// The functions of `new`, when every difference from `old` is a function's code location or environment;
/// otherwise the first other difference, as the reason to deploy through a change set.
pub fn targets(old: &Value, new: &Value) -> Result<Vec<FunctionTarget>, Fallback> {
    let mut changed: BTreeMap<&str, (bool, Vec<String>)> = BTreeMap::new();
    for entry in diff::diff_templates(Some(old), new).entries {
        let name = format!("{}.{}", entry.section, entry.id);
        let swappable = entry.section == "Resources"
            && entry.kind == Kind::Modified
            && [old, new].iter().all(|t| {
                t["Resources"][&entry.id]
                    .get("Type")
                    .and_then(Value::as_str)
                    == Some(FUNCTION)
            });
        let other = |what: String| Fallback::OtherChange {
            entry: name.clone(),
            what,
        };
        if !swappable {
            return Err(other(match entry.kind {
                Kind::Added => "added".into(),
                Kind::Removed => "removed".into(),
                Kind::Moved => "moved".into(),
                Kind::Modified => paths(&entry.changes),
            }));
        }
        let id = new["Resources"]
            .as_object()
            .and_then(|r| r.get_key_value(&entry.id))
            .map(|(k, _)| k.as_str())
            .unwrap_or_default();
        let mut variables = Vec::new();
        let mut code = false;
        for change in &entry.changes {
            if let Some(v) = change
                .path
                .strip_prefix("Properties.Environment.Variables.")
            {
                variables.push(v.to_owned());
            } else if change.path == "Properties.Environment"
                || change.path == "Properties.Environment.Variables"
            {
                variables.push(String::new());
            } else if ["S3Bucket", "S3Key", "S3ObjectVersion"]
                .iter()
                .any(|p| change.path == format!("Properties.Code.{p}"))
            {
                code = true;
            } else {
                return Err(other(paths(&entry.changes)));
            }
        }
        changed.insert(id, (code, variables));
    }
    let mut out = Vec::new();
    for (id, resource) in new["Resources"].as_object().into_iter().flatten() {
        if resource.get("Type").and_then(Value::as_str) != Some(FUNCTION) {
            continue;
        }
        let props = &resource["Properties"];
        let (code_changed, vars) = changed.remove(id.as_str()).unwrap_or_default();
        // A whole environment added or replaced changes every variable in it.
        let all_vars = vars.iter().any(String::is_empty);
        let code = match (props["Code"].get("S3Bucket"), props["Code"].get("S3Key")) {
            (Some(b), Some(k)) => Some((b.clone(), k.clone())),
            _ if code_changed => {
                return Err(Fallback::OtherChange {
                    entry: format!("Resources.{id}"),
                    what: "Properties.Code, not in S3".into(),
                })
            }
            _ => None,
        };
        let environment = props["Environment"]["Variables"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), (v.clone(), all_vars || vars.contains(k))))
            .collect();
        out.push(FunctionTarget {
            logical_id: id.clone(),
            code,
            code_changed,
            environment,
        });
    }
    Ok(out)
}

fn paths(changes: &[diff::PathChange]) -> String {
    let mut listed: Vec<&str> = changes.iter().map(|c| c.path.as_str()).take(3).collect();
    if changes.len() > 3 {
        listed.push("...");
    }
    listed.join(", ")
}

/// What a template expression is evaluated with, outside CloudFormation: the pseudo parameters, the stack's
/// parameter values, its resources' physical IDs and the region's exports. `Fn::GetAtt`, `Fn::If` and the like
/// are not evaluated: a change to one goes through a change set.
#[derive(Clone, Debug, Default)]
pub struct Context {
    pub account: String,
    pub region: String,
    pub stack_name: String,
    pub stack_id: String,
    pub parameters: BTreeMap<String, String>,
    /// Logical ID to physical ID.
    pub physical: BTreeMap<String, String>,
    pub exports: BTreeMap<String, String>,
}

impl Context {
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    fn reference(&self, name: &str) -> Result<String, String> {
        let found = match name {
            "AWS::AccountId" => Some(self.account.clone()),
            "AWS::Region" => Some(self.region.clone()),
            "AWS::Partition" => Some(self.partition().to_owned()),
            "AWS::StackName" => Some(self.stack_name.clone()),
            "AWS::StackId" => Some(self.stack_id.clone()),
            "AWS::URLSuffix" if self.region.starts_with("cn-") => {
                Some("amazonaws.com.cn".to_owned())
            }
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            // NoEcho parameters are reported masked; the real value is CloudFormation's alone.
            _ => match self.parameters.get(name) {
                Some(v) if v != "****" => Some(v.clone()),
                Some(_) => None,
                None => self.physical.get(name).cloned(),
            },
        };
        found.ok_or_else(|| format!("Ref {name}"))
    }

    /// The string value of `expr`, or the construct that cannot be evaluated here (`Fn::GetAtt`, `Ref X`).
    pub fn evaluate(&self, expr: &Value) -> Result<String, String> {
        match expr {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Object(m) if is_intrinsic(m) => {
                let (f, arg) = m.iter().next().expect("an intrinsic has one key");
                match (f.as_str(), arg) {
                    ("Ref", Value::String(name)) => self.reference(name),
                    ("Fn::Sub", Value::String(pattern)) => self.sub(pattern, &Default::default()),
                    ("Fn::Sub", Value::Array(a)) if a.len() == 2 => {
                        let vars = a[1].as_object().cloned().unwrap_or_default();
                        self.sub(a[0].as_str().unwrap_or_default(), &vars)
                    }
                    ("Fn::Join", Value::Array(a)) if a.len() == 2 => {
                        let parts = a[1].as_array().ok_or("Fn::Join of a list expression")?;
                        let parts = parts
                            .iter()
                            .map(|p| self.evaluate(p))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(parts.join(a[0].as_str().unwrap_or_default()))
                    }
                    ("Fn::Select", Value::Array(a)) if a.len() == 2 => {
                        let index: usize = self
                            .evaluate(&a[0])?
                            .parse()
                            .map_err(|_| "Fn::Select with a bad index")?;
                        let list = a[1].as_array().ok_or("Fn::Select of a list expression")?;
                        self.evaluate(list.get(index).ok_or("Fn::Select out of range")?)
                    }
                    ("Fn::ImportValue", name) => {
                        let name = self.evaluate(name)?;
                        self.exports
                            .get(&name)
                            .cloned()
                            .ok_or_else(|| format!("Fn::ImportValue {name}"))
                    }
                    (f, _) => Err(f.to_owned()),
                }
            }
            _ => Err("a list or object value".into()),
        }
    }

    /// `Fn::Sub`: `${Name}` from `vars` or as a `Ref`, `${!Literal}` as `${Literal}`; `${X.Attr}` is a GetAtt.
    fn sub(&self, pattern: &str, vars: &serde_json::Map<String, Value>) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("Fn::Sub {pattern:?}"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(&self.evaluate(v)?);
            } else if name.contains('.') {
                return Err(format!("Fn::GetAtt {name}"));
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A function as it runs: what GetFunctionConfiguration says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Running {
    /// Base64 SHA-256 of the code zip.
    pub code_sha256: String,
    pub environment: BTreeMap<String, String>,
}

/// What to change in one function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionUpdate {
    pub logical_id: String,
    pub function_name: String,
    /// `(bucket, key)` of the new code.
    pub code: Option<(String, String)>,
    /// The whole new environment (Lambda replaces it), and the names of the variables that change.
    pub environment: Option<(BTreeMap<String, String>, Vec<String>)>,
}

impl FunctionUpdate {
    /// `Ingest (code, environment: TABLE, QUEUE)`.
    pub fn describe(&self) -> String {
        let mut what = Vec::new();
        if self.code.is_some() {
            what.push("code".to_owned());
        }
        if let Some((_, vars)) = &self.environment {
            what.push(format!("environment: {}", vars.join(", ")));
        }
        format!("{} ({})", self.logical_id, what.join(", "))
    }
}

/// The hex SHA-256 an asset key names (`assets/<bin>/<hash>.zip`), as Lambda reports a zip's: base64.
pub fn key_sha256(key: &str) -> Option<String> {
    let hex = key.strip_suffix(".zip")?.rsplit('/').next()?;
    if hex.len() != 64 {
        return None;
    }
    let bytes = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(aws_smithy_types::base64::encode(bytes))
}

/// What to change in `target` so it runs as the new template says: its code when the template changes it or
/// the running zip is another than the key names, its environment when it differs from the evaluated one.
pub fn update_for(
    target: &FunctionTarget,
    function_name: &str,
    running: &Running,
    context: &Context,
) -> Result<Option<FunctionUpdate>, Fallback> {
    let unevaluable = |what: &str, construct: String| Fallback::Unevaluable {
        function: target.logical_id.clone(),
        what: what.to_owned(),
        construct,
    };
    let mut code = None;
    if let Some((bucket, key)) = &target.code {
        let key_value = context.evaluate(key);
        // An asset key names the zip's hash: compared with what runs, since the deployed template still names
        // the code from before any hotswap. Another key is only known to change when the template changes it.
        let differs = match key_value.as_deref().ok().and_then(key_sha256) {
            Some(sha) => sha != running.code_sha256,
            None => target.code_changed,
        };
        if differs {
            let key = key_value.map_err(|c| unevaluable("code key", c))?;
            let bucket = context
                .evaluate(bucket)
                .map_err(|c| unevaluable("code bucket", c))?;
            code = Some((bucket, key));
        }
    }
    let mut wanted = BTreeMap::new();
    for (name, (expr, changed)) in &target.environment {
        if expr.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") {
            continue;
        }
        let value = match context.evaluate(expr) {
            Ok(v) => v,
            // Unchanged in the template: the function holds the value CloudFormation evaluated.
            Err(c) => match running.environment.get(name) {
                Some(v) if !changed => v.clone(),
                _ => return Err(unevaluable(&format!("value of {name}"), c)),
            },
        };
        wanted.insert(name.clone(), value);
    }
    let environment = (wanted != running.environment).then(|| {
        let vars = wanted
            .keys()
            .chain(running.environment.keys())
            .filter(|k| wanted.get(*k) != running.environment.get(*k))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        (wanted, vars)
    });
    Ok(
        (code.is_some() || environment.is_some()).then(|| FunctionUpdate {
            logical_id: target.logical_id.clone(),
            function_name: function_name.to_owned(),
            code,
            environment,
        }),
    )
}

/// Whether a stack can be hotswapped, and how.
#[derive(Debug)]
pub enum Plan {
    /// The functions to update (none: the stack runs as its new template says).
    Hotswap(Vec<FunctionUpdate>),
    ChangeSet(Fallback),
}

/// Plans the hotswap of stack `name` (deployed as `deployed` with template `old`) to template `new`, with the
/// parameters and tags the deploy gives it. Asks CloudFormation for the stack's physical IDs (and exports, when
/// the functions import any) and Lambda for each function's running configuration; changes nothing.
pub async fn plan(
    clients: &Clients,
    name: &str,
    deployed: Option<(&Deployed, &Value)>,
    new: &Value,
    parameters: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
) -> Result<Plan, DeployError> {
    let Some((deployed, old)) = deployed else {
        return Ok(Plan::ChangeSet(Fallback::NotDeployed));
    };
    if !matches!(
        deployed.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE"
    ) {
        return Ok(Plan::ChangeSet(Fallback::Unsettled(
            deployed.status.clone(),
        )));
    }
    if let Some(k) = parameters
        .iter()
        .find(|(k, v)| deployed.parameters.get(*k) != Some(v))
        .map(|(k, _)| k)
    {
        return Ok(Plan::ChangeSet(Fallback::Parameter(k.clone())));
    }
    if *tags != deployed.tags {
        return Ok(Plan::ChangeSet(Fallback::Tags));
    }
    let targets = match targets(old, new) {
        Ok(t) => t,
        Err(f) => return Ok(Plan::ChangeSet(f)),
    };
    if targets.is_empty() {
        return Ok(Plan::Hotswap(Vec::new()));
    }
    let imports = targets.iter().any(|t| {
        serde_json::to_string(&t.environment).is_ok_and(|s| s.contains("Fn::ImportValue"))
    });
    let context = Context {
        account: clients.account().await?.to_owned(),
        region: clients.region.clone(),
        stack_name: name.to_owned(),
        stack_id: deployed.id.clone(),
        parameters: deployed.parameters.clone(),
        physical: crate::cfn::physical_ids(&clients.cfn, name).await?,
        exports: if imports {
            crate::cfn::exports(&clients.cfn).await?
        } else {
            BTreeMap::new()
        },
    };
    let mut updates = Vec::new();
    for target in &targets {
        let Some(function_name) = context.physical.get(&target.logical_id) else {
            return Ok(Plan::ChangeSet(Fallback::NoPhysicalId(
                target.logical_id.clone(),
            )));
        };
        let running = running(clients, function_name).await?;
        match update_for(target, function_name, &running, &context) {
            Ok(Some(u)) => updates.push(u),
            Ok(None) => {}
            Err(f) => return Ok(Plan::ChangeSet(f)),
        }
    }
    Ok(Plan::Hotswap(updates))
}

async fn running(clients: &Clients, function_name: &str) -> Result<Running, DeployError> {
    let out = clients
        .lambda
        .get_function_configuration()
        .function_name(function_name)
        .send()
        .await
        .map_err(|e| DeployError::aws("lambda:GetFunctionConfiguration", function_name, e))?;
    Ok(Running {
        code_sha256: out.code_sha256().unwrap_or_default().to_owned(),
        environment: out
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    })
}

/// Carries out one function's update: its code, then its environment, each waited for (Lambda refuses a
/// second update while one is in progress).
pub async fn apply(
    clients: &Clients,
    stack: &str,
    update: &FunctionUpdate,
) -> Result<(), DeployError> {
    let name = update.function_name.as_str();
    if let Some((bucket, key)) = &update.code {
        clients
            .lambda
            .update_function_code()
            .function_name(name)
            .s3_bucket(bucket)
            .s3_key(key)
            .send()
            .await
            .map_err(|e| {
                DeployError::aws(
                    "lambda:UpdateFunctionCode",
                    format!("{name} to s3://{bucket}/{key}"),
                    e,
                )
            })?;
        settled(clients, stack, update).await?;
    }
    if let Some((variables, _)) = &update.environment {
        let environment = aws_sdk_lambda::types::Environment::builder()
            .set_variables(Some(variables.clone().into_iter().collect()))
            .build();
        clients
            .lambda
            .update_function_configuration()
            .function_name(name)
            .environment(environment)
            .send()
            .await
            .map_err(|e| DeployError::aws("lambda:UpdateFunctionConfiguration", name, e))?;
        settled(clients, stack, update).await?;
    }
    Ok(())
}

/// Waits for the function's `LastUpdateStatus` to leave InProgress; Failed is an error with Lambda's reason.
async fn settled(
    clients: &Clients,
    stack: &str,
    update: &FunctionUpdate,
) -> Result<(), DeployError> {
    let name = update.function_name.as_str();
    let started = tokio::time::Instant::now();
    loop {
        let out = clients
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| DeployError::aws("lambda:GetFunctionConfiguration", name, e))?;
        let status = out
            .last_update_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        match status.as_str() {
            "Successful" => return Ok(()),
            "Failed" => {
                return Err(DeployError::HotswapFailed {
                    stack: stack.into(),
                    function: format!("{} ({name})", update.logical_id),
                    reason: out
                        .last_update_status_reason()
                        .unwrap_or("Lambda gave no reason")
                        .to_owned(),
                })
            }
            _ if started.elapsed() > UPDATE_TIMEOUT => {
                return Err(DeployError::HotswapFailed {
                    stack: stack.into(),
                    function: format!("{} ({name})", update.logical_id),
                    reason: format!(
                        "its update was still {} after {} s",
                        if status.is_empty() {
                            "unreported"
                        } else {
                            &status
                        },
                        UPDATE_TIMEOUT.as_secs()
                    ),
                })
            }
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HASH_A: &str = "a3f1e2d4c5b6a7980f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978";
    const HASH_B: &str = "0000000000000000000000000000000000000000000000000000000000000001";

    fn function(hash: &str, env: Value) -> Value {
        json!({
            "Type": FUNCTION,
            "Properties": {
                "Code": {
                    "S3Bucket": {"Fn::Sub": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}"},
                    "S3Key": format!("assets/ingest/{hash}.zip"),
                },
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Environment": {"Variables": env},
            }
        })
    }

    fn template(function: Value, queue_timeout: u32) -> Value {
        json!({
            "Resources": {
                "Ingest": function,
                "Work": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": queue_timeout}},
            }
        })
    }

    fn context() -> Context {
        Context {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            stack_name: "Order".into(),
            physical: [("Work".to_owned(), "https://sqs/work".to_owned())].into(),
            ..Context::default()
        }
    }

    #[test]
    fn a_code_or_environment_change_is_hotswappable_and_names_what_changes() {
        let old = template(function(HASH_A, json!({"MODE": "a"})), 30);
        let new = template(
            function(HASH_B, json!({"MODE": "b", "QUEUE": {"Ref": "Work"}})),
            30,
        );
        let t = targets(&old, &new).unwrap();
        assert_eq!(t.len(), 1);
        assert!(t[0].code_changed);
        assert!(t[0].environment["MODE"].1);
        assert!(t[0].environment["QUEUE"].1);
    }

    #[test]
    fn any_other_change_falls_back_to_a_change_set_naming_it() {
        let old = template(function(HASH_A, json!({})), 30);
        let new = template(function(HASH_B, json!({})), 60);
        assert_eq!(
            targets(&old, &new).unwrap_err().to_string(),
            "Resources.Work changes (Properties.VisibilityTimeout), which only a change set deploys"
        );
        let mut memory = function(HASH_A, json!({}));
        memory["Properties"]["MemorySize"] = json!(512);
        assert_eq!(
            targets(&old, &template(memory, 30))
                .unwrap_err()
                .to_string(),
            "Resources.Ingest changes (Properties.MemorySize), which only a change set deploys"
        );
        let mut added = template(function(HASH_A, json!({})), 30);
        added["Resources"]["Extra"] = json!({"Type": "AWS::SNS::Topic"});
        assert_eq!(
            targets(&old, &added).unwrap_err().to_string(),
            "Resources.Extra changes (added), which only a change set deploys"
        );
        let mut output = template(function(HASH_A, json!({})), 30);
        output["Outputs"] = json!({"Url": {"Value": "x"}});
        assert!(matches!(
            targets(&old, &output),
            Err(Fallback::OtherChange { entry, .. }) if entry == "Outputs.Url"
        ));
    }

    #[test]
    fn expressions_evaluate_from_pseudo_parameters_physical_ids_and_exports() {
        let mut c = context();
        c.exports.insert("Base:Bus".into(), "bus-1".into());
        let eval = |v: Value| c.evaluate(&v);
        assert_eq!(
            eval(json!({"Fn::Sub": "cfnkit-assets-${AWS::AccountId}-${AWS::Region}"})).unwrap(),
            "cfnkit-assets-123456789012-eu-west-1"
        );
        assert_eq!(eval(json!({"Ref": "Work"})).unwrap(), "https://sqs/work");
        assert_eq!(
            eval(json!({"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "${!x}"]]})).unwrap(),
            "arn:aws:${!x}"
        );
        assert_eq!(
            eval(json!({"Fn::Sub": ["${A}/${!B}", {"A": {"Fn::ImportValue": "Base:Bus"}}]}))
                .unwrap(),
            "bus-1/${B}"
        );
        assert_eq!(
            eval(json!({"Fn::GetAtt": ["Work", "Arn"]})).unwrap_err(),
            "Fn::GetAtt"
        );
        assert_eq!(
            eval(json!({"Fn::Sub": "${Work.Arn}"})).unwrap_err(),
            "Fn::GetAtt Work.Arn"
        );
        assert_eq!(eval(json!({"Ref": "Missing"})).unwrap_err(), "Ref Missing");
    }

    #[test]
    fn asset_keys_give_the_hash_lambda_reports() {
        // `printf '' | sha256sum`, base64 of its bytes.
        assert_eq!(
            key_sha256(
                "assets/x/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.zip"
            )
            .as_deref(),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
        assert_eq!(key_sha256("code/handler.zip"), None);
    }

    #[test]
    fn a_function_is_updated_where_it_runs_otherwise_than_the_template_says() {
        let new = template(
            function(
                HASH_A,
                json!({"MODE": "a", "ROLE": {"Fn::GetAtt": ["Role", "Arn"]}}),
            ),
            30,
        );
        // The template is unchanged, but an earlier hotswap left other code and MODE running.
        let t = &targets(&new, &new).unwrap()[0];
        let running = Running {
            code_sha256: key_sha256(&format!("assets/ingest/{HASH_B}.zip")).unwrap(),
            environment: [("MODE", "b"), ("ROLE", "arn:role")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into(),
        };
        let u = update_for(t, "order-ingest", &running, &context())
            .unwrap()
            .unwrap();
        assert_eq!(
            u.code,
            Some((
                "cfnkit-assets-123456789012-eu-west-1".to_owned(),
                format!("assets/ingest/{HASH_A}.zip")
            ))
        );
        let (env, changed) = u.environment.clone().unwrap();
        assert_eq!(
            env["ROLE"], "arn:role",
            "an unchanged GetAtt keeps its running value"
        );
        assert_eq!(changed, ["MODE"]);
        assert_eq!(u.describe(), "Ingest (code, environment: MODE)");
        let in_step = Running {
            code_sha256: key_sha256(&format!("assets/ingest/{HASH_A}.zip")).unwrap(),
            environment: env,
        };
        assert_eq!(
            update_for(t, "order-ingest", &in_step, &context()).unwrap(),
            None
        );
        // Hotswapped before: the template still changes the code, but the new zip already runs.
        let mut old = new.clone();
        old["Resources"]["Ingest"]["Properties"]["Code"]["S3Key"] =
            json!(format!("assets/ingest/{HASH_B}.zip"));
        let t = &targets(&old, &new).unwrap()[0];
        assert!(t.code_changed);
        assert_eq!(
            update_for(t, "order-ingest", &in_step, &context()).unwrap(),
            None
        );
    }

    #[test]
    fn a_changed_variable_only_cloudformation_can_evaluate_falls_back() {
        let old = template(function(HASH_A, json!({"ROLE": "x"})), 30);
        let new = template(
            function(HASH_A, json!({"ROLE": {"Fn::GetAtt": ["Role", "Arn"]}})),
            30,
        );
        let t = &targets(&old, &new).unwrap()[0];
        assert_eq!(
            update_for(t, "f", &Running::default(), &context())
                .unwrap_err()
                .to_string(),
            "the new value of ROLE of function Ingest uses Fn::GetAtt, which only CloudFormation evaluates"
        );
    }
}
