//! Resolution of one stack's values: paths to logical IDs, references to other stacks to imports (recording the
//! producer's export), names of conditions and `${...}` in `Fn::Sub` checked against what the stack declares.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cfnkit_core::{ElementId, Intrinsic, Pseudo, RefTarget, ResourceHandle, TagStyle, Value};

use super::logical_id;
use super::node::Node;
use super::{Partial, Problem};
use crate::environments::{partition_of, BootstrapRole};
use crate::stack::{Environment, StackInner};

/// Logical IDs of one stack's resources and parameters, by construct path.
pub(crate) struct IdTable {
    by_path: BTreeMap<Arc<str>, String>,
    by_id: BTreeMap<String, Arc<str>>,
}

impl IdTable {
    pub(crate) fn build(stack: &StackInner, problems: &mut Vec<Problem>) -> IdTable {
        let mut t = IdTable {
            by_path: BTreeMap::new(),
            by_id: BTreeMap::new(),
        };
        let params = stack
            .parameters
            .iter()
            .map(|(id, name, _)| (id.path.clone(), name.clone(), "parameter"));
        let resources = stack.resources.iter().map(|r| {
            let id = r
                .entry()
                .logical_id
                .clone()
                .unwrap_or_else(|| logical_id::from_path(r.path()));
            (r.element().path.clone(), id, "resource")
        });
        for (path, id, kind) in params.chain(resources) {
            if let Err(why) = logical_id::check(&id) {
                problems.push(Problem::new(
                    &stack.name,
                    Some(&path),
                    format!("{kind} logical ID {id:?} {why}: change the construct id or override the logical ID"),
                ));
            }
            if let Some(other) = t.by_id.get(&id) {
                // The same path twice is reported once, as a duplicate path (stack.rs), not again as a clash.
                if *other == path {
                    continue;
                }
                problems.push(Problem::new(
                    &stack.name,
                    Some(&id),
                    format!(
                        "logical ID {id} is claimed by both {other} and {path}: give one of them another construct id, \
                         or override its logical ID"
                    ),
                ));
                continue;
            }
            t.by_id.insert(id.clone(), path.clone());
            t.by_path.insert(path, id);
        }
        t
    }

    /// Logical ID to construct path, for every element.
    pub(crate) fn resource_paths(&self) -> BTreeMap<String, String> {
        self.by_id
            .iter()
            .map(|(id, p)| (id.clone(), p.to_string()))
            .collect()
    }

    pub(crate) fn id_of(&self, path: &str) -> Option<&str> {
        self.by_path.get(path).map(String::as_str)
    }

    fn has_id(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ExportKey {
    producer: String,
    path: String,
    attribute: Option<String>,
}

pub(crate) struct ExportRec {
    pub(crate) producer: String,
    pub(crate) name: String,
    pub(crate) output: String,
    pub(crate) element_path: String,
    pub(crate) attribute: Option<String>,
    value: Node,
    pub(crate) consumers: BTreeSet<String>,
    pub(crate) kept: bool,
}

impl ExportRec {
    pub(crate) fn output_node(&self) -> Node {
        Node::Map(vec![
            (
                "Description".to_owned(),
                Node::str(format!(
                    "{} of {}, exported for other stacks",
                    self.attribute.as_deref().unwrap_or("Ref"),
                    self.element_path
                )),
            ),
            ("Value".to_owned(), self.value.clone()),
            (
                "Export".to_owned(),
                Node::Map(vec![("Name".to_owned(), Node::str(self.name.clone()))]),
            ),
        ])
    }
}

/// An output that stacks of other environments read with `Fn::GetStackOutput` (a weak reference): a plain output,
/// without an export, as exports cannot be imported across accounts or regions.
pub(crate) struct WeakRec {
    pub(crate) producer: String,
    pub(crate) output: String,
    pub(crate) element_path: String,
    pub(crate) attribute: Option<String>,
    value: Node,
    pub(crate) consumers: BTreeSet<String>,
}

impl WeakRec {
    pub(crate) fn output_node(&self) -> Node {
        Node::Map(vec![
            (
                "Description".to_owned(),
                Node::str(format!(
                    "{} of {}, read by stacks of other environments",
                    self.attribute.as_deref().unwrap_or("Ref"),
                    self.element_path
                )),
            ),
            ("Value".to_owned(), self.value.clone()),
        ])
    }
}

/// How a reference from one stack's environment reaches another's.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Crossing {
    /// Not known to differ (an unset account or region is the deploying account or region): export and import.
    SameEnvironment,
    /// `Fn::GetStackOutput`, with the producer's region when the regions differ and its account when the
    /// accounts do.
    Weak {
        region: Option<String>,
        account: Option<String>,
    },
    /// Regions of two partitions: nothing reads across them.
    Partitions { producer: String, consumer: String },
}

/// Whether the environments differ: an account or region differs only when both stacks set it.
pub(crate) fn crossing(producer: &Environment, consumer: &Environment) -> Crossing {
    let differs = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) if a != b => Some(a.clone()),
        _ => None,
    };
    if let (Some(p), Some(c)) = (&producer.region, &consumer.region) {
        if partition_of(p) != partition_of(c) {
            return Crossing::Partitions {
                producer: p.clone(),
                consumer: c.clone(),
            };
        }
    }
    let region = differs(&producer.region, &consumer.region);
    let account = differs(&producer.account, &consumer.account);
    if region.is_none() && account.is_none() {
        Crossing::SameEnvironment
    } else {
        Crossing::Weak { region, account }
    }
}

fn alnum(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Registers (or finds) the export of `element`'s `attribute` from its stack.
fn export_for(
    element: &ElementId,
    attribute: Option<&str>,
    tables: &BTreeMap<Arc<str>, IdTable>,
    exports: &mut BTreeMap<ExportKey, ExportRec>,
) -> Option<String> {
    let id = tables.get(&element.stack)?.id_of(&element.path)?.to_owned();
    let key = ExportKey {
        producer: element.stack.to_string(),
        path: element.path.to_string(),
        attribute: attribute.map(str::to_owned),
    };
    let rec = exports.entry(key).or_insert_with(|| {
        let attr = attribute.map(alnum).unwrap_or_else(|| "Ref".to_owned());
        let value = match attribute {
            None => Node::func("Ref", Node::str(id.clone())),
            Some(a) => Node::func(
                "Fn::GetAtt",
                Node::List(vec![Node::str(id.clone()), Node::str(a)]),
            ),
        };
        ExportRec {
            producer: element.stack.to_string(),
            // Readable and stable: it changes only if the stack, the logical ID or the attribute does.
            name: format!("{}:{id}:{attr}", element.stack),
            output: format!("Export{id}{attr}"),
            element_path: element.path.to_string(),
            attribute: attribute.map(str::to_owned),
            value,
            consumers: BTreeSet::new(),
            kept: false,
        }
    });
    Some(rec.name.clone())
}

/// Registers (or finds) the weak output of `element`'s `attribute` from its stack; returns the output's ID.
fn weak_output_for(
    element: &ElementId,
    attribute: Option<&str>,
    tables: &BTreeMap<Arc<str>, IdTable>,
    weak: &mut BTreeMap<ExportKey, WeakRec>,
) -> Option<String> {
    let id = tables.get(&element.stack)?.id_of(&element.path)?.to_owned();
    let key = ExportKey {
        producer: element.stack.to_string(),
        path: element.path.to_string(),
        attribute: attribute.map(str::to_owned),
    };
    let rec = weak.entry(key).or_insert_with(|| {
        let attr = attribute.map(alnum).unwrap_or_else(|| "Ref".to_owned());
        WeakRec {
            producer: element.stack.to_string(),
            // Its own output, apart from any export of the same value: the output's ID must not depend on
            // whether some other stack, of the same environment, also imports the value.
            output: format!("Output{id}{attr}"),
            element_path: element.path.to_string(),
            attribute: attribute.map(str::to_owned),
            value: Resolver::local(id, attribute),
            consumers: BTreeSet::new(),
        }
    });
    Some(rec.output.clone())
}

/// Records a kept export (see `Stack::export_value`).
pub(crate) fn keep_export(
    stack: &StackInner,
    value: &Value,
    tables: &BTreeMap<Arc<str>, IdTable>,
    exports: &mut BTreeMap<ExportKey, ExportRec>,
    problems: &mut Vec<Problem>,
) {
    let found = match value.as_reference() {
        Some((RefTarget::Element(e), attr)) if e.stack == stack.name => {
            export_for(e, attr, tables, exports)
                .map(|name| (e.clone(), attr.map(str::to_owned), name))
        }
        _ => None,
    };
    match found {
        Some((e, attr, _)) => {
            let key = ExportKey {
                producer: e.stack.to_string(),
                path: e.path.to_string(),
                attribute: attr,
            };
            if let Some(rec) = exports.get_mut(&key) {
                rec.kept = true;
            }
        }
        None => problems.push(Problem::new(
            &stack.name,
            None,
            "export_value takes a Ref or attribute of a resource or parameter of the same stack \
             (for example `stack.export_value(&queue.attr_arn())`)"
                .to_owned(),
        )),
    }
}

/// Resolves the values of one stack.
pub(crate) struct Resolver<'a> {
    stack: &'a StackInner,
    tables: &'a BTreeMap<Arc<str>, IdTable>,
    exports: &'a mut BTreeMap<ExportKey, ExportRec>,
    weak: &'a mut BTreeMap<ExportKey, WeakRec>,
    envs: &'a BTreeMap<Arc<str>, Environment>,
    edges: &'a mut BTreeMap<(String, String), BTreeSet<String>>,
    problems: &'a mut Vec<Problem>,
    language_extensions: bool,
    /// Where the value being resolved sits, for messages (`resource OrdersTable (Order/OrdersTable)`).
    place: String,
    element: Option<String>,
}

/// What every stack's resolver shares: the logical IDs and environments of all stacks, and what they record.
pub(crate) struct Shared<'a> {
    pub(crate) tables: &'a BTreeMap<Arc<str>, IdTable>,
    pub(crate) envs: &'a BTreeMap<Arc<str>, Environment>,
    pub(crate) exports: &'a mut BTreeMap<ExportKey, ExportRec>,
    pub(crate) weak: &'a mut BTreeMap<ExportKey, WeakRec>,
    pub(crate) edges: &'a mut BTreeMap<(String, String), BTreeSet<String>>,
    pub(crate) problems: &'a mut Vec<Problem>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(stack: &'a StackInner, shared: Shared<'a>) -> Self {
        let Shared {
            tables,
            envs,
            exports,
            weak,
            edges,
            problems,
        } = shared;
        Resolver {
            stack,
            tables,
            exports,
            weak,
            envs,
            edges,
            problems,
            language_extensions: false,
            place: String::new(),
            element: None,
        }
    }

    fn table(&self) -> &'a IdTable {
        &self.tables[&self.stack.name]
    }

    fn problem(&mut self, message: String) {
        let p = Problem::new(
            &self.stack.name,
            self.element.as_deref(),
            format!("{}: {message}", self.place),
        );
        self.problems.push(p);
    }

    pub(crate) fn render_body(&mut self, tags: &BTreeMap<String, String>) -> Partial {
        let s = self.stack;
        let mut parameters = Vec::new();
        for (_, name, body) in &s.parameters {
            self.at(format!("parameter {name}"), Some(name));
            let mut entries = vec![("Type".to_owned(), self.resolve(&body["Type"]))];
            entries.extend(
                body.iter()
                    .filter(|(k, _)| *k != "Type")
                    .map(|(k, v)| (k.clone(), self.resolve(v))),
            );
            parameters.push((name.clone(), Node::Map(entries)));
        }
        parameters.sort_by(|a, b| a.0.cmp(&b.0));
        let named =
            |r: &mut Self, kind: &str, section: &BTreeMap<String, Value>| -> Vec<(String, Node)> {
                section
                    .iter()
                    .map(|(name, v)| {
                        r.at(format!("{kind} {name}"), Some(name));
                        if let Err(why) = logical_id::check(name) {
                            r.problem(format!("the name {why}: use letters and digits only"));
                        }
                        (name.clone(), r.resolve(v))
                    })
                    .collect()
            };
        let mappings = named(self, "mapping", &s.mappings);
        let conditions = named(self, "condition", &s.conditions);
        let rules = named(self, "rule", &s.rules);
        let metadata = s
            .metadata
            .iter()
            .map(|(k, v)| {
                self.at(format!("template metadata {k}"), None);
                (k.clone(), self.resolve(v))
            })
            .collect();

        let mut resources: Vec<(String, Node)> = s
            .resources
            .iter()
            .filter_map(|r| self.render_resource(r, tags))
            .collect();
        resources.sort_by(|a, b| a.0.cmp(&b.0));

        let mut outputs = Vec::new();
        for (name, o) in &s.outputs {
            self.at(format!("output {name}"), Some(name));
            if let Err(why) = logical_id::check(name) {
                self.problem(format!("the output name {why}"));
            }
            let mut m = Vec::new();
            if let Some(d) = &o.description {
                m.push(("Description".to_owned(), Node::str(d.clone())));
            }
            m.push(("Value".to_owned(), self.resolve(&o.value)));
            if let Some(e) = &o.export_name {
                let name = self.resolve(e);
                m.push((
                    "Export".to_owned(),
                    Node::Map(vec![("Name".to_owned(), name)]),
                ));
            }
            if let Some(c) = &o.condition {
                self.check_condition(c);
                m.push(("Condition".to_owned(), Node::str(c.clone())));
            }
            outputs.push((name.clone(), Node::Map(m)));
        }

        Partial {
            parameters,
            mappings,
            conditions,
            rules,
            metadata,
            resources,
            outputs,
            language_extensions: self.language_extensions,
        }
    }

    fn at(&mut self, place: String, element: Option<&str>) {
        self.place = place;
        self.element = element.map(str::to_owned);
    }

    fn render_resource(
        &mut self,
        r: &ResourceHandle,
        tags: &BTreeMap<String, String>,
    ) -> Option<(String, Node)> {
        let id = self.table().id_of(r.path())?.to_owned();
        self.at(format!("resource {id} ({})", r.path()), Some(&id));
        let entry = r.entry();
        let mut props = entry.resource.properties();
        if let Some(format) = entry.resource.tag_format() {
            merge_tags(&mut props, format.property, format.style, tags);
        }
        let mut m = vec![("Type".to_owned(), Node::str(entry.resource.type_name()))];
        if let Some(c) = &entry.condition {
            self.check_condition(c);
            m.push(("Condition".to_owned(), Node::str(c.clone())));
        }
        let mut depends: BTreeSet<String> = BTreeSet::new();
        for d in &entry.depends_on {
            if d.stack != self.stack.name {
                // CloudFormation cannot express this inside one template; deploy order expresses it.
                self.edge(&d.stack, format!("{} depends on {}", r.path(), d.path));
            } else {
                match self.table().id_of(&d.path) {
                    Some(dep) => {
                        depends.insert(dep.to_owned());
                    }
                    None => {
                        self.problem(format!("DependsOn {} names nothing in this stack", d.path))
                    }
                }
            }
        }
        let props: Vec<(String, Node)> = props
            .iter()
            .map(|(k, v)| (k.clone(), self.resolve(v)))
            .collect();
        // cfn-lint (W3005) flags a DependsOn that a Ref or GetAtt already implies; such entries add nothing.
        let mut implied = BTreeSet::new();
        for (_, n) in &props {
            implied_dependencies(n, &mut implied);
        }
        depends.retain(|d| !implied.contains(d));
        if !depends.is_empty() {
            m.push((
                "DependsOn".to_owned(),
                Node::List(depends.into_iter().map(Node::String).collect()),
            ));
        }
        if !props.is_empty() {
            m.push(("Properties".to_owned(), Node::Map(props)));
        }
        for (name, v) in [
            ("CreationPolicy", &entry.creation_policy),
            ("UpdatePolicy", &entry.update_policy),
        ] {
            if let Some(v) = v {
                let node = self.resolve(v);
                m.push((name.to_owned(), node));
            }
        }
        for (name, v) in [
            ("DeletionPolicy", entry.deletion_policy),
            ("UpdateReplacePolicy", entry.update_replace_policy),
        ] {
            if let Some(p) = v {
                m.push((name.to_owned(), Node::str(p.as_str())));
            }
        }
        if !entry.metadata.is_empty() {
            let md = entry
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), self.resolve(v)))
                .collect();
            m.push(("Metadata".to_owned(), Node::Map(md)));
        }
        let mut node = Node::Map(m);
        for (path, v) in &entry.overrides {
            let v = v.as_ref().map(|v| self.resolve(v));
            apply_override(&mut node, path, v);
        }
        Some((id, node))
    }

    fn edge(&mut self, producer: &str, why: String) {
        self.edges
            .entry((self.stack.name.to_string(), producer.to_owned()))
            .or_default()
            .insert(why);
    }

    fn check_condition(&mut self, name: &str) {
        if !self.stack.conditions.contains_key(name) {
            self.problem(format!(
                "condition {name:?} is not declared in this stack: declare it with add_condition"
            ));
        }
    }

    /// Resolves a value to a node.
    pub(crate) fn resolve(&mut self, v: &Value) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::str(s.clone()),
            Value::List(l) => Node::List(l.iter().map(|v| self.resolve(v)).collect()),
            Value::Map(m) => Node::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .collect(),
            ),
            Value::Fn(i) => self.resolve_fn(i),
        }
    }

    fn list(&mut self, items: &[&Value]) -> Node {
        Node::List(items.iter().map(|v| self.resolve(v)).collect())
    }

    fn resolve_fn(&mut self, i: &Intrinsic) -> Node {
        use Intrinsic::*;
        match i {
            Ref(t) => self.reference(t, None),
            GetAtt(t, a) => self.reference(t, Some(a)),
            Sub { template, vars } => {
                self.check_sub(template, vars);
                if vars.is_empty() {
                    Node::func("Fn::Sub", Node::str(template.clone()))
                } else {
                    let vars = vars
                        .iter()
                        .map(|(k, v)| (k.clone(), self.resolve(v)))
                        .collect();
                    Node::func(
                        "Fn::Sub",
                        Node::List(vec![Node::str(template.clone()), Node::Map(vars)]),
                    )
                }
            }
            Join(d, v) => {
                let v = self.resolve(v);
                Node::func("Fn::Join", Node::List(vec![Node::str(d.clone()), v]))
            }
            Select(i, l) => Node::func("Fn::Select", self.list(&[i, l])),
            Split(d, v) => {
                let v = self.resolve(v);
                Node::func("Fn::Split", Node::List(vec![Node::str(d.clone()), v]))
            }
            If(c, a, b) => {
                self.check_condition(c);
                let (a, b) = (self.resolve(a), self.resolve(b));
                Node::func("Fn::If", Node::List(vec![Node::str(c.clone()), a, b]))
            }
            And(vs) | Or(vs) => {
                if !(2..=10).contains(&vs.len()) {
                    self.problem(format!(
                        "Fn::And and Fn::Or take 2 to 10 conditions, got {}",
                        vs.len()
                    ));
                }
                let name = if matches!(i, And(_)) {
                    "Fn::And"
                } else {
                    "Fn::Or"
                };
                Node::func(
                    name,
                    Node::List(vs.iter().map(|v| self.resolve(v)).collect()),
                )
            }
            Not(v) => Node::func("Fn::Not", self.list(&[v])),
            Equals(a, b) => Node::func("Fn::Equals", self.list(&[a, b])),
            Condition(c) => {
                self.check_condition(c);
                Node::func("Condition", Node::str(c.clone()))
            }
            ImportValue(v) => Node::func("Fn::ImportValue", self.resolve(v)),
            FindInMap(a, b, c, d) => {
                let mut args = vec![self.resolve(a), self.resolve(b), self.resolve(c)];
                if let Some(d) = d {
                    self.language_extensions = true;
                    args.push(Node::Map(vec![(
                        "DefaultValue".to_owned(),
                        self.resolve(d),
                    )]));
                }
                Node::func("Fn::FindInMap", Node::List(args))
            }
            Base64(v) => Node::func("Fn::Base64", self.resolve(v)),
            GetAzs(v) => Node::func("Fn::GetAZs", self.resolve(v)),
            Cidr(a, b, c) => Node::func("Fn::Cidr", self.list(&[a, b, c])),
            Length(v) => {
                self.language_extensions = true;
                Node::func("Fn::Length", self.resolve(v))
            }
            ToJsonString(v) => {
                self.language_extensions = true;
                Node::func("Fn::ToJsonString", self.resolve(v))
            }
            GetStackOutput {
                stack_name,
                output_name,
                region,
                role_arn,
            } => {
                let mut args = vec![
                    ("StackName".to_owned(), self.resolve(stack_name)),
                    ("OutputName".to_owned(), self.resolve(output_name)),
                ];
                for (name, v) in [("Region", region), ("RoleArn", role_arn)] {
                    if let Some(v) = v {
                        let v = self.resolve(v);
                        args.push((name.to_owned(), v));
                    }
                }
                Node::func("Fn::GetStackOutput", Node::Map(args))
            }
        }
    }

    fn local(id: String, attribute: Option<&str>) -> Node {
        match attribute {
            None => Node::func("Ref", Node::str(id)),
            Some(a) => Node::func("Fn::GetAtt", Node::List(vec![Node::str(id), Node::str(a)])),
        }
    }

    fn reference(&mut self, t: &RefTarget, attribute: Option<&String>) -> Node {
        let attribute = attribute.map(String::as_str);
        match t {
            RefTarget::Pseudo(p) => {
                if attribute.is_some() {
                    self.problem(format!("Fn::GetAtt cannot be used on {}", p.name()));
                }
                Node::func("Ref", Node::str(p.name()))
            }
            RefTarget::Logical(id) => {
                if !self.table().has_id(id) {
                    self.problem(format!(
                        "refers to {id}, which is not a resource or parameter of this stack"
                    ));
                }
                Self::local(id.clone(), attribute)
            }
            RefTarget::Element(e) if e.stack == self.stack.name => {
                match self.table().id_of(&e.path) {
                    Some(id) => Self::local(id.to_owned(), attribute),
                    None => {
                        self.problem(format!("refers to {}, which is not in this stack (was it made by another App?)", e.path));
                        Node::Null
                    }
                }
            }
            RefTarget::Element(e) => {
                let producer_env = self.envs.get(&e.stack).cloned().unwrap_or_default();
                match crossing(&producer_env, &self.stack.env) {
                    Crossing::SameEnvironment => self.import(e, attribute),
                    Crossing::Weak { region, account } => {
                        self.weak_reference(e, attribute, &producer_env, region, account)
                    }
                    Crossing::Partitions { producer, consumer } => {
                        self.problem(format!(
                            "refers to {} in stack {} (region {producer}, partition {}) from stack {} (region \
                             {consumer}, partition {}): Fn::GetStackOutput cannot read across partitions; pass the \
                             value in as a parameter, or move one of the stacks into the other's partition",
                            e.path,
                            e.stack,
                            partition_of(&producer),
                            self.stack.name,
                            partition_of(&consumer),
                        ));
                        Node::Null
                    }
                }
            }
        }
    }

    /// A reference to another stack of the same environment: its export, imported.
    fn import(&mut self, e: &ElementId, attribute: Option<&str>) -> Node {
        match export_for(e, attribute, self.tables, self.exports) {
            Some(name) => {
                let key = ExportKey {
                    producer: e.stack.to_string(),
                    path: e.path.to_string(),
                    attribute: attribute.map(str::to_owned),
                };
                if let Some(rec) = self.exports.get_mut(&key) {
                    rec.consumers.insert(self.stack.name.to_string());
                }
                let why = format!("{} imports {name} ({})", self.stack.name, self.place);
                self.edge(&e.stack, why);
                Node::func("Fn::ImportValue", Node::str(name))
            }
            None => self.foreign(e),
        }
    }

    fn foreign(&mut self, e: &ElementId) -> Node {
        self.problem(format!(
            "refers to {} in stack {}, which another App made: stacks cannot move between apps, so make that stack \
             with this app's `app.stack(..)`, or pass the value in as a parameter",
            e.path, e.stack
        ));
        Node::Null
    }

    /// A reference to a stack of another account or region: a plain output there, read with
    /// `Fn::GetStackOutput` (through the producer account's lookup role when the accounts differ).
    fn weak_reference(
        &mut self,
        e: &ElementId,
        attribute: Option<&str>,
        producer_env: &Environment,
        region: Option<String>,
        account: Option<String>,
    ) -> Node {
        let Some(output) = weak_output_for(e, attribute, self.tables, self.weak) else {
            return self.foreign(e);
        };
        let key = ExportKey {
            producer: e.stack.to_string(),
            path: e.path.to_string(),
            attribute: attribute.map(str::to_owned),
        };
        if let Some(rec) = self.weak.get_mut(&key) {
            rec.consumers.insert(self.stack.name.to_string());
        }
        let why = format!(
            "{} reads {}'s output {output} with Fn::GetStackOutput ({})",
            self.stack.name, e.stack, self.place
        );
        self.edge(&e.stack, why);
        let mut args = vec![
            ("StackName".to_owned(), Node::str(e.stack.to_string())),
            ("OutputName".to_owned(), Node::str(output)),
        ];
        if let Some(region) = region {
            args.push(("Region".to_owned(), Node::str(region)));
        }
        if let Some(account) = account {
            let arn = BootstrapRole::Lookup.arn(&account, producer_env.region.as_deref());
            let arn = self.resolve(&arn.into_raw());
            args.push(("RoleArn".to_owned(), arn));
        }
        Node::func("Fn::GetStackOutput", Node::Map(args))
    }

    /// Every `${Name}` or `${Name.Attr}` must be a variable, a pseudo parameter, or a resource or parameter here.
    fn check_sub(&mut self, template: &str, vars: &BTreeMap<String, Value>) {
        for name in sub_references(template) {
            let head = name.split('.').next().unwrap_or(&name);
            let known = vars.contains_key(&name)
                || Pseudo::ALL.iter().any(|p| p.name() == name)
                || (!head.starts_with("AWS::") && self.table().has_id(head));
            if !known {
                self.problem(format!(
                    "Fn::Sub refers to ${{{name}}}, which is not a variable, a pseudo parameter, or a resource or \
                     parameter of this stack: add it to the variable map (fns::sub_with) or fix the name"
                ));
            }
        }
    }
}

/// Logical IDs that a rendered value references within its stack (`Ref`, `Fn::GetAtt`, `${X}` in `Fn::Sub`).
fn implied_dependencies(n: &Node, out: &mut BTreeSet<String>) {
    match n {
        Node::Fn("Ref", arg) => {
            if let Node::String(id) = &**arg {
                out.insert(id.clone());
            }
        }
        Node::Fn("Fn::GetAtt", arg) => {
            if let Node::List(parts) = &**arg {
                if let Some(Node::String(id)) = parts.first() {
                    out.insert(id.clone());
                }
            }
        }
        Node::Fn("Fn::Sub", arg) => {
            let template = match &**arg {
                Node::String(t) => Some(t),
                Node::List(parts) => match parts.first() {
                    Some(Node::String(t)) => Some(t),
                    _ => None,
                },
                _ => None,
            };
            for name in template.map(|t| sub_references(t)).unwrap_or_default() {
                out.insert(name.split('.').next().unwrap_or_default().to_owned());
            }
            implied_dependencies(arg, out);
        }
        Node::Fn(_, arg) => implied_dependencies(arg, out),
        Node::List(l) => l.iter().for_each(|n| implied_dependencies(n, out)),
        Node::Map(m) => m.iter().for_each(|(_, n)| implied_dependencies(n, out)),
        _ => {}
    }
}

/// The names inside `${...}` of an `Fn::Sub` template, skipping the `${!Literal}` escape.
pub(crate) fn sub_references(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = after[..end].trim();
                if !name.starts_with('!') {
                    out.push(name.to_owned());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Adds the stack's tags to a resource's tags; a key the resource sets itself keeps the resource's value.
fn merge_tags(
    props: &mut BTreeMap<String, Value>,
    property: &str,
    style: TagStyle,
    tags: &BTreeMap<String, String>,
) {
    if tags.is_empty() {
        return;
    }
    let current = props
        .entry(property.to_owned())
        .or_insert_with(|| match style {
            TagStyle::List => Value::List(vec![]),
            TagStyle::Map => Value::Map(BTreeMap::new()),
        });
    match (style, current) {
        (TagStyle::List, Value::List(items)) => {
            let has = |items: &Vec<Value>, k: &str| {
                items.iter().any(|i| matches!(i, Value::Map(m) if m.get("Key") == Some(&Value::String(k.to_owned()))))
            };
            for (k, v) in tags {
                if !has(items, k) {
                    items.push(Value::map([("Key", k.as_str()), ("Value", v.as_str())]));
                }
            }
            // Sorted by key so that the order of tagging calls does not show in the template.
            items.sort_by_key(|i| match i {
                Value::Map(m) => match m.get("Key") {
                    Some(Value::String(k)) => k.clone(),
                    _ => String::new(),
                },
                _ => String::new(),
            });
        }
        (TagStyle::Map, Value::Map(m)) => {
            for (k, v) in tags {
                m.entry(k.clone())
                    .or_insert_with(|| Value::String(v.clone()));
            }
        }
        // Tags computed by an intrinsic are left alone: they cannot be merged at synth time.
        _ => {}
    }
}

/// Applies a dotted-path override to a rendered resource, creating maps on the way; `None` deletes.
fn apply_override(node: &mut Node, path: &str, value: Option<Node>) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = node;
    for p in &parts[..parts.len() - 1] {
        if cur.get(p).is_none_or(|n| !matches!(n, Node::Map(_))) {
            if value.is_none() {
                return;
            }
            cur.set(p, Node::Map(vec![]));
        }
        cur = cur.get_mut(p).expect("just ensured");
    }
    let last = parts[parts.len() - 1];
    match value {
        Some(v) => cur.set(last, v),
        None => cur.remove(last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_references_skip_literals() {
        assert_eq!(
            sub_references("arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}/${Fn.Arn}"),
            vec!["AWS::Partition", "Bucket", "Fn.Arn"]
        );
    }

    #[test]
    fn overrides_create_and_delete_nested_keys() {
        let mut n = Node::Map(vec![("Type".into(), Node::str("X"))]);
        apply_override(&mut n, "Properties.A.B", Some(Node::Bool(true)));
        assert_eq!(
            n.get("Properties")
                .and_then(|p| p.get("A"))
                .and_then(|a| a.get("B")),
            Some(&Node::Bool(true))
        );
        apply_override(&mut n, "Properties.A.B", None);
        assert_eq!(
            n.get("Properties").and_then(|p| p.get("A")),
            Some(&Node::Map(vec![]))
        );
    }
}
