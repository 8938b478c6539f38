//! The platform's wiring as plain data, loaded from the CloudFormation templates the stacks synthesize
//! (`stacks::app()` + `cfnkit::synth::synth`): tables (partition keys), topics, queues with their
//! redrive policies, the buses and their rules (pattern + targets), the functions' environments and
//! dead-letter queues, the event source mappings and SNS subscriptions. References (`Ref`, `Fn::GetAtt`,
//! `Fn::ImportValue` through the producer's exports) are resolved to the logical IDs of the resources they
//! name, so the harness deploys into moto exactly what the templates say; a wrong pattern, target, variable or
//! mapping in a stack makes the scenarios (or [`Wiring::check_routes`]) fail.

use std::collections::BTreeMap;
use std::fmt;

use contracts::env::{self, Handler};
use contracts::{
    DomainEvent, OrderPlaced, PaymentConfirmation, PaymentFailed, ShipmentCreated,
    StockConfirmation,
};
use serde_json::{json, Value};

/// The stacks of the order flow (seed 003). Other stacks of the app are not deployed by the tests.
pub const STACKS: [&str; 5] = ["Base", "Order", "Inventory", "Payment", "Shipping"];

#[derive(Debug, Clone)]
pub struct Wiring {
    pub tables: Vec<TableDecl>,
    pub topics: Vec<String>,
    /// Queues, every dead-letter queue before the queues that redrive to it.
    pub queues: Vec<QueueDecl>,
    /// Event buses by logical ID.
    pub buses: Vec<String>,
    pub rules: Vec<RuleDecl>,
    pub functions: Vec<FunctionDecl>,
    pub event_sources: Vec<EventSource>,
    /// SNS topic -> SQS queue subscriptions.
    pub subscriptions: Vec<(String, String)>,
    /// REST API methods proxied to a function.
    pub api_routes: Vec<ApiRoute>,
}

/// A REST API method with a Lambda proxy integration.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRoute {
    pub http_method: String,
    /// `/orders/{id}`.
    pub path: String,
    pub function: Handler,
    /// The JSON Schema the gateway validates the body against, when it does.
    pub request_model: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct TableDecl {
    pub id: String,
    pub partition_key: String,
}

#[derive(Debug, Clone)]
pub struct QueueDecl {
    pub id: String,
    /// Dead-letter queue id and maxReceiveCount.
    pub redrive: Option<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The rule's target is a queue.
    Queue(String),
    /// The rule's target is the function (asynchronous invocation with the event).
    Function(Handler),
}

#[derive(Debug, Clone)]
pub struct RuleDecl {
    pub id: String,
    /// The bus the rule is on (logical ID); `None` for the account's default bus.
    pub bus: Option<String>,
    pub pattern: Value,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    TableName(String),
    QueueUrl(String),
    TopicArn(String),
    BusName(String),
    Literal(String),
}

#[derive(Debug, Clone)]
pub struct FunctionDecl {
    pub function: Handler,
    /// The logical ID of the `AWS::Lambda::Function`.
    pub id: String,
    pub env: Vec<(String, EnvValue)>,
    /// Where failed asynchronous invocations go (`DeadLetterConfig`).
    pub dead_letter_queue: Option<String>,
}

/// An SQS event source mapping.
#[derive(Debug, Clone)]
pub struct EventSource {
    pub queue: String,
    pub function: Handler,
    pub batch_size: usize,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`: without it one failed record fails the batch.
    pub report_batch_item_failures: bool,
}

/// Something in the templates the tests cannot deploy, or a wiring that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiringError(pub String);

impl fmt::Display for WiringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, WiringError> {
    Err(WiringError(message.into()))
}

/// The order-flow stacks' templates, synthesized from the stacks crate, as JSON by stack name.
pub fn synthesized_templates() -> BTreeMap<String, Value> {
    let app = stacks::app().expect("the platform app builds");
    let assembly = cfnkit::synth::synth(&app).expect("the platform synthesizes");
    STACKS
        .iter()
        .map(|name| {
            let stack = assembly
                .stack(name)
                .unwrap_or_else(|| panic!("the app has no stack {name}"));
            let template = serde_json::from_str(&stack.template.to_json()).unwrap();
            (name.to_string(), template)
        })
        .collect()
}

/// The platform as synthesized, with the simulated payment provider declining `payment_failure_percent`% of
/// orders (a knob of the tests, not of the wiring: it overrides the function's `PAYMENT_FAILURE_PERCENT`).
pub fn platform(payment_failure_percent: u32) -> Wiring {
    let mut w = load(&synthesized_templates()).unwrap_or_else(|e| panic!("{e}"));
    w.check_routes().unwrap_or_else(|e| panic!("{e}"));
    w.set_env(
        Handler::Payment,
        env::PAYMENT_FAILURE_PERCENT,
        EnvValue::Literal(payment_failure_percent.to_string()),
    );
    // How the tests observe notifications: an SQS inbox on each topic the handlers publish to.
    w.observe(
        Handler::Payment,
        env::CUSTOMER_NOTIFICATION_TOPIC_ARN,
        "CustomerInbox",
    );
    w.observe(Handler::DlqProcessor, env::OPS_ALERT_TOPIC_ARN, "OpsInbox");
    w
}

/// A reference in a template, resolved to the resource it names.
#[derive(Debug, Clone, PartialEq)]
enum Resolved {
    /// `(logical ID, resource type, attribute)`; the attribute is `Ref` for a `Ref`.
    Resource(String, String, String),
    Literal(String),
}

struct Templates<'a> {
    /// Every resource of the order-flow stacks by logical ID: (stack, resource).
    resources: BTreeMap<String, (&'a str, &'a Value)>,
    /// Export name -> (producer stack, output value).
    exports: BTreeMap<String, (&'a str, &'a Value)>,
}

impl<'a> Templates<'a> {
    fn new(templates: &'a BTreeMap<String, Value>) -> Result<Self, WiringError> {
        let mut resources = BTreeMap::new();
        let mut exports = BTreeMap::new();
        for (stack, t) in templates {
            for (id, r) in t["Resources"].as_object().into_iter().flatten() {
                if let Some((other, _)) = resources.insert(id.clone(), (stack.as_str(), r)) {
                    return err(format!(
                        "logical ID {id} is in stacks {other} and {stack}: the tests name resources by \
                         logical ID, rename one"
                    ));
                }
            }
            for o in t["Outputs"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, o)| o)
            {
                if let Some(name) = o["Export"]["Name"].as_str() {
                    exports.insert(name.to_string(), (stack.as_str(), &o["Value"]));
                }
            }
        }
        Ok(Templates { resources, exports })
    }

    fn of_type<'s>(
        &'s self,
        type_name: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'a Value)> + 's {
        self.resources
            .iter()
            .filter(move |(_, (_, r))| r["Type"] == type_name)
            .map(|(id, (_, r))| (id.as_str(), *r))
    }

    fn resolve(&self, stack: &str, v: &Value) -> Result<Resolved, WiringError> {
        let resource = |id: &str, attr: &str| match self.resources.get(id) {
            Some((s, r)) if *s == stack => Ok(Resolved::Resource(
                id.to_string(),
                r["Type"].as_str().unwrap_or_default().to_string(),
                attr.to_string(),
            )),
            _ => err(format!(
                "{stack}: reference to {id}, which is not a resource of the stack"
            )),
        };
        if let Some(s) = v.as_str() {
            return Ok(Resolved::Literal(s.to_string()));
        }
        if let Some(n) = v.as_u64() {
            return Ok(Resolved::Literal(n.to_string()));
        }
        if let Some(id) = v["Ref"].as_str() {
            return resource(id, "Ref");
        }
        if let Some(args) = v["Fn::GetAtt"].as_array() {
            if let [Value::String(id), Value::String(attr)] = args.as_slice() {
                return resource(id, attr);
            }
        }
        if let Some(name) = v["Fn::ImportValue"].as_str() {
            let Some((producer, value)) = self.exports.get(name) else {
                return err(format!("{stack} imports {name}, which no stack exports"));
            };
            return self.resolve(producer, value);
        }
        err(format!(
            "{stack}: cannot resolve {v} to a resource or a literal"
        ))
    }

    /// The logical ID of the resource of `type_name` that `v` names by `attribute` (`Ref`, `Arn`...).
    fn resolve_to(
        &self,
        stack: &str,
        v: &Value,
        type_name: &str,
        attributes: &[&str],
        what: &str,
    ) -> Result<String, WiringError> {
        match self.resolve(stack, v)? {
            Resolved::Resource(id, t, a) if t == type_name && attributes.contains(&a.as_str()) => {
                Ok(id)
            }
            other => err(format!(
                "{what}: expected the {attributes:?} of an {type_name}, got {other:?}"
            )),
        }
    }
}

/// The handler a function resource runs, from the asset metadata `Code::asset`/`Code::cargo_bin` write
/// (`cfnkit:asset`: the binary's name, or `{bin, ...}`).
fn handler_of(id: &str, r: &Value) -> Result<Handler, WiringError> {
    let asset = &r["Metadata"]["cfnkit:asset"];
    let bin = asset
        .as_str()
        .or_else(|| asset["bin"].as_str())
        .ok_or_else(|| {
            WiringError(format!(
                "function {id} has no cfnkit:asset metadata naming its binary"
            ))
        })?;
    Handler::ALL
        .into_iter()
        .find(|f| f.binary_name() == bin)
        .ok_or_else(|| {
            WiringError(format!(
                "function {id} runs {bin:?}, which is not a binary of order-handlers"
            ))
        })
}

/// Reads the wiring out of the order-flow stacks' templates (stack name -> template JSON).
pub fn load(templates: &BTreeMap<String, Value>) -> Result<Wiring, WiringError> {
    let t = Templates::new(templates)?;
    let stack_of = |id: &str| t.resources[id].0;

    let mut tables = Vec::new();
    for (id, r) in t.of_type("AWS::DynamoDB::Table") {
        let keys = r["Properties"]["KeySchema"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let [key] = keys.as_slice() else {
            return err(format!(
                "table {id} has key schema {keys:?}; the handlers use one partition key"
            ));
        };
        let name = key["AttributeName"].as_str().unwrap_or_default();
        let typed = r["Properties"]["AttributeDefinitions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["AttributeName"] == name && d["AttributeType"] == "S");
        if key["KeyType"] != "HASH" || !typed {
            return err(format!(
                "table {id}: the handlers need a string partition key, got {key}"
            ));
        }
        tables.push(TableDecl {
            id: id.to_string(),
            partition_key: name.to_string(),
        });
    }

    let topics = t
        .of_type("AWS::SNS::Topic")
        .map(|(id, _)| id.to_string())
        .collect();
    let buses = t
        .of_type("AWS::Events::EventBus")
        .map(|(id, _)| id.to_string())
        .collect();

    let mut queues: Vec<QueueDecl> = Vec::new();
    for (id, r) in t.of_type("AWS::SQS::Queue") {
        let redrive = match r["Properties"].get("RedrivePolicy") {
            None => None,
            Some(p) => {
                let dlq = t.resolve_to(
                    stack_of(id),
                    &p["deadLetterTargetArn"],
                    "AWS::SQS::Queue",
                    &["Arn"],
                    &format!("redrive policy of queue {id}"),
                )?;
                let max = p["maxReceiveCount"].as_u64().ok_or_else(|| {
                    WiringError(format!(
                        "queue {id}: maxReceiveCount {}",
                        p["maxReceiveCount"]
                    ))
                })?;
                Some((dlq, max as u32))
            }
        };
        queues.push(QueueDecl {
            id: id.to_string(),
            redrive,
        });
    }
    // Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
    queues.sort_by_key(|q| q.redrive.is_some());

    let mut function_ids: BTreeMap<String, Handler> = BTreeMap::new();
    let mut functions = Vec::new();
    for (id, r) in t.of_type("AWS::Lambda::Function") {
        let function = handler_of(id, r)?;
        if function_ids.values().any(|f| *f == function) {
            return err(format!("two functions run {}", function.binary_name()));
        }
        function_ids.insert(id.to_string(), function);
        let mut env = Vec::new();
        for (name, v) in r["Properties"]["Environment"]["Variables"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let value = match t.resolve(stack_of(id), v)? {
                Resolved::Literal(l) => EnvValue::Literal(l),
                Resolved::Resource(rid, ty, attr) => match (ty.as_str(), attr.as_str()) {
                    ("AWS::DynamoDB::Table", "Ref") => EnvValue::TableName(rid),
                    ("AWS::SQS::Queue", "Ref" | "QueueUrl") => EnvValue::QueueUrl(rid),
                    ("AWS::SNS::Topic", "Ref" | "TopicArn") => EnvValue::TopicArn(rid),
                    ("AWS::Events::EventBus", "Ref" | "Name") => EnvValue::BusName(rid),
                    _ => {
                        return err(format!(
                            "function {id}: {name} is the {attr} of {rid} ({ty}), which the tests cannot give it"
                        ))
                    }
                },
            };
            env.push((name.clone(), value));
        }
        let missing: Vec<_> = env::required_by(function)
            .iter()
            .filter(|v| !env.iter().any(|(k, _)| k == *v))
            .collect();
        if !missing.is_empty() {
            return err(format!(
                "function {id} ({}) lacks {missing:?}",
                function.binary_name()
            ));
        }
        let dead_letter_queue = r["Properties"]["DeadLetterConfig"]
            .get("TargetArn")
            .map(|arn| {
                t.resolve_to(
                    stack_of(id),
                    arn,
                    "AWS::SQS::Queue",
                    &["Arn"],
                    &format!("DLQ of function {id}"),
                )
            })
            .transpose()?;
        functions.push(FunctionDecl {
            function,
            id: id.to_string(),
            env,
            dead_letter_queue,
        });
    }
    let missing: Vec<_> = Handler::ALL
        .iter()
        .filter(|f| !function_ids.values().any(|g| g == *f))
        .map(|f| f.binary_name())
        .collect();
    if !missing.is_empty() {
        return err(format!("no function runs {missing:?}"));
    }
    let function_named = |stack: &str, v: &Value, what: &str| -> Result<Handler, WiringError> {
        let id = t.resolve_to(stack, v, "AWS::Lambda::Function", &["Ref", "Arn"], what)?;
        Ok(function_ids[&id])
    };

    let mut rules = Vec::new();
    for (id, r) in t.of_type("AWS::Events::Rule") {
        let stack = stack_of(id);
        let p = &r["Properties"];
        if p["State"] == "DISABLED" {
            continue;
        }
        let bus = p
            .get("EventBusName")
            .map(|b| {
                t.resolve_to(
                    stack,
                    b,
                    "AWS::Events::EventBus",
                    &["Ref", "Name"],
                    &format!("bus of rule {id}"),
                )
            })
            .transpose()?;
        let Some(pattern) = p.get("EventPattern").filter(|v| v.is_object()) else {
            return err(format!("rule {id} has no event pattern object"));
        };
        let mut targets = Vec::new();
        for target in p["Targets"].as_array().into_iter().flatten() {
            let what = format!("target of rule {id}");
            targets.push(match t.resolve(stack, &target["Arn"])? {
                Resolved::Resource(q, ty, a) if ty == "AWS::SQS::Queue" && a == "Arn" => {
                    Target::Queue(q)
                }
                Resolved::Resource(..) => {
                    Target::Function(function_named(stack, &target["Arn"], &what)?)
                }
                other => {
                    return err(format!(
                        "{what}: {other:?} is neither a queue nor a function"
                    ))
                }
            });
            if target.get("InputTransformer").is_some() || target.get("Input").is_some() {
                return err(format!(
                    "{what}: the handlers expect whole EventBridge events, not transformed input"
                ));
            }
        }
        rules.push(RuleDecl {
            id: id.to_string(),
            bus,
            pattern: pattern.clone(),
            targets,
        });
    }

    let mut event_sources = Vec::new();
    for (id, r) in t.of_type("AWS::Lambda::EventSourceMapping") {
        let stack = stack_of(id);
        let p = &r["Properties"];
        if p["Enabled"] == false {
            continue;
        }
        let what = format!("event source mapping {id}");
        event_sources.push(EventSource {
            queue: t.resolve_to(
                stack,
                &p["EventSourceArn"],
                "AWS::SQS::Queue",
                &["Arn"],
                &what,
            )?,
            function: function_named(stack, &p["FunctionName"], &what)?,
            batch_size: p["BatchSize"].as_u64().unwrap_or(10) as usize,
            report_batch_item_failures: p["FunctionResponseTypes"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("ReportBatchItemFailures"))),
        });
    }

    let mut subscriptions = Vec::new();
    for (id, r) in t.of_type("AWS::SNS::Subscription") {
        let stack = stack_of(id);
        let p = &r["Properties"];
        if p["Protocol"] != "sqs" {
            continue;
        }
        let what = format!("subscription {id}");
        subscriptions.push((
            t.resolve_to(
                stack,
                &p["TopicArn"],
                "AWS::SNS::Topic",
                &["Ref", "TopicArn"],
                &what,
            )?,
            t.resolve_to(stack, &p["Endpoint"], "AWS::SQS::Queue", &["Arn"], &what)?,
        ));
    }

    let mut api_routes = Vec::new();
    for (id, r) in t.of_type("AWS::ApiGateway::Method") {
        let stack = stack_of(id);
        let p = &r["Properties"];
        let integration = &p["Integration"];
        if integration["Type"] != "AWS_PROXY" {
            continue;
        }
        let what = format!("API method {id}");
        let function = function_named(stack, &integration["Uri"]["Fn::Sub"][1]["Function"], &what)?;
        let mut path = String::new();
        let mut resource = p["ResourceId"].clone();
        while let Resolved::Resource(rid, ty, _) = t.resolve(stack, &resource)? {
            if ty != "AWS::ApiGateway::Resource" {
                break;
            }
            let props = &t.resources[&rid].1["Properties"];
            path = format!("/{}{path}", props["PathPart"].as_str().unwrap_or_default());
            resource = props["ParentId"].clone();
        }
        let validates_body = match p.get("RequestValidatorId") {
            Some(v) => {
                let vid = t.resolve_to(
                    stack,
                    v,
                    "AWS::ApiGateway::RequestValidator",
                    &["Ref", "RequestValidatorId"],
                    &what,
                )?;
                t.resources[&vid].1["Properties"]["ValidateRequestBody"] == true
            }
            None => false,
        };
        let request_model = match p["RequestModels"].get("application/json") {
            Some(m) if validates_body => {
                let mid = t.resolve_to(stack, m, "AWS::ApiGateway::Model", &["Ref"], &what)?;
                Some(t.resources[&mid].1["Properties"]["Schema"].clone())
            }
            _ => None,
        };
        api_routes.push(ApiRoute {
            http_method: p["HttpMethod"].as_str().unwrap_or_default().to_string(),
            path: if path.is_empty() { "/".into() } else { path },
            function,
            request_model,
        });
    }
    api_routes.sort_by(|a, b| (&a.path, &a.http_method).cmp(&(&b.path, &b.http_method)));

    Ok(Wiring {
        api_routes,
        tables,
        topics,
        queues,
        buses,
        rules,
        functions,
        event_sources,
        subscriptions,
    })
}

/// Whether an event matches an EventBridge pattern, for the parts of the pattern language the platform uses:
/// nested objects and arrays of exact values.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Some(fields) = pattern.as_object() else {
        return false;
    };
    fields.iter().all(|(k, p)| match (p, event.get(k)) {
        (Value::Object(_), Some(e)) => matches(p, e),
        (Value::Array(allowed), Some(e)) => match e {
            Value::Array(values) => values.iter().any(|v| allowed.contains(v)),
            v => allowed.contains(v),
        },
        _ => false,
    })
}

fn sample<E: DomainEvent>(detail: Value) -> (String, Value) {
    let name = format!("{} {detail}", E::DETAIL_TYPE);
    let event = json!({"source": E::SOURCE, "detail-type": E::DETAIL_TYPE, "detail": detail});
    (name, event)
}

impl Wiring {
    /// The functions an event published on the platform bus reaches: rules matching it, their targets, and the
    /// event source mappings of target queues.
    pub fn route(&self, bus: &str, event: &Value) -> Vec<Handler> {
        let mut reached = Vec::new();
        for rule in self.rules.iter().filter(|r| r.bus.as_deref() == Some(bus)) {
            if !matches(&rule.pattern, event) {
                continue;
            }
            for target in &rule.targets {
                match target {
                    Target::Function(f) => reached.push(*f),
                    Target::Queue(q) => reached.extend(
                        self.event_sources
                            .iter()
                            .filter(|s| s.queue == *q)
                            .map(|s| s.function),
                    ),
                }
            }
        }
        reached.sort();
        reached
    }

    /// Checks that each event of the order flow reaches exactly the functions that handle it (the table in
    /// runtime/README.md), through the loaded rules, targets and event source mappings.
    pub fn check_routes(&self) -> Result<(), WiringError> {
        use Handler::*;
        let expected = [
            (sample::<OrderPlaced>(json!({})), vec![Inventory]),
            (
                sample::<StockConfirmation>(json!({"stockConfirmed": true})),
                vec![OrderEvents, Payment],
            ),
            (
                sample::<StockConfirmation>(json!({"stockConfirmed": false})),
                vec![OrderEvents],
            ),
            (
                sample::<PaymentConfirmation>(json!({})),
                vec![OrderEvents, Shipping],
            ),
            (
                sample::<PaymentFailed>(json!({})),
                vec![OrderEvents, InventoryCompensation],
            ),
            (sample::<ShipmentCreated>(json!({})), vec![OrderEvents]),
        ];
        let [bus] = self.buses.as_slice() else {
            return err(format!(
                "the platform has one event bus, the templates have {:?}",
                self.buses
            ));
        };
        let mut problems = Vec::new();
        for ((name, event), mut want) in expected {
            want.sort();
            let got = self.route(bus, &event);
            if got != want {
                problems.push(format!(
                    "{name} reaches {got:?}, the handlers expect {want:?}"
                ));
            }
        }
        let routes: Vec<(&str, &str, Handler, bool)> = self
            .api_routes
            .iter()
            .map(|r| {
                (
                    r.http_method.as_str(),
                    r.path.as_str(),
                    r.function,
                    r.request_model.is_some(),
                )
            })
            .collect();
        let want_routes = [
            ("POST", "/orders", OrderApi, true),
            ("GET", "/orders/{id}", OrderApi, false),
        ];
        if routes != want_routes {
            problems.push(format!(
                "the REST API has (method, path, function, body validated) {routes:?}, the handlers expect \
                 {want_routes:?}"
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            err(format!(
                "the platform is wired wrong:\n  {}",
                problems.join("\n  ")
            ))
        }
    }

    /// Sets (or replaces) one variable of a function's environment.
    pub fn set_env(&mut self, f: Handler, name: &str, value: EnvValue) {
        let decl = self
            .functions
            .iter_mut()
            .find(|d| d.function == f)
            .expect("loaded");
        decl.env.retain(|(k, _)| k != name);
        decl.env.push((name.to_string(), value));
    }

    /// Adds a queue `inbox` subscribed to the topic `f` publishes to through its variable `var`.
    pub fn observe(&mut self, f: Handler, var: &str, inbox: &str) {
        let decl = self
            .functions
            .iter()
            .find(|d| d.function == f)
            .expect("loaded");
        let topic = match decl.env.iter().find(|(k, _)| k == var) {
            Some((_, EnvValue::TopicArn(t))) => t.clone(),
            other => panic!("{} has no topic in {var}: {other:?}", f.binary_name()),
        };
        self.queues.push(QueueDecl {
            id: inbox.to_string(),
            redrive: None,
        });
        self.subscriptions.push((topic, inbox.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthesized_platform_routes_every_event_to_its_handlers() {
        let w = load(&synthesized_templates()).unwrap();
        w.check_routes().unwrap();
        assert!(w.event_sources.iter().all(|s| s.report_batch_item_failures));
    }

    /// The synthesized templates without the first resource of `stack` that `matching` selects, and what
    /// [`Wiring::check_routes`] says about them.
    fn routes_without(stack: &str, matching: impl Fn(&Value) -> bool) -> String {
        let mut templates = synthesized_templates();
        let resources = templates.get_mut(stack).unwrap()["Resources"]
            .as_object_mut()
            .unwrap();
        let id = resources
            .iter()
            .find(|(_, r)| matching(r))
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| panic!("no such resource in {stack}"));
        resources.remove(&id);
        load(&templates)
            .unwrap()
            .check_routes()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_missing_rule_is_detected() {
        let e = routes_without("Payment", |r| r["Type"] == "AWS::Events::Rule");
        assert!(
            e.contains("StockConfirmation {\"stockConfirmed\":true} reaches [OrderEvents], the handlers expect [OrderEvents, Payment]"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_api_method_is_detected() {
        let e = routes_without("Order", |r| {
            r["Type"] == "AWS::ApiGateway::Method" && r["Properties"]["HttpMethod"] == "GET"
        });
        assert!(
            e.contains("the REST API has (method, path, function, body validated) [(\"POST\", \"/orders\", OrderApi, true)]"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_pattern_is_detected() {
        let mut templates = synthesized_templates();
        let payment = templates.get_mut("Payment").unwrap();
        for r in payment["Resources"].as_object_mut().unwrap().values_mut() {
            if r["Type"] == "AWS::Events::Rule" {
                r["Properties"]["EventPattern"]["detail"] = json!({"stockConfirmed": [false]});
            }
        }
        let e = load(&templates)
            .unwrap()
            .check_routes()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("{\"stockConfirmed\":false} reaches [OrderEvents, Payment]"),
            "{e}"
        );
    }

    #[test]
    fn a_function_without_its_variables_is_refused() {
        let mut templates = synthesized_templates();
        for r in templates.get_mut("Shipping").unwrap()["Resources"]
            .as_object_mut()
            .unwrap()
            .values_mut()
        {
            if let Some(vars) = r["Properties"]["Environment"]["Variables"].as_object_mut() {
                vars.remove(env::REDRIVE_QUEUE_URL);
            }
        }
        let e = load(&templates).unwrap_err().to_string();
        assert!(
            e.contains("(dlq_processor) lacks [\"REDRIVE_QUEUE_URL\"]"),
            "{e}"
        );
    }

    #[test]
    fn patterns_match_like_eventbridge() {
        let p = json!({"source": ["a"], "detail": {"ok": [true]}});
        assert!(matches(
            &p,
            &json!({"source": "a", "detail": {"ok": true, "x": 1}})
        ));
        assert!(!matches(
            &p,
            &json!({"source": "a", "detail": {"ok": false}})
        ));
        assert!(!matches(&p, &json!({"source": "a", "detail": {}})));
        assert!(!matches(
            &p,
            &json!({"source": "b", "detail": {"ok": true}})
        ));
    }
}
