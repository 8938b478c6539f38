//! Evaluating a stack's intrinsics to plain JSON.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::names::{self, Identity};
use super::{LoadOptions, LocalResource, LocalStack, ModelError, StackTemplate};

/// The marker `AWS::NoValue` resolves to before the property that holds it is dropped.
const NO_VALUE: &str = "\u{0}cfnkit-local:NoValue";

/// Every `Fn::ImportValue` name a template uses (literal names only).
pub(super) fn imports_of(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(name)) = m.get("Fn::ImportValue") {
                out.insert(name.clone());
            }
            m.values().for_each(|x| imports_of(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| imports_of(x, out)),
        _ => {}
    }
}

/// Every stack whose outputs a template reads with `Fn::GetStackOutput` (literal stack names only).
pub(super) fn stack_outputs_read(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(name)) =
                m.get("Fn::GetStackOutput").and_then(|a| a.get("StackName"))
            {
                out.insert(name.clone());
            }
            m.values().for_each(|x| stack_outputs_read(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| stack_outputs_read(x, out)),
        _ => {}
    }
}

/// What the stacks resolved so far offer the next: their exports by name, their outputs by stack and output.
#[derive(Default)]
pub(super) struct Produced {
    pub(super) exports: BTreeMap<String, Value>,
    pub(super) outputs: BTreeMap<String, BTreeMap<String, Value>>,
}

pub(super) struct StackResolver<'a> {
    stack: &'a StackTemplate,
    options: &'a LoadOptions,
    produced: &'a Produced,
    parameters: BTreeMap<String, Value>,
    conditions: RefCell<BTreeMap<String, bool>>,
    identities: RefCell<BTreeMap<String, Identity>>,
    in_progress: RefCell<BTreeSet<String>>,
}

type R<T> = Result<T, String>;

impl<'a> StackResolver<'a> {
    pub(super) fn new(
        stack: &'a StackTemplate,
        options: &'a LoadOptions,
        produced: &'a Produced,
    ) -> Result<Self, ModelError> {
        let mut parameters = BTreeMap::new();
        for (key, decl) in stack.template["Parameters"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let given = options
                .parameters
                .get(&format!("{}:{key}", stack.name))
                .or_else(|| options.parameters.get(key))
                .map(|s| Value::String(s.clone()));
            let Some(value) = given.or_else(|| decl.get("Default").cloned()) else {
                return Err(ModelError::MissingParameter {
                    stack: stack.name.clone(),
                    key: key.clone(),
                });
            };
            let value = match (decl["Type"].as_str().unwrap_or("String"), value) {
                (t, Value::String(s)) if t == "CommaDelimitedList" || t.starts_with("List<") => {
                    Value::Array(s.split(',').map(|p| json!(p.trim())).collect())
                }
                (t, _) if t.starts_with("AWS::SSM::Parameter::Value") => {
                    return Err(ModelError::Unresolvable {
                        stack: stack.name.clone(),
                        element: format!("Parameters.{key}"),
                        message: format!(
                            "{t} parameters are read from SSM, which the local run does not have; give the \
                             value with --parameters {}:{key}=VALUE",
                            stack.name
                        ),
                    })
                }
                (_, Value::Number(n)) => json!(n.to_string()),
                (_, v) => v,
            };
            parameters.insert(key.clone(), value);
        }
        Ok(StackResolver {
            stack,
            options,
            produced,
            parameters,
            conditions: RefCell::default(),
            identities: RefCell::default(),
            in_progress: RefCell::default(),
        })
    }

    fn template(&self) -> &Value {
        &self.stack.template
    }

    fn err(&self, element: &str, message: String) -> ModelError {
        ModelError::Unresolvable {
            stack: self.stack.name.clone(),
            element: element.to_owned(),
            message,
        }
    }

    pub(super) fn run(self) -> Result<LocalStack, ModelError> {
        let mut out = LocalStack {
            name: self.stack.name.clone(),
            parameters: self.parameters.clone(),
            openapi: cfnkit::openapi::documents_of_template(&self.stack.name, self.template())
                .into_iter()
                .map(|d| (d.api, d.document))
                .collect(),
            ..LocalStack::default()
        };
        let resources = self.template()["Resources"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (id, r) in &resources {
            if let Some(c) = r["Condition"].as_str() {
                if !self.condition(c).map_err(|m| self.err(id, m))? {
                    continue;
                }
            }
            let identity = self.identity(id).map_err(|m| self.err(id, m))?;
            let properties = self
                .value(&r["Properties"])
                .map_err(|m| self.err(&format!("{id}.Properties"), m))?;
            let properties = if properties.is_null() {
                json!({})
            } else {
                properties
            };
            out.resources.insert(
                id.clone(),
                LocalResource {
                    logical_id: id.clone(),
                    type_name: r["Type"].as_str().unwrap_or_default().to_owned(),
                    properties,
                    physical_id: identity.physical_id,
                    arn: identity.arn,
                    metadata: r.get("Metadata").cloned().unwrap_or(Value::Null),
                    name: identity.name,
                },
            );
        }
        for (id, o) in self.template()["Outputs"].as_object().into_iter().flatten() {
            if let Some(c) = o["Condition"].as_str() {
                if !self.condition(c).map_err(|m| self.err(id, m))? {
                    continue;
                }
            }
            let value = self
                .value(&o["Value"])
                .map_err(|m| self.err(&format!("Outputs.{id}"), m))?;
            out.outputs.insert(id.clone(), value);
            if let Some(name) = o["Export"].get("Name") {
                let name = self
                    .value(name)
                    .map_err(|m| self.err(&format!("Outputs.{id}.Export"), m))?;
                let name = name
                    .as_str()
                    .ok_or_else(|| {
                        self.err(
                            &format!("Outputs.{id}.Export"),
                            format!("export name {name} is not a string"),
                        )
                    })?
                    .to_owned();
                out.exports.insert(name, out.outputs[id].clone());
            }
        }
        Ok(out)
    }

    fn condition(&self, name: &str) -> R<bool> {
        if let Some(v) = self.conditions.borrow().get(name) {
            return Ok(*v);
        }
        let Some(decl) = self.template()["Conditions"].get(name) else {
            return Err(format!("condition {name} is not declared in Conditions"));
        };
        let v = self.truth(decl)?;
        self.conditions.borrow_mut().insert(name.to_owned(), v);
        Ok(v)
    }

    fn truth(&self, v: &Value) -> R<bool> {
        let Some((f, args)) = single(v) else {
            return match self.value(v)? {
                Value::Bool(b) => Ok(b),
                Value::String(s) if s == "true" => Ok(true),
                Value::String(s) if s == "false" => Ok(false),
                other => Err(format!("{other} is not a condition")),
            };
        };
        match f {
            "Fn::Equals" => {
                let [a, b] = pair(args)?;
                Ok(loose(&self.value(a)?) == loose(&self.value(b)?))
            }
            "Fn::And" => {
                for a in list(args)? {
                    if !self.truth(a)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for a in list(args)? {
                    if self.truth(a)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            "Fn::Not" => {
                Ok(!self.truth(list(args)?.first().ok_or("Fn::Not needs one condition")?)?)
            }
            "Condition" => self.condition(args.as_str().ok_or("Condition takes a name")?),
            other => Err(format!("{other} is not a condition function")),
        }
    }

    /// The local name, `Ref` and attributes of a resource of this stack.
    fn identity(&self, id: &str) -> R<Identity> {
        if let Some(i) = self.identities.borrow().get(id) {
            return Ok(i.clone());
        }
        let Some(r) = self.template()["Resources"].get(id) else {
            return Err(format!(
                "{id} is not a resource of stack {}",
                self.stack.name
            ));
        };
        if !self.in_progress.borrow_mut().insert(id.to_owned()) {
            return Err(format!("the name of {id} depends on itself"));
        }
        let type_name = r["Type"].as_str().unwrap_or_default();
        let props = &r["Properties"];
        let explicit = if names::has_name(type_name) {
            match props.get(names::name_property(type_name)) {
                Some(v) => match self.value(v)? {
                    Value::String(s) if s != NO_VALUE => Some(s),
                    _ => None,
                },
                None => None,
            }
        } else {
            None
        };
        // The few properties a name or ARN depends on (FIFO, the rule's bus), resolved ahead of the rest.
        let mut shape = json!({});
        // An alias's or version's ARN is its function's, qualified.
        let qualified: &[&str] = match type_name {
            "AWS::Lambda::Alias" | "AWS::Lambda::Version" => &["FunctionName", "Name"],
            _ => &[],
        };
        for key in [
            "FifoQueue",
            "FifoTopic",
            "EventBusName",
            "StreamSpecification",
        ]
        .iter()
        .chain(qualified)
        {
            if let Some(v) = props.get(key) {
                shape[key] = self.value(v)?;
            }
        }
        let mut identity = names::identity(
            &self.stack.name,
            id,
            type_name,
            explicit,
            &shape,
            &self.options.region,
            &self.options.account,
        );
        if let Some(actual) = self
            .options
            .actual
            .get(&(self.stack.name.clone(), id.to_owned()))
        {
            for (attr, v) in actual {
                if attr == "Ref" {
                    identity.physical_id = v.clone();
                } else {
                    if attr == "Arn" {
                        identity.arn = Some(v.clone());
                    }
                    identity.attributes.insert(attr.clone(), json!(v));
                }
            }
        }
        self.in_progress.borrow_mut().remove(id);
        self.identities
            .borrow_mut()
            .insert(id.to_owned(), identity.clone());
        Ok(identity)
    }

    fn reference(&self, name: &str) -> R<Value> {
        let s = &self.options;
        Ok(match name {
            "AWS::AccountId" => json!(s.account),
            "AWS::Region" => json!(s.region),
            "AWS::Partition" => json!("aws"),
            "AWS::URLSuffix" => json!("amazonaws.com"),
            "AWS::StackName" => json!(self.stack.name),
            "AWS::StackId" => json!(format!(
                "arn:aws:cloudformation:{}:{}:stack/{}/{}",
                s.region,
                s.account,
                self.stack.name,
                names::suffix(&self.stack.name, "", "stack", 12).to_lowercase()
            )),
            "AWS::NoValue" => json!(NO_VALUE),
            "AWS::NotificationARNs" => json!([]),
            _ => {
                if let Some(p) = self.parameters.get(name) {
                    return Ok(p.clone());
                }
                json!(self.identity(name)?.physical_id)
            }
        })
    }

    fn get_att(&self, id: &str, attr: &str) -> R<Value> {
        let identity = self.identity(id)?;
        if let Some(v) = identity.attributes.get(attr) {
            return Ok(v.clone());
        }
        // An attribute the local run gives no meaning: a stable placeholder, so templates still resolve. The
        // resources that need it (API Gateway deployments, VPC pieces) are listed as not run at start-up.
        Ok(json!(format!("{}.{id}.{attr}", self.stack.name)))
    }

    pub(super) fn value(&self, v: &Value) -> R<Value> {
        match v {
            Value::Object(m) => {
                if let Some((f, args)) = single(v) {
                    if f == "Ref" || f == "Condition" || f.starts_with("Fn::") {
                        return self.function(f, args);
                    }
                }
                let mut out = serde_json::Map::new();
                for (k, x) in m {
                    let r = self.value(x)?;
                    if r != json!(NO_VALUE) {
                        out.insert(k.clone(), r);
                    }
                }
                Ok(Value::Object(out))
            }
            Value::Array(a) => {
                let mut out = Vec::new();
                for x in a {
                    let r = self.value(x)?;
                    if r != json!(NO_VALUE) {
                        out.push(r);
                    }
                }
                Ok(Value::Array(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn string(&self, v: &Value, what: &str) -> R<String> {
        match self.value(v)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(format!("{what} must be a string, got {other}")),
        }
    }

    fn function(&self, f: &str, args: &Value) -> R<Value> {
        match f {
            "Ref" => self.reference(args.as_str().ok_or("Ref takes a name")?),
            "Fn::GetAtt" => {
                let (id, attr) = match args {
                    Value::Array(a) if a.len() == 2 => (
                        a[0].as_str()
                            .ok_or("Fn::GetAtt's first item is a logical ID")?
                            .to_owned(),
                        self.string(&a[1], "Fn::GetAtt's attribute")?,
                    ),
                    Value::String(s) => {
                        let (id, attr) = s
                            .split_once('.')
                            .ok_or_else(|| format!("Fn::GetAtt {s} needs `LogicalId.Attribute`"))?;
                        (id.to_owned(), attr.to_owned())
                    }
                    other => {
                        return Err(format!(
                            "Fn::GetAtt takes [LogicalId, Attribute], got {other}"
                        ))
                    }
                };
                self.get_att(&id, &attr)
            }
            "Fn::Sub" => {
                let (pattern, vars) = match args {
                    Value::String(s) => (s.clone(), serde_json::Map::new()),
                    Value::Array(a) if !a.is_empty() => (
                        a[0].as_str()
                            .ok_or("Fn::Sub's pattern is a string")?
                            .to_owned(),
                        a.get(1)
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default(),
                    ),
                    other => {
                        return Err(format!(
                            "Fn::Sub takes a string or [string, map], got {other}"
                        ))
                    }
                };
                self.sub(&pattern, &vars).map(Value::String)
            }
            "Fn::Join" => {
                let [sep, items] = pair(args)?;
                let sep = sep.as_str().ok_or("Fn::Join's separator is a string")?;
                let items = match self.value(items)? {
                    Value::Array(a) => a,
                    other => return Err(format!("Fn::Join's items must be a list, got {other}")),
                };
                let parts: R<Vec<String>> = items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        Value::Bool(b) => Ok(b.to_string()),
                        other => Err(format!("Fn::Join item {other} is not a string")),
                    })
                    .collect();
                Ok(json!(parts?.join(sep)))
            }
            "Fn::Select" => {
                let [index, items] = pair(args)?;
                let index: usize = self
                    .string(index, "Fn::Select's index")?
                    .parse()
                    .map_err(|_| "Fn::Select's index is a number".to_owned())?;
                match self.value(items)? {
                    Value::Array(a) => a
                        .get(index)
                        .cloned()
                        .ok_or_else(|| format!("Fn::Select index {index} is past the list's end")),
                    other => Err(format!("Fn::Select takes a list, got {other}")),
                }
            }
            "Fn::Split" => {
                let [sep, s] = pair(args)?;
                let sep = sep.as_str().ok_or("Fn::Split's separator is a string")?;
                let s = self.string(s, "Fn::Split's source")?;
                Ok(Value::Array(s.split(sep).map(|p| json!(p)).collect()))
            }
            "Fn::If" => {
                let a = list(args)?;
                let [c, yes, no] = a.as_slice() else {
                    return Err("Fn::If takes [condition, then, else]".into());
                };
                let c = c.as_str().ok_or("Fn::If's condition is a name")?;
                if self.condition(c)? {
                    self.value(yes)
                } else {
                    self.value(no)
                }
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" | "Condition" => {
                let wrapped = json!({ f: args });
                self.truth(&wrapped).map(Value::Bool)
            }
            "Fn::ImportValue" => {
                let name = self.string(args, "Fn::ImportValue's name")?;
                self.produced.exports.get(&name).cloned().ok_or_else(|| {
                    format!(
                        "imports {name}, which no stack before it exports; run the producer stack too \
                         (cargo cfn local names stacks with their dependencies)"
                    )
                })
            }
            // The local run has every stack on this machine, whatever account and region it was meant for, so
            // `Region` and `RoleArn` do not matter here.
            "Fn::GetStackOutput" => {
                let stack = self.string(&args["StackName"], "Fn::GetStackOutput's StackName")?;
                let output = self.string(&args["OutputName"], "Fn::GetStackOutput's OutputName")?;
                let Some(outputs) = self.produced.outputs.get(&stack) else {
                    return Err(format!(
                        "reads output {output} of stack {stack}, which does not run before it; run {stack} too \
                         (cargo cfn local names stacks with their dependencies)"
                    ));
                };
                outputs.get(&output).cloned().ok_or_else(|| {
                    format!("reads output {output} of stack {stack}, which has no such output")
                })
            }
            "Fn::FindInMap" => {
                let a = list(args)?;
                if a.len() < 3 {
                    return Err("Fn::FindInMap takes [map, top key, second key]".into());
                }
                let map = self.string(&a[0], "map name")?;
                let top = self.string(&a[1], "top-level key")?;
                let second = self.string(&a[2], "second-level key")?;
                match self.template()["Mappings"][&map][&top].get(&second) {
                    Some(v) => Ok(v.clone()),
                    None => match a.get(3).and_then(|d| d.get("DefaultValue")) {
                        Some(d) => self.value(d),
                        None => Err(format!(
                            "Fn::FindInMap: no {map}.{top}.{second} in Mappings"
                        )),
                    },
                }
            }
            "Fn::Base64" => {
                use base64::Engine;
                let s = self.string(args, "Fn::Base64's value")?;
                Ok(json!(base64::engine::general_purpose::STANDARD.encode(s)))
            }
            "Fn::GetAZs" => {
                let r = &self.options.region;
                Ok(json!([format!("{r}a"), format!("{r}b"), format!("{r}c")]))
            }
            "Fn::ToJsonString" => Ok(json!(self.value(args)?.to_string())),
            "Fn::Length" => match self.value(args)? {
                Value::Array(a) => Ok(json!(a.len())),
                other => Err(format!("Fn::Length takes a list, got {other}")),
            },
            "Fn::Cidr" => {
                let a = list(args)?;
                let [block, count, bits] = a.as_slice() else {
                    return Err("Fn::Cidr takes [ipBlock, count, cidrBits]".into());
                };
                let block = self.string(block, "Fn::Cidr's ipBlock")?;
                let count: u32 = self
                    .string(count, "Fn::Cidr's count")?
                    .parse()
                    .map_err(|_| "Fn::Cidr's count is a number")?;
                let bits: u32 = self
                    .string(bits, "Fn::Cidr's cidrBits")?
                    .parse()
                    .map_err(|_| "Fn::Cidr's cidrBits is a number")?;
                cidr(&block, count, bits).map(|v| json!(v))
            }
            other => Err(format!(
                "{other} is not an intrinsic function the local run knows"
            )),
        }
    }

    fn sub(&self, pattern: &str, vars: &serde_json::Map<String, Value>) -> R<String> {
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                // `${!Name}` is the literal text `${Name}`.
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after
                .find('}')
                .ok_or_else(|| format!("Fn::Sub pattern {pattern:?} has an unclosed ${{"))?;
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.string(v, &format!("Fn::Sub variable {name}"))?
            } else if let Some((id, attr)) = name.split_once('.') {
                match self.get_att(id, attr)? {
                    Value::String(s) => s,
                    other => other.to_string(),
                }
            } else {
                match self.reference(name)? {
                    Value::String(s) => s,
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                }
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `count` consecutive IPv4 subnets of `32 - host_bits` prefix bits from the start of `block`.
fn cidr(block: &str, count: u32, host_bits: u32) -> R<Vec<String>> {
    let (net, _) = block
        .split_once('/')
        .ok_or_else(|| format!("Fn::Cidr's ipBlock {block} is not an IPv4 CIDR block"))?;
    let net: std::net::Ipv4Addr = net.parse().map_err(|_| {
        format!(
            "Fn::Cidr's ipBlock {block} is not an IPv4 CIDR block (IPv6 is not evaluated locally)"
        )
    })?;
    if host_bits == 0 || host_bits > 32 {
        return Err(format!(
            "Fn::Cidr's cidrBits must be from 1 to 32, got {host_bits}"
        ));
    }
    let size = 1u64 << host_bits;
    let start = u64::from(u32::from(net));
    (0..u64::from(count))
        .map(|i| {
            let addr = start + i * size;
            u32::try_from(addr)
                .map(|a| format!("{}/{}", std::net::Ipv4Addr::from(a), 32 - host_bits))
                .map_err(|_| format!("Fn::Cidr: {count} subnets do not fit after {block}"))
        })
        .collect()
}

/// `{"Fn::X": args}` as `("Fn::X", args)`.
fn single(v: &Value) -> Option<(&str, &Value)> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    m.iter().next().map(|(k, v)| (k.as_str(), v))
}

fn list(v: &Value) -> R<&Vec<Value>> {
    v.as_array()
        .ok_or_else(|| format!("expected a list, got {v}"))
}

fn pair(v: &Value) -> R<[&Value; 2]> {
    match list(v)?.as_slice() {
        [a, b] => Ok([a, b]),
        _ => Err(format!("expected two items, got {v}")),
    }
}

/// CloudFormation compares `Fn::Equals` operands as strings: `"1"` equals `1`.
fn loose(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.to_string()),
        Value::Bool(b) => json!(b.to_string()),
        other => other.clone(),
    }
}
