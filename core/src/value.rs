//! Property values: literals and intrinsic functions, untyped ([`Value`]) and typed ([`Val`]).
//!
//! Every property of every resource is a [`Val<T>`]: either a literal of type `T` or an intrinsic function whose
//! result has type `T`. `Val<T>` is a thin typed view over the untyped [`Value`] tree that synth walks to resolve
//! references (including references to other stacks, which become `Fn::ImportValue`).
//!
//! References name their target by construct path rather than logical ID, so that a logical ID override applied
//! after a reference was taken still resolves correctly.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// A resource or parameter of a stack, named by its construct path (`Order/OrdersTable`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElementId {
    /// The stack that owns the element.
    pub stack: Arc<str>,
    /// The element's full construct path, starting with the stack's name.
    pub path: Arc<str>,
}

impl fmt::Display for ElementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)
    }
}

/// CloudFormation's pseudo parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pseudo {
    /// `AWS::AccountId`: the account the stack is deployed in.
    AccountId,
    /// `AWS::Region`: the region the stack is deployed in.
    Region,
    /// `AWS::Partition`: `aws`, `aws-cn` or `aws-us-gov`, for building ARNs.
    Partition,
    /// `AWS::URLSuffix`: the domain suffix of the partition (`amazonaws.com`).
    UrlSuffix,
    /// `AWS::StackName`: the name of the stack being deployed.
    StackName,
    /// `AWS::StackId`: the ARN of the stack being deployed.
    StackId,
    /// `AWS::NoValue`: removes the property it is the value of (with `Fn::If`).
    NoValue,
    /// `AWS::NotificationARNs`: the SNS topics the stack notifies of its events.
    NotificationArns,
}

impl Pseudo {
    /// The name CloudFormation uses (`AWS::AccountId`).
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::NoValue => "AWS::NoValue",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
        }
    }

    /// Every pseudo parameter, for validation of `${AWS::...}` in `Fn::Sub` strings.
    pub const ALL: [Pseudo; 8] = [
        Pseudo::AccountId,
        Pseudo::Region,
        Pseudo::Partition,
        Pseudo::UrlSuffix,
        Pseudo::StackName,
        Pseudo::StackId,
        Pseudo::NoValue,
        Pseudo::NotificationArns,
    ];
}

/// What a `Ref` or `Fn::GetAtt` points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    /// A resource or parameter created through cfnkit; resolved to its logical ID at synth, or to an
    /// `Fn::ImportValue` when it lives in another stack.
    Element(ElementId),
    /// A logical ID written by hand (the escape hatch). Synth checks that it exists in the stack.
    Logical(String),
    /// A pseudo parameter (only valid for `Ref`).
    Pseudo(Pseudo),
}

/// An intrinsic function, with untyped arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Intrinsic {
    /// `Ref`: a resource's primary identifier, a parameter's value or a pseudo parameter.
    Ref(RefTarget),
    /// `Fn::GetAtt`: the named attribute of a resource.
    GetAtt(RefTarget, String),
    /// `Fn::Sub`; the variable-map form is used when `vars` is not empty.
    Sub {
        /// The string with `${Name}` placeholders.
        template: String,
        /// Values for the placeholders that are not parameters, resources or pseudo parameters.
        vars: BTreeMap<String, Value>,
    },
    /// `Fn::Join`: the elements of a list joined with a delimiter.
    Join(String, Value),
    /// `Fn::Select`: the element at an index of a list.
    Select(Value, Value),
    /// `Fn::Split`: a string cut at a delimiter into a list.
    Split(String, Value),
    /// `Fn::If` names a condition of the stack.
    If(String, Value, Value),
    /// `Fn::And`: true when every condition is (2 to 10 of them).
    And(Vec<Value>),
    /// `Fn::Or`: true when any condition is (2 to 10 of them).
    Or(Vec<Value>),
    /// `Fn::Not`: the negation of a condition.
    Not(Value),
    /// `Fn::Equals`: whether two values are equal.
    Equals(Value, Value),
    /// `{"Condition": name}` inside a condition expression.
    Condition(String),
    /// `Fn::ImportValue`: an export of another stack of the same account and region (synth writes these for
    /// cross-stack references).
    ImportValue(Value),
    /// `Fn::GetStackOutput`: an output of another stack, possibly in another account or region (a weak
    /// reference: the producer may change or delete it). `Region` and `RoleArn` are written only when set.
    GetStackOutput {
        /// The name of the producing stack.
        stack_name: Value,
        /// The logical ID of the producing stack's output.
        output_name: Value,
        /// The producing stack's region; the consuming stack's region when `None`.
        region: Option<Value>,
        /// A role CloudFormation assumes to read the output (another account); its own credentials when `None`.
        role_arn: Option<Value>,
    },
    /// `Fn::FindInMap`; the optional fourth argument is the `DefaultValue` of the language extensions.
    FindInMap(Value, Value, Value, Option<Value>),
    /// `Fn::Base64`: a string encoded in base64 (EC2 user data).
    Base64(Value),
    /// `Fn::GetAZs`: the Availability Zones of a region (the stack's region for an empty string).
    GetAzs(Value),
    /// `Fn::Cidr`: a list of CIDR blocks cut from an address block (block, count, host bits).
    Cidr(Value, Value, Value),
    /// Needs the `AWS::LanguageExtensions` transform, which synth adds when used.
    Length(Value),
    /// Needs the `AWS::LanguageExtensions` transform, which synth adds when used.
    ToJsonString(Value),
}

/// An untyped CloudFormation value: JSON plus intrinsic functions. Maps are ordered, so output is deterministic.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// JSON `null`.
    #[default]
    Null,
    /// A JSON boolean.
    Bool(bool),
    /// A JSON number, kept as written (an integer stays an integer).
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// A list, in order.
    List(Vec<Value>),
    /// An object, with its keys sorted.
    Map(BTreeMap<String, Value>),
    /// An intrinsic function, resolved at synth (references become logical IDs or imports).
    Fn(Box<Intrinsic>),
}

impl Value {
    /// A map value from key/value pairs.
    pub fn map<K: Into<String>, V: Into<Value>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A list value.
    pub fn list<V: Into<Value>>(items: impl IntoIterator<Item = V>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// Wraps an intrinsic.
    pub fn func(i: Intrinsic) -> Value {
        Value::Fn(Box::new(i))
    }

    /// Calls `f` on every intrinsic in this value, depth first.
    pub fn visit_intrinsics<'a>(&'a self, f: &mut impl FnMut(&'a Intrinsic)) {
        match self {
            Value::List(items) => items.iter().for_each(|v| v.visit_intrinsics(f)),
            Value::Map(m) => m.values().for_each(|v| v.visit_intrinsics(f)),
            Value::Fn(i) => {
                f(i);
                i.args().into_iter().for_each(|v| v.visit_intrinsics(f));
            }
            _ => {}
        }
    }

    /// The element this value is a plain `Ref`/`Fn::GetAtt` of, if it is one.
    pub fn as_reference(&self) -> Option<(&RefTarget, Option<&str>)> {
        match self {
            Value::Fn(i) => match &**i {
                Intrinsic::Ref(t) => Some((t, None)),
                Intrinsic::GetAtt(t, a) => Some((t, Some(a.as_str()))),
                _ => None,
            },
            _ => None,
        }
    }
}

impl Intrinsic {
    /// The intrinsic's value arguments (not its names or literal strings).
    pub fn args(&self) -> Vec<&Value> {
        use Intrinsic::*;
        match self {
            Ref(_) | GetAtt(..) | Condition(_) => vec![],
            Sub { vars, .. } => vars.values().collect(),
            Join(_, v)
            | Split(_, v)
            | Not(v)
            | ImportValue(v)
            | Base64(v)
            | GetAzs(v)
            | Length(v)
            | ToJsonString(v) => vec![v],
            Select(a, b) | Equals(a, b) | If(_, a, b) => vec![a, b],
            And(vs) | Or(vs) => vs.iter().collect(),
            FindInMap(a, b, c, d) => {
                let mut v = vec![a, b, c];
                v.extend(d.iter());
                v
            }
            Cidr(a, b, c) => vec![a, b, c],
            GetStackOutput {
                stack_name,
                output_name,
                region,
                role_arn,
            } => {
                let mut v = vec![stack_name, output_name];
                v.extend(region.iter().chain(role_arn.iter()));
                v
            }
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => Value::Number(n),
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Map(o.into_iter().map(|(k, v)| (k, v.into())).collect())
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self { Value::Number(n.into()) }
        }
    )*};
}
int_value!(i32, i64, u16, u32, u64, usize);
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}
impl<T> From<Val<T>> for Value {
    fn from(v: Val<T>) -> Self {
        v.raw
    }
}
impl<V: Into<Value>> From<Vec<V>> for Value {
    fn from(v: Vec<V>) -> Self {
        Value::list(v)
    }
}

/// Converts a typed literal (a generated property struct, a string, a number) into an untyped [`Value`].
pub trait ToValue {
    /// The value as synth renders it: property structs become maps keyed by their CloudFormation names.
    fn to_value(&self) -> Value;
}

/// Marker for types that may appear as a literal in a [`Val`]. Generated property types implement it.
pub trait Literal: ToValue {}

/// A generated string enum: the values CloudFormation allows for a string property, open (a value unknown when
/// the type was generated converts too, so a newer CloudFormation value needs no new release).
///
/// For every `E: StringEnum`, a `Val<String>` (a parameter's `Ref`, an `Fn::Sub`, an `Fn::ImportValue`...)
/// converts into a `Val<E>` with `.into()`: CloudFormation checks the value when it resolves it. A literal
/// converts through the enum itself (`E::from("value")`, or a variant).
pub trait StringEnum: Literal + for<'a> From<&'a str> {
    /// The values known when the type was generated, as CloudFormation spells them.
    const VALUES: &'static [&'static str];
    /// The value as CloudFormation spells it.
    fn as_str(&self) -> &str;
}

impl<E: StringEnum> From<Val<String>> for Val<E> {
    fn from(v: Val<String>) -> Self {
        Val::from_raw(v.raw)
    }
}

/// The type of a JSON-typed property (a policy document, a pattern): any value, intrinsics included.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Json(pub Value);

impl ToValue for Json {
    fn to_value(&self) -> Value {
        self.0.clone()
    }
}
impl Literal for Json {}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}
impl Literal for String {}
impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::from(*self)
    }
}
impl Literal for i64 {}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::from(*self)
    }
}
impl Literal for f64 {}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl Literal for bool {}

/// A property value of type `T`: a literal, or an intrinsic function returning `T`.
///
/// `T` is `String`, `i64`, `f64`, `bool`, [`Json`], `Vec<T>`, `BTreeMap<String, T>` or a generated property type.
pub struct Val<T> {
    raw: Value,
    _type: PhantomData<fn() -> T>,
}

impl<T> Val<T> {
    /// Wraps an untyped value. The caller vouches that it evaluates to a `T`; this is the escape hatch.
    pub fn from_raw(raw: Value) -> Self {
        Val {
            raw,
            _type: PhantomData,
        }
    }
    /// The untyped value.
    pub fn raw(&self) -> &Value {
        &self.raw
    }
    /// The untyped value, by value.
    pub fn into_raw(self) -> Value {
        self.raw
    }
    /// Forgets the type: any value may be placed where JSON is expected.
    pub fn into_json(self) -> Val<Json> {
        Val::from_raw(self.raw)
    }
    /// The untyped value, mutably.
    pub fn raw_mut(&mut self) -> &mut Value {
        &mut self.raw
    }
}

impl<T> Val<Vec<T>> {
    /// Appends an item; an intrinsic list (from `Fn::Split`, say) is replaced by a literal list.
    pub fn push(&mut self, item: impl Into<Val<T>>) {
        match self.raw_mut() {
            Value::List(items) => items.push(item.into().raw),
            other => *other = Value::List(vec![item.into().raw]),
        }
    }
}

impl<T> Val<BTreeMap<String, T>> {
    /// Inserts an entry; an intrinsic map is replaced by a literal map.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Val<T>>) {
        match self.raw_mut() {
            Value::Map(m) => {
                m.insert(key.into(), value.into().raw);
            }
            other => *other = Value::Map(BTreeMap::from([(key.into(), value.into().raw)])),
        }
    }
}

impl<T> Clone for Val<T> {
    fn clone(&self) -> Self {
        Val::from_raw(self.raw.clone())
    }
}
impl<T> fmt::Debug for Val<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.raw.fmt(f)
    }
}
impl<T> PartialEq for Val<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl<T> Default for Val<Vec<T>> {
    fn default() -> Self {
        Val::from_raw(Value::List(vec![]))
    }
}
impl<T> Default for Val<BTreeMap<String, T>> {
    fn default() -> Self {
        Val::from_raw(Value::Map(BTreeMap::new()))
    }
}

impl<T: Literal> From<T> for Val<T> {
    fn from(v: T) -> Self {
        Val::from_raw(v.to_value())
    }
}
impl From<&str> for Val<String> {
    fn from(s: &str) -> Self {
        Val::from_raw(Value::String(s.to_owned()))
    }
}
impl From<&String> for Val<String> {
    fn from(s: &String) -> Self {
        Val::from_raw(Value::String(s.clone()))
    }
}
macro_rules! int_val {
    ($($t:ty),*) => {$(
        impl From<$t> for Val<i64> {
            fn from(n: $t) -> Self { Val::from_raw(Value::from(n)) }
        }
        impl From<$t> for Val<f64> {
            fn from(n: $t) -> Self { Val::from_raw(Value::from(n)) }
        }
    )*};
}
int_val!(i32, u16, u32, u64, usize);
impl From<i64> for Val<f64> {
    fn from(n: i64) -> Self {
        Val::from_raw(Value::from(n))
    }
}
impl From<serde_json::Value> for Val<Json> {
    fn from(v: serde_json::Value) -> Self {
        Val::from_raw(v.into())
    }
}
impl From<Value> for Val<Json> {
    fn from(v: Value) -> Self {
        Val::from_raw(v)
    }
}
impl<T, I: Into<Val<T>>> From<Vec<I>> for Val<Vec<T>> {
    fn from(items: Vec<I>) -> Self {
        Val::from_raw(Value::List(
            items.into_iter().map(|i| i.into().raw).collect(),
        ))
    }
}
impl<T, I: Into<Val<T>>, const N: usize> From<[I; N]> for Val<Vec<T>> {
    fn from(items: [I; N]) -> Self {
        Val::from_raw(Value::List(
            items.into_iter().map(|i| i.into().raw).collect(),
        ))
    }
}
impl<T, K: Into<String>, I: Into<Val<T>>> From<BTreeMap<K, I>> for Val<BTreeMap<String, T>> {
    fn from(m: BTreeMap<K, I>) -> Self {
        Val::from_raw(Value::Map(
            m.into_iter()
                .map(|(k, v)| (k.into(), v.into().raw))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_convert_to_the_expected_type() {
        let s: Val<String> = "x".into();
        assert_eq!(s.raw(), &Value::String("x".into()));
        let n: Val<i64> = 30u32.into();
        assert_eq!(n.raw(), &Value::Number(30.into()));
        let l: Val<Vec<String>> = vec!["a", "b"].into();
        assert_eq!(l.raw(), &Value::list(["a", "b"]));
    }

    /// A string enum as the generator writes them (open: unknown values kept).
    #[derive(Debug, PartialEq)]
    enum Mode {
        Fast,
        Unknown(String),
    }
    impl From<&str> for Mode {
        fn from(s: &str) -> Self {
            match s {
                "FAST" => Mode::Fast,
                other => Mode::Unknown(other.to_owned()),
            }
        }
    }
    impl ToValue for Mode {
        fn to_value(&self) -> Value {
            Value::String(self.as_str().to_owned())
        }
    }
    impl Literal for Mode {}
    impl StringEnum for Mode {
        const VALUES: &'static [&'static str] = &["FAST"];
        fn as_str(&self) -> &str {
            match self {
                Mode::Fast => "FAST",
                Mode::Unknown(s) => s,
            }
        }
    }

    #[test]
    fn a_string_intrinsic_converts_into_any_string_enum() {
        let param = Val::<String>::from_raw(Value::func(Intrinsic::Ref(RefTarget::Logical(
            "ModeParam".into(),
        ))));
        let mode: Val<Mode> = param.clone().into();
        assert_eq!(mode.raw(), param.raw());
        let literal: Val<Mode> = Mode::from("SLOW").into();
        assert_eq!(literal.raw(), &Value::String("SLOW".into()));
        assert_eq!(Mode::from("FAST"), Mode::Fast);
        assert_eq!(Mode::VALUES, ["FAST"]);
    }

    #[test]
    fn push_onto_an_intrinsic_list_replaces_it() {
        let mut l: Val<Vec<String>> =
            Val::from_raw(Value::func(Intrinsic::Split(",".into(), "a,b".into())));
        l.push("c");
        assert_eq!(l.raw(), &Value::list(["c"]));
    }
}
