//! Resources: the trait generated (L1) types implement, the untyped [`RawResource`] escape hatch, and the handle
//! through which a resource is referenced and its attributes (DependsOn, DeletionPolicy...) are set.

use std::any::Any;
use std::cell::{Ref, RefCell, RefMut};
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::value::{ElementId, Intrinsic, Json, RefTarget, Val, Value};

/// How a resource type carries tags, from the registry schema's `tagging` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagFormat {
    /// The property holding tags (`Tags` for most types).
    pub property: &'static str,
    /// Whether tags are a list of `{Key, Value}` or a map of key to value.
    pub style: TagStyle,
}

/// The shape of a tags property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagStyle {
    /// `[{"Key": k, "Value": v}, ...]`
    List,
    /// `{k: v, ...}`
    Map,
}

impl TagFormat {
    /// `Tags` as a list of `{Key, Value}`: the common case.
    pub const LIST: TagFormat = TagFormat {
        property: "Tags",
        style: TagStyle::List,
    };
    /// `Tags` as a map.
    pub const MAP: TagFormat = TagFormat {
        property: "Tags",
        style: TagStyle::Map,
    };
}

/// A CloudFormation resource type. Implemented by every generated L1 type.
pub trait Resource: 'static {
    /// The CloudFormation type name (`AWS::SQS::Queue`).
    const TYPE_NAME: &'static str;
    /// Where the type carries tags, if it is taggable.
    const TAGS: Option<TagFormat>;
    /// The typed handle returned when the resource is added to a stack. It derefs to the untyped
    /// [`ResourceHandle`], so code generic over resource types (the constructs' shared accessors) reaches the
    /// resource attributes through any typed handle.
    type Handle: From<ResourceHandle> + std::ops::Deref<Target = ResourceHandle>;
    /// The properties, by their CloudFormation names.
    fn properties(&self) -> BTreeMap<String, Value>;
}

/// A resource of any type, as stored in a stack.
pub trait AnyResource: Any {
    /// The CloudFormation type name ([`Resource::TYPE_NAME`], or a raw resource's own).
    fn type_name(&self) -> &str;
    /// Where the type carries tags ([`Resource::TAGS`]); `None` when stack tags do not apply to it.
    fn tag_format(&self) -> Option<TagFormat>;
    /// The properties, by their CloudFormation names, as synth renders them.
    fn properties(&self) -> BTreeMap<String, Value>;
    /// The resource as `Any`, to downcast back to its typed L1 struct (a construct's `resource()`).
    fn as_any(&self) -> &dyn Any;
    /// The resource as mutable `Any`, to downcast back to its typed L1 struct (a construct's `resource_mut()`).
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<R: Resource> AnyResource for R {
    fn type_name(&self) -> &str {
        R::TYPE_NAME
    }
    fn tag_format(&self) -> Option<TagFormat> {
        R::TAGS
    }
    fn properties(&self) -> BTreeMap<String, Value> {
        Resource::properties(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Any resource type with untyped properties: the escape hatch for what the typed layer does not cover.
#[derive(Clone, Debug, PartialEq)]
pub struct RawResource {
    type_name: String,
    properties: BTreeMap<String, Value>,
    tags: Option<TagFormat>,
}

impl RawResource {
    /// A resource of the given CloudFormation type (`AWS::SQS::Queue`, `Custom::Thing`).
    pub fn new(type_name: impl Into<String>) -> Self {
        RawResource {
            type_name: type_name.into(),
            properties: BTreeMap::new(),
            tags: None,
        }
    }
    /// Sets a property. The value may be JSON or contain intrinsics.
    pub fn prop(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }
    /// Declares how this type carries tags, so stack tags reach it. Raw resources are untagged otherwise,
    /// because cfnkit cannot know the shape of an unknown type's tags.
    pub fn taggable(mut self, format: TagFormat) -> Self {
        self.tags = Some(format);
        self
    }
    /// The properties set so far.
    pub fn properties_mut(&mut self) -> &mut BTreeMap<String, Value> {
        &mut self.properties
    }
}

impl AnyResource for RawResource {
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn tag_format(&self) -> Option<TagFormat> {
        self.tags
    }
    fn properties(&self) -> BTreeMap<String, Value> {
        self.properties.clone()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// `DeletionPolicy` and `UpdateReplacePolicy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemovalPolicy {
    /// CloudFormation deletes the resource with the stack or on replacement.
    Delete,
    /// CloudFormation leaves the resource in the account when it removes it from the stack.
    Retain,
    /// CloudFormation takes a final snapshot, then deletes (only types with snapshots: RDS, EBS, ElastiCache...).
    Snapshot,
    /// Like [`RemovalPolicy::Retain`], except when the stack operation that created the resource rolls back: then
    /// CloudFormation deletes it.
    RetainExceptOnCreate,
}

impl RemovalPolicy {
    /// The policy as CloudFormation writes it in `DeletionPolicy` and `UpdateReplacePolicy` (`"Retain"`).
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalPolicy::Delete => "Delete",
            RemovalPolicy::Retain => "Retain",
            RemovalPolicy::Snapshot => "Snapshot",
            RemovalPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
        }
    }
}

/// A resource as stored in its stack: the resource plus its attributes and overrides.
#[doc(hidden)]
pub struct ResourceEntry {
    pub resource: Box<dyn AnyResource>,
    pub logical_id: Option<String>,
    pub depends_on: Vec<ElementId>,
    pub condition: Option<String>,
    pub deletion_policy: Option<RemovalPolicy>,
    pub update_replace_policy: Option<RemovalPolicy>,
    pub update_policy: Option<Value>,
    pub creation_policy: Option<Value>,
    pub metadata: BTreeMap<String, Value>,
    /// Raw overrides on the rendered resource (`Properties.A.B`), applied last; `None` deletes.
    pub overrides: Vec<(String, Option<Value>)>,
}

impl ResourceEntry {
    pub fn new(resource: Box<dyn AnyResource>) -> Self {
        ResourceEntry {
            resource,
            logical_id: None,
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            update_replace_policy: None,
            update_policy: None,
            creation_policy: None,
            metadata: BTreeMap::new(),
            overrides: Vec::new(),
        }
    }
}

/// A reference to a resource in a stack. Typed handles generated for each resource type wrap it and add
/// `attr_*` methods for exactly the attributes that type has.
///
/// Handles are cheap to clone. Setting an attribute through any clone changes the one resource.
#[derive(Clone)]
pub struct ResourceHandle {
    id: ElementId,
    entry: Rc<RefCell<ResourceEntry>>,
}

impl std::fmt::Debug for ResourceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResourceHandle({})", self.id.path)
    }
}

impl ResourceHandle {
    /// Creates the handle of a resource being added to a stack (used by cfnkit's stacks, not by users).
    #[doc(hidden)]
    pub fn new(id: ElementId, entry: ResourceEntry) -> Self {
        ResourceHandle {
            id,
            entry: Rc::new(RefCell::new(entry)),
        }
    }
    /// The stored entry (used by synth).
    #[doc(hidden)]
    pub fn entry(&self) -> Ref<'_, ResourceEntry> {
        self.entry.borrow()
    }
    /// The construct path (`Order/OrdersTable`).
    pub fn path(&self) -> &str {
        &self.id.path
    }
    /// The owning stack and path.
    pub fn element(&self) -> &ElementId {
        &self.id
    }
    /// The CloudFormation type name.
    pub fn type_name(&self) -> String {
        self.entry.borrow().resource.type_name().to_owned()
    }
    /// `Ref` to this resource. What it returns depends on the type (documented on each typed handle).
    pub fn ref_(&self) -> Val<String> {
        Val::from_raw(Value::func(Intrinsic::Ref(RefTarget::Element(
            self.id.clone(),
        ))))
    }
    /// `Fn::GetAtt` by attribute name: the untyped escape hatch. Typed handles offer `attr_*` methods instead.
    pub fn get_att<T>(&self, attribute: &str) -> Val<T> {
        Val::from_raw(Value::func(Intrinsic::GetAtt(
            RefTarget::Element(self.id.clone()),
            attribute.to_owned(),
        )))
    }

    /// Keeps this logical ID whatever the construct path: use it when refactoring would otherwise rename (and so
    /// replace) a stateful resource.
    pub fn override_logical_id(&self, logical_id: impl Into<String>) -> &Self {
        self.entry.borrow_mut().logical_id = Some(logical_id.into());
        self
    }
    /// `DependsOn`. A dependency on a resource of another stack becomes a dependency between the stacks.
    pub fn add_depends_on(&self, other: &ResourceHandle) -> &Self {
        self.entry.borrow_mut().depends_on.push(other.id.clone());
        self
    }
    /// `Condition`: the resource is created only when the condition holds.
    pub fn set_condition(&self, condition: &ConditionHandle) -> &Self {
        self.entry.borrow_mut().condition = Some(condition.name().to_owned());
        self
    }
    /// `DeletionPolicy`.
    pub fn set_deletion_policy(&self, policy: RemovalPolicy) -> &Self {
        self.entry.borrow_mut().deletion_policy = Some(policy);
        self
    }
    /// `UpdateReplacePolicy`.
    pub fn set_update_replace_policy(&self, policy: RemovalPolicy) -> &Self {
        self.entry.borrow_mut().update_replace_policy = Some(policy);
        self
    }
    /// Both `DeletionPolicy` and `UpdateReplacePolicy`, which is what is wanted for stateful data.
    pub fn apply_removal_policy(&self, policy: RemovalPolicy) -> &Self {
        self.set_deletion_policy(policy)
            .set_update_replace_policy(policy)
    }
    /// `UpdatePolicy`, as raw JSON (its shape depends on the resource type).
    pub fn set_update_policy(&self, policy: impl Into<Value>) -> &Self {
        self.entry.borrow_mut().update_policy = Some(policy.into());
        self
    }
    /// `CreationPolicy`, as raw JSON.
    pub fn set_creation_policy(&self, policy: impl Into<Value>) -> &Self {
        self.entry.borrow_mut().creation_policy = Some(policy.into());
        self
    }
    /// Adds a `Metadata` entry.
    pub fn add_metadata(&self, key: impl Into<String>, value: impl Into<Value>) -> &Self {
        self.entry
            .borrow_mut()
            .metadata
            .insert(key.into(), value.into());
        self
    }
    /// Overrides anything in the rendered resource by dotted path (`Properties.VisibilityTimeout`,
    /// `UpdatePolicy.AutoScalingRollingUpdate`): the escape hatch for what the typed API does not cover.
    pub fn add_override(&self, path: impl Into<String>, value: impl Into<Value>) -> &Self {
        self.entry
            .borrow_mut()
            .overrides
            .push((path.into(), Some(value.into())));
        self
    }
    /// Shorthand for `add_override("Properties.<path>", value)`.
    pub fn add_property_override(&self, path: &str, value: impl Into<Value>) -> &Self {
        self.add_override(format!("Properties.{path}"), value)
    }
    /// Removes anything in the rendered resource by dotted path.
    pub fn add_deletion_override(&self, path: impl Into<String>) -> &Self {
        self.entry.borrow_mut().overrides.push((path.into(), None));
        self
    }

    /// The stored resource, if it is an `R`. Typed handles use this for their `resource()` accessor.
    pub fn downcast<R: AnyResource>(&self) -> Option<Ref<'_, R>> {
        Ref::filter_map(self.entry.borrow(), |e| {
            e.resource.as_any().downcast_ref::<R>()
        })
        .ok()
    }
    /// The stored resource, mutably, if it is an `R`: the escape hatch to change L1 properties after creation.
    pub fn downcast_mut<R: AnyResource>(&self) -> Option<RefMut<'_, R>> {
        RefMut::filter_map(self.entry.borrow_mut(), |e| {
            e.resource.as_any_mut().downcast_mut::<R>()
        })
        .ok()
    }
}

/// A named condition of a stack, for `Fn::If` and a resource's `Condition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionHandle {
    name: String,
}

impl ConditionHandle {
    /// A handle to the condition of this name (stacks create these when a condition is declared).
    pub fn new(name: impl Into<String>) -> Self {
        ConditionHandle { name: name.into() }
    }
    /// The condition's name in the stack's `Conditions` section.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A raw resource's handle: `Ref` and untyped `Fn::GetAtt`.
pub type RawHandle = ResourceHandle;

/// Untyped JSON for properties and attributes of raw resources.
pub type RawJson = Val<Json>;
