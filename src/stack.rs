//! Apps, stacks and scopes: where constructs live, and the template sections other than Resources.
//!
//! A [`Stack`] is a cheap handle (clones share one stack), and so is a [`Scope`], a path inside a stack. Constructs
//! take `&Scope` and add resources under their own path; synth derives logical IDs from those paths.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use crate::fns::Cond;
use crate::synth::manifest::ManifestMove;
use cfnkit_core::{
    AnyResource, ConditionHandle, ElementId, Intrinsic, RawResource, RefTarget, Resource,
    ResourceEntry, ResourceHandle, Val, Value,
};

/// The account and region a stack is meant for. Both optional: an environment-agnostic stack deploys anywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// The AWS account ID; the deploying credentials' account when `None`.
    pub account: Option<String>,
    /// The region; the deploying credentials' region when `None`.
    pub region: Option<String>,
}

/// A CloudFormation parameter's declaration. `T` is what its `Ref` evaluates to.
#[derive(Clone, Debug)]
pub struct Parameter<T> {
    pub(crate) body: BTreeMap<String, Value>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Parameter<T> {
    fn of(type_name: &str) -> Self {
        Parameter {
            body: BTreeMap::from([("Type".to_owned(), Value::from(type_name))]),
            _type: PhantomData,
        }
    }
    fn set(mut self, key: &str, v: impl Into<Value>) -> Self {
        self.body.insert(key.to_owned(), v.into());
        self
    }
    /// Sets the `Description` shown beside the parameter in the console.
    pub fn description(self, d: impl Into<String>) -> Self {
        self.set("Description", d.into())
    }
    /// Sets the `Default` used when a deploy gives no value; without it the parameter is required.
    pub fn default_value(self, v: impl Into<Value>) -> Self {
        self.set("Default", v)
    }
    /// Sets `AllowedValues`: CloudFormation refuses any other value before creating anything.
    pub fn allowed_values<V: Into<Value>>(self, vs: impl IntoIterator<Item = V>) -> Self {
        self.set("AllowedValues", Value::list(vs))
    }
    /// Sets `AllowedPattern`, a regular expression a `String` value must match.
    pub fn allowed_pattern(self, p: impl Into<String>) -> Self {
        self.set("AllowedPattern", p.into())
    }
    /// Sets `ConstraintDescription`, the message CloudFormation shows when a value breaks a constraint.
    pub fn constraint_description(self, d: impl Into<String>) -> Self {
        self.set("ConstraintDescription", d.into())
    }
    /// Sets `MinLength`, the fewest characters a `String` value may have.
    pub fn min_length(self, n: u32) -> Self {
        self.set("MinLength", n)
    }
    /// Sets `MaxLength`, the most characters a `String` value may have.
    pub fn max_length(self, n: u32) -> Self {
        self.set("MaxLength", n)
    }
    /// Sets `MinValue`, the smallest a `Number` value may be.
    pub fn min_value(self, n: f64) -> Self {
        self.set("MinValue", n)
    }
    /// Sets `MaxValue`, the largest a `Number` value may be.
    pub fn max_value(self, n: f64) -> Self {
        self.set("MaxValue", n)
    }
    /// Masks the value in the console and API output.
    pub fn no_echo(self) -> Self {
        self.set("NoEcho", true)
    }
}

impl Parameter<String> {
    /// `Type: String`.
    pub fn string() -> Self {
        Self::of("String")
    }
    /// `Type: Number`. Its `Ref` is a string, as CloudFormation passes numbers on as strings.
    pub fn number() -> Self {
        Self::of("Number")
    }
    /// An AWS-specific or SSM parameter type (`AWS::EC2::VPC::Id`, `AWS::SSM::Parameter::Value<String>`).
    pub fn of_type(type_name: &str) -> Self {
        Self::of(type_name)
    }
}

impl Parameter<Vec<String>> {
    /// `Type: CommaDelimitedList`.
    pub fn comma_delimited_list() -> Self {
        Self::of("CommaDelimitedList")
    }
    /// A list type such as `List<AWS::EC2::Subnet::Id>`.
    pub fn list_of_type(type_name: &str) -> Self {
        Self::of(type_name)
    }
}

/// A parameter of a stack. Its `Ref` has the parameter's type; from another stack it is exported and imported.
#[derive(Clone, Debug)]
pub struct ParamHandle<T> {
    id: ElementId,
    _type: PhantomData<fn() -> T>,
}

impl<T> ParamHandle<T> {
    /// `Ref` to the parameter.
    pub fn ref_(&self) -> Val<T> {
        Val::from_raw(Value::func(Intrinsic::Ref(RefTarget::Element(
            self.id.clone(),
        ))))
    }
    /// The parameter's identity in its stack, which references to it carry.
    pub fn element(&self) -> &ElementId {
        &self.id
    }
}

/// A mapping of a stack, for `Fn::FindInMap`.
#[derive(Clone, Debug)]
pub struct MappingHandle {
    name: String,
}

impl MappingHandle {
    /// `Fn::FindInMap [name, top, second]`.
    pub fn find<T>(&self, top: impl Into<Val<String>>, second: impl Into<Val<String>>) -> Val<T> {
        crate::fns::find_in_map(self.name.as_str(), top, second)
    }
}

/// A stack output.
#[derive(Clone, Debug)]
pub struct Output {
    pub(crate) value: Value,
    pub(crate) description: Option<String>,
    pub(crate) export_name: Option<Value>,
    pub(crate) condition: Option<String>,
}

impl Output {
    /// An output of any value: a literal, a `Ref`, an attribute, any intrinsic. (`impl Into<Value>` rather than a
    /// typed `Val<T>`, so `Output::new(queue.ref_())` needs no annotation.)
    pub fn new(value: impl Into<Value>) -> Self {
        Output {
            value: value.into(),
            description: None,
            export_name: None,
            condition: None,
        }
    }
    /// Sets the output's `Description`, shown in the console and by `describe-stacks`.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
    /// Exports the value under this name. Cross-stack references between cfnkit stacks export automatically.
    pub fn export_name(mut self, name: impl Into<Val<String>>) -> Self {
        self.export_name = Some(name.into().into_raw());
        self
    }
    /// Creates the output only when the stack's condition `c` holds.
    pub fn condition(mut self, c: &ConditionHandle) -> Self {
        self.condition = Some(c.name().to_owned());
        self
    }
}

/// A template rule: assertions on parameter values, checked by CloudFormation before it creates anything.
#[derive(Clone, Debug, Default)]
pub struct TemplateRule {
    pub(crate) condition: Option<Value>,
    pub(crate) assertions: Vec<(Value, Option<String>)>,
}

impl TemplateRule {
    /// A rule with no condition (it always applies) and no assertions yet.
    pub fn new() -> Self {
        TemplateRule::default()
    }
    /// The rule applies only when this holds (`RuleCondition`).
    pub fn when(mut self, c: Cond) -> Self {
        self.condition = Some(c.0);
        self
    }
    /// An assertion with the message shown when it fails.
    pub fn assert(mut self, c: Cond, description: impl Into<String>) -> Self {
        self.assertions.push((c.0, Some(description.into())));
        self
    }
}

pub(crate) struct StackInner {
    pub(crate) name: Arc<str>,
    pub(crate) description: Option<String>,
    pub(crate) tags: BTreeMap<String, String>,
    pub(crate) termination_protection: bool,
    pub(crate) env: Environment,
    pub(crate) resources: Vec<ResourceHandle>,
    pub(crate) parameters: Vec<(ElementId, String, BTreeMap<String, Value>)>,
    pub(crate) mappings: BTreeMap<String, Value>,
    pub(crate) conditions: BTreeMap<String, Value>,
    pub(crate) rules: BTreeMap<String, Value>,
    pub(crate) outputs: BTreeMap<String, Output>,
    pub(crate) metadata: BTreeMap<String, Value>,
    pub(crate) transforms: Vec<String>,
    pub(crate) dependencies: Vec<Arc<str>>,
    /// Values exported even with no consumer: see [`Stack::export_value`].
    pub(crate) kept_exports: Vec<Value>,
    /// Resources that had another logical ID, or lived in another stack, before: see [`Stack::moved`].
    pub(crate) moves: Vec<(String, ElementId)>,
    /// Construction errors (a duplicate path, a bad construct id), reported together at synth.
    pub(crate) errors: Vec<String>,
    /// The stack sets whose template this stack is: their construct paths and the stacks they are in. Synth
    /// refuses an app holding both, which would also deploy the template as a stack of its own.
    pub(crate) template_of: Vec<(String, std::rc::Weak<RefCell<StackInner>>)>,
}

/// A stack: one CloudFormation template. Cheap to clone; clones are the same stack.
#[derive(Clone)]
pub struct Stack(pub(crate) Rc<RefCell<StackInner>>);

/// A path inside a stack where constructs add resources. Cheap to clone.
#[derive(Clone)]
pub struct Scope {
    stack: Stack,
    path: String,
}

impl Stack {
    pub(crate) fn new(name: &str) -> Stack {
        Stack(Rc::new(RefCell::new(StackInner {
            name: name.into(),
            description: None,
            tags: BTreeMap::new(),
            termination_protection: false,
            env: Environment::default(),
            resources: Vec::new(),
            parameters: Vec::new(),
            mappings: BTreeMap::new(),
            conditions: BTreeMap::new(),
            rules: BTreeMap::new(),
            outputs: BTreeMap::new(),
            metadata: BTreeMap::new(),
            transforms: Vec::new(),
            dependencies: Vec::new(),
            kept_exports: Vec::new(),
            moves: Vec::new(),
            errors: Vec::new(),
            template_of: Vec::new(),
        })))
    }

    /// The stack's name, which is also its deployed CloudFormation stack name.
    pub fn name(&self) -> Arc<str> {
        self.0.borrow().name.clone()
    }
    /// The root scope of the stack.
    pub fn scope(&self) -> Scope {
        Scope {
            stack: self.clone(),
            path: self.0.borrow().name.to_string(),
        }
    }
    /// A child scope of the root (`Stack/id`).
    pub fn child(&self, id: &str) -> Scope {
        self.scope().child(id)
    }
    /// Adds a typed resource at `Stack/id`.
    pub fn add<R: Resource>(&self, id: &str, resource: R) -> R::Handle {
        self.scope().add(id, resource)
    }
    /// Adds an untyped resource at `Stack/id`.
    pub fn add_raw(&self, id: &str, resource: RawResource) -> ResourceHandle {
        self.scope().add_raw(id, resource)
    }

    /// The template's `Description`.
    pub fn set_description(&self, d: impl Into<String>) -> &Self {
        self.0.borrow_mut().description = Some(d.into());
        self
    }
    /// A tag applied to every taggable resource of the stack (resource-level tags of the same key win).
    pub fn add_tag(&self, key: impl Into<String>, value: impl Into<String>) -> &Self {
        self.0.borrow_mut().tags.insert(key.into(), value.into());
        self
    }
    /// Recorded in the manifest and applied by the deploy command.
    pub fn set_termination_protection(&self, on: bool) -> &Self {
        self.0.borrow_mut().termination_protection = on;
        self
    }
    /// The target account and region, recorded in the manifest.
    pub fn set_env(&self, env: Environment) -> &Self {
        self.0.borrow_mut().env = env;
        self
    }
    /// Deploy `other` before this stack even without references between them.
    pub fn add_dependency(&self, other: &Stack) -> &Self {
        let name = other.name();
        self.0.borrow_mut().dependencies.push(name);
        self
    }
    /// A `Transform` (`AWS::Serverless-2016-10-31`). `AWS::LanguageExtensions` is added automatically when needed.
    pub fn add_transform(&self, name: impl Into<String>) -> &Self {
        let name = name.into();
        let mut inner = self.0.borrow_mut();
        if !inner.transforms.contains(&name) {
            inner.transforms.push(name);
        }
        self
    }
    /// A template `Metadata` entry.
    pub fn add_metadata(&self, key: impl Into<String>, value: impl Into<Value>) -> &Self {
        self.0
            .borrow_mut()
            .metadata
            .insert(key.into(), value.into());
        self
    }

    /// Declares a parameter; `name` is its logical ID.
    pub fn add_parameter<T>(&self, name: &str, p: Parameter<T>) -> ParamHandle<T> {
        let id = self.scope().child_id(name);
        let mut inner = self.0.borrow_mut();
        if inner.parameters.iter().any(|(_, n, _)| n == name) {
            let msg = format!(
                "parameter {name:?} is declared twice in stack {}",
                inner.name
            );
            inner.errors.push(msg);
        }
        inner.parameters.push((id.clone(), name.to_owned(), p.body));
        ParamHandle {
            id,
            _type: PhantomData,
        }
    }
    /// Declares a mapping: top-level key to second-level key to value.
    pub fn add_mapping<V: Into<Value>>(
        &self,
        name: &str,
        entries: BTreeMap<String, BTreeMap<String, V>>,
    ) -> MappingHandle {
        let v = Value::Map(
            entries
                .into_iter()
                .map(|(k, inner)| {
                    (
                        k,
                        Value::Map(inner.into_iter().map(|(k2, v)| (k2, v.into())).collect()),
                    )
                })
                .collect(),
        );
        self.insert_named("mapping", name, v, |s| &mut s.mappings);
        MappingHandle {
            name: name.to_owned(),
        }
    }
    /// Declares a named condition.
    pub fn add_condition(&self, name: &str, c: Cond) -> ConditionHandle {
        self.insert_named("condition", name, c.0, |s| &mut s.conditions);
        ConditionHandle::new(name)
    }
    /// Declares a rule.
    pub fn add_template_rule(&self, name: &str, rule: TemplateRule) {
        let mut body = BTreeMap::new();
        if let Some(c) = rule.condition {
            body.insert("RuleCondition".to_owned(), c);
        }
        let assertions = rule
            .assertions
            .into_iter()
            .map(|(a, d)| {
                let mut m = BTreeMap::from([("Assert".to_owned(), a)]);
                if let Some(d) = d {
                    m.insert("AssertDescription".to_owned(), d.into());
                }
                Value::Map(m)
            })
            .collect();
        body.insert("Assertions".to_owned(), Value::List(assertions));
        self.insert_named("rule", name, Value::Map(body), |s| &mut s.rules);
    }
    /// Declares an output; `name` is its logical ID.
    pub fn add_output(&self, name: &str, output: Output) {
        let mut inner = self.0.borrow_mut();
        if inner.outputs.insert(name.to_owned(), output).is_some() {
            let msg = format!("output {name:?} is declared twice in stack {}", inner.name);
            inner.errors.push(msg);
        }
    }
    /// Keeps exporting `value` (a `Ref` or `Fn::GetAtt` of this stack's element) under the name synth gives
    /// automatic exports, whether or not another stack still imports it.
    ///
    /// This is how a consumer is removed safely: deploying the producer first would delete an export that the
    /// consumer still imports, and CloudFormation refuses. Keep the export in the release that removes the last
    /// consumer, deploy, then drop the `export_value` call in a later release.
    pub fn export_value<T>(&self, value: &Val<T>) {
        self.0.borrow_mut().kept_exports.push(value.raw().clone());
    }

    /// Records that `to`, a resource of this stack, was at `from` in the deployed stacks: a logical ID of this
    /// stack (`"OrdersTable"`: a rename, say after moving the construct) or `"OtherStack/LogicalId"` (a move from
    /// another stack). The manifest carries it, and `cargo cfn deploy` moves the deployed resource with
    /// CloudFormation's stack refactoring, keeping it and its data, where the templates alone would read as
    /// delete and create; `cargo cfn diff` shows it as moved.
    ///
    /// A refactor moves resources and nothing else, so deploy the release that records a move without other
    /// changes to the stacks involved. Keep the call until every environment has been deployed with it; it does
    /// nothing once the resource is at `to`.
    pub fn moved(&self, from: &str, to: &ResourceHandle) -> &Self {
        self.0
            .borrow_mut()
            .moves
            .push((from.to_owned(), to.element().clone()));
        self
    }

    fn insert_named(
        &self,
        kind: &str,
        name: &str,
        v: Value,
        section: impl FnOnce(&mut StackInner) -> &mut BTreeMap<String, Value>,
    ) {
        let mut inner = self.0.borrow_mut();
        let stack = inner.name.clone();
        if section(&mut inner).insert(name.to_owned(), v).is_some() {
            inner.errors.push(format!(
                "{kind} {name:?} is declared twice in stack {stack}"
            ));
        }
    }
}

/// Where a construct is made: a [`Scope`], or a [`Stack`] for its root scope, so that `Queue::new(&stack, ..)`
/// and `Queue::new(&scope, ..)` both work (CDK's `this`).
pub trait AsScope {
    /// The scope constructs are added under.
    fn as_scope(&self) -> Scope;
}

impl AsScope for Scope {
    fn as_scope(&self) -> Scope {
        self.clone()
    }
}

impl AsScope for Stack {
    fn as_scope(&self) -> Scope {
        self.scope()
    }
}

impl Scope {
    /// The scope's construct path (`Inventory/InventoryQueue`).
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The stack this scope belongs to.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }
    /// A child scope, for a construct made of several resources.
    pub fn child(&self, id: &str) -> Scope {
        self.check_id(id);
        Scope {
            stack: self.stack.clone(),
            path: format!("{}/{id}", self.path),
        }
    }
    /// Adds a typed resource at `path/id` and returns its typed handle.
    pub fn add<R: Resource>(&self, id: &str, resource: R) -> R::Handle {
        R::Handle::from(self.add_any(id, Box::new(resource)))
    }
    /// Adds an untyped resource at `path/id`.
    pub fn add_raw(&self, id: &str, resource: RawResource) -> ResourceHandle {
        self.add_any(id, Box::new(resource))
    }

    fn child_id(&self, id: &str) -> ElementId {
        self.check_id(id);
        ElementId {
            stack: self.stack.name(),
            path: format!("{}/{id}", self.path).into(),
        }
    }

    fn check_id(&self, id: &str) {
        if id.is_empty() || id.contains('/') {
            self.stack.0.borrow_mut().errors.push(format!(
                "construct id {id:?} under {} must be non-empty and must not contain '/'",
                self.path
            ));
        }
    }

    fn add_any(&self, id: &str, resource: Box<dyn AnyResource>) -> ResourceHandle {
        let element = self.child_id(id);
        let handle = ResourceHandle::new(element.clone(), ResourceEntry::new(resource));
        let mut inner = self.stack.0.borrow_mut();
        if inner.resources.iter().any(|r| *r.element() == element) {
            inner.errors.push(format!(
                "two constructs have the path {}: give one of them another id",
                element.path
            ));
        }
        inner.resources.push(handle.clone());
        handle
    }
}

impl StackInner {
    /// The moves recorded with [`Stack::moved`], with logical IDs: `logical_id` gives an element's, `holds` says
    /// whether a stack of the app has a resource of that logical ID (and its path). Problems are returned as
    /// messages for synth to report with the stack's name.
    pub(crate) fn resolve_moves(
        &self,
        logical_id: impl Fn(&ElementId) -> Option<String>,
        holds: impl Fn(&str, &str) -> Option<String>,
    ) -> (Vec<ManifestMove>, Vec<String>) {
        let mut moves: Vec<ManifestMove> = Vec::new();
        let mut problems = Vec::new();
        for (from, to) in &self.moves {
            if *to.stack != *self.name {
                problems.push(format!(
                    "moved({from:?}, {}): that resource is in stack {}; call `moved` on the stack it is in now",
                    to.path, to.stack
                ));
                continue;
            }
            let Some(to_id) = logical_id(to) else {
                continue;
            };
            let (from_stack, from_id) = match from.split_once('/') {
                Some((stack, id)) => (stack.to_owned(), id.to_owned()),
                None => (self.name.to_string(), from.clone()),
            };
            if let Err(why) = crate::synth::logical_id::check(&from_id) {
                problems.push(format!(
                    "moved({from:?}, {}): logical ID {from_id:?} {why}; write the deployed logical ID, or \
                     \"Stack/LogicalId\" for another stack",
                    to.path
                ));
                continue;
            }
            if from_stack == *self.name && from_id == to_id {
                problems.push(format!(
                    "moved({from:?}, {}): that is its logical ID now, so nothing moves; drop the call",
                    to.path
                ));
                continue;
            }
            if let Some(path) = holds(&from_stack, &from_id) {
                problems.push(format!(
                    "moved({from:?}, {}): {from_stack} still has a resource with logical ID {from_id} ({path}); \
                     a resource cannot both move and stay: rename or remove the one left behind",
                    to.path
                ));
                continue;
            }
            if let Some(other) = moves
                .iter()
                .find(|m| m.to == to_id || (m.from_stack == from_stack && m.from == from_id))
            {
                problems.push(format!(
                    "moved({from:?}, {}) repeats a move already recorded ({}/{} to {}): record each resource once",
                    to.path, other.from_stack, other.from, other.to
                ));
                continue;
            }
            moves.push(ManifestMove {
                from_stack,
                from: from_id,
                to: to_id,
            });
        }
        (moves, problems)
    }
}

/// An app: the stacks that are synthesized and deployed together.
#[derive(Clone, Default)]
pub struct App {
    pub(crate) stacks: Rc<RefCell<Vec<Stack>>>,
    pub(crate) tags: Rc<RefCell<BTreeMap<String, String>>>,
}

impl App {
    /// An app with no stacks and no tags.
    pub fn new() -> Self {
        App::default()
    }
    /// Creates a stack; `name` is its CloudFormation stack name.
    pub fn stack(&self, name: &str) -> Stack {
        let stack = Stack::new(name);
        self.stacks.borrow_mut().push(stack.clone());
        stack
    }
    /// A tag applied to every taggable resource of every stack (stack tags of the same key win).
    pub fn add_tag(&self, key: impl Into<String>, value: impl Into<String>) -> &Self {
        self.tags.borrow_mut().insert(key.into(), value.into());
        self
    }
    /// The stacks, in declaration order.
    pub fn stacks(&self) -> Vec<Stack> {
        self.stacks.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use crate::synth::manifest::ManifestMove;
    use crate::synth::output::{render, Format};
    use crate::{App, RawResource};

    fn table() -> RawResource {
        RawResource::new("AWS::DynamoDB::Table")
    }

    #[test]
    fn moves_reach_the_manifest_with_logical_ids() {
        let app = App::new();
        let legacy = app.stack("Legacy");
        legacy.add_raw("Keep", RawResource::new("AWS::SNS::Topic"));
        let data = app.stack("Data");
        let orders = data.child("Orders").add_raw("Table", table());
        let archive = data.add_raw("Archive", RawResource::new("AWS::S3::Bucket"));
        data.moved("Table", &orders)
            .moved("Legacy/OldArchive", &archive);
        let assembly = crate::synth::synth(&app).unwrap();
        let manifest = render(&assembly, Format::Json, &[]).unwrap().manifest;
        let move_ = |from_stack: &str, from: &str, to: &str| ManifestMove {
            from_stack: from_stack.into(),
            from: from.into(),
            to: to.into(),
        };
        assert_eq!(
            manifest.stack("Data").unwrap().moves,
            [
                move_("Data", "Table", "OrdersTable"),
                move_("Legacy", "OldArchive", "Archive")
            ]
        );
        // A stack without moves writes no `moves` field: manifests of apps that record none do not change.
        assert!(manifest.stack("Legacy").unwrap().moves.is_empty());
        assert!(!manifest.to_json().contains("\"moves\": []"));
    }

    #[test]
    fn a_move_that_cannot_be_carried_out_is_a_synth_problem() {
        let app = App::new();
        let legacy = app.stack("Legacy");
        let old = legacy.add_raw("Table", table());
        let data = app.stack("Data");
        let orders = data.add_raw("OrdersTable", table());
        data.moved("Legacy/Table", &orders)
            .moved("Bad-Id", &orders)
            .moved("OrdersTable", &orders)
            .moved("Other", &old);
        let err = crate::synth::synth(&app).err().unwrap().to_string();
        for expected in [
            "Legacy still has a resource with logical ID Table (Legacy/Table)",
            "logical ID \"Bad-Id\" contains '-'",
            "that is its logical ID now, so nothing moves",
            "that resource is in stack Legacy; call `moved` on the stack it is in now",
        ] {
            assert!(err.contains(expected), "{expected:?} not in: {err}");
        }
    }
}
