//! Typed intrinsic functions and pseudo parameters.
//!
//! Each function returns a [`Val`] of the type CloudFormation evaluates it to, so an intrinsic can only be placed
//! where a value of that type is expected: `fns::get_azs(..)` fits a list property, `fns::join(..)` a string one.
//! References to resources come from their handles (`queue.attr_arn()`, `table.ref_()`), not from this module.

use std::collections::BTreeMap;

use cfnkit_core::{ConditionHandle, Intrinsic, Json, Pseudo, RefTarget, Val, Value};

/// A condition expression: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not` or a named condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Cond(pub(crate) Value);

impl Cond {
    /// The untyped expression.
    pub fn raw(&self) -> &Value {
        &self.0
    }
}

fn func<T>(i: Intrinsic) -> Val<T> {
    Val::from_raw(Value::func(i))
}

/// `Fn::Sub` with a template string only: `${AWS::Region}` and `${LogicalId.Attr}` are resolved by CloudFormation.
/// Synth checks that every `${Name}` exists in the stack.
pub fn sub(template: impl Into<String>) -> Val<String> {
    func(Intrinsic::Sub {
        template: template.into(),
        vars: BTreeMap::new(),
    })
}

/// `Fn::Sub` with a variable map; the usual way to put a typed reference into a string:
/// `fns::sub_with("arn:${AWS::Partition}:s3:::${Bucket}/*", [("Bucket", bucket.ref_())])`.
pub fn sub_with<K: Into<String>>(
    template: impl Into<String>,
    vars: impl IntoIterator<Item = (K, Val<String>)>,
) -> Val<String> {
    func(Intrinsic::Sub {
        template: template.into(),
        vars: vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into_raw()))
            .collect(),
    })
}

/// `Fn::Join`.
pub fn join(delimiter: impl Into<String>, items: impl Into<Val<Vec<String>>>) -> Val<String> {
    func(Intrinsic::Join(delimiter.into(), items.into().into_raw()))
}

/// `Fn::Select`.
pub fn select<T>(index: impl Into<Val<i64>>, list: impl Into<Val<Vec<T>>>) -> Val<T> {
    func(Intrinsic::Select(
        index.into().into_raw(),
        list.into().into_raw(),
    ))
}

/// `Fn::Split`.
pub fn split(delimiter: impl Into<String>, source: impl Into<Val<String>>) -> Val<Vec<String>> {
    func(Intrinsic::Split(delimiter.into(), source.into().into_raw()))
}

/// `Fn::If`: `when_true` if the named condition holds, else `when_false` (which may be [`no_value`]).
pub fn if_<T>(
    condition: &ConditionHandle,
    when_true: impl Into<Val<T>>,
    when_false: impl Into<Val<T>>,
) -> Val<T> {
    func(Intrinsic::If(
        condition.name().to_owned(),
        when_true.into().into_raw(),
        when_false.into().into_raw(),
    ))
}

/// `Fn::Equals`. Takes any two values (a literal, a parameter's `Ref`, any intrinsic): the comparison is
/// untyped in CloudFormation, and taking `impl Into<Value>` keeps `equals(param.ref_(), "prod")` free of
/// type annotations even though a `Val<String>` also converts into every generated string enum.
pub fn equals(a: impl Into<Value>, b: impl Into<Value>) -> Cond {
    Cond(Value::func(Intrinsic::Equals(a.into(), b.into())))
}

/// `Fn::And` (2 to 10 conditions).
pub fn and(conds: impl IntoIterator<Item = Cond>) -> Cond {
    Cond(Value::func(Intrinsic::And(
        conds.into_iter().map(|c| c.0).collect(),
    )))
}

/// `Fn::Or` (2 to 10 conditions).
pub fn or(conds: impl IntoIterator<Item = Cond>) -> Cond {
    Cond(Value::func(Intrinsic::Or(
        conds.into_iter().map(|c| c.0).collect(),
    )))
}

/// `Fn::Not`.
pub fn not(cond: Cond) -> Cond {
    Cond(Value::func(Intrinsic::Not(cond.0)))
}

/// `{"Condition": name}`: another named condition, inside a condition expression.
pub fn condition(c: &ConditionHandle) -> Cond {
    Cond(Value::func(Intrinsic::Condition(c.name().to_owned())))
}

/// `Fn::ImportValue` of an export written by hand. Cross-stack references between cfnkit stacks do not need
/// this: use the producer's handle and synth adds the export and import.
pub fn import_value(export_name: impl Into<Val<String>>) -> Val<String> {
    func(Intrinsic::ImportValue(export_name.into().into_raw()))
}

/// Where [`get_stack_output`] reads another stack's output: by default the consuming stack's own account and
/// region, with its own permissions.
#[derive(Clone, Debug, Default)]
pub struct StackOutputSource {
    /// The producer's region, when it is not the consumer's (`Region`).
    pub region: Option<Val<String>>,
    /// A role in the producer's account that may `cloudformation:DescribeStacks` it and that the consumer's
    /// deployment may assume (`RoleArn`), when the accounts differ. `cargo cfn bootstrap --trust` makes one:
    /// [`crate::environments::BootstrapRole::Lookup`]'s `arn`.
    pub role_arn: Option<Val<String>>,
}

/// `Fn::GetStackOutput`: the output `output_name` of the stack `stack_name`, read when the consuming stack is
/// created or updated. It is a weak reference: unlike an export, nothing stops the producer from changing or
/// deleting the output. Cross-stack references between cfnkit stacks in different environments use it without
/// this call (see `docs/app-and-stacks.md`). It cannot cross partitions.
pub fn get_stack_output(
    stack_name: impl Into<Val<String>>,
    output_name: impl Into<Val<String>>,
    from: StackOutputSource,
) -> Val<String> {
    func(Intrinsic::GetStackOutput {
        stack_name: stack_name.into().into_raw(),
        output_name: output_name.into().into_raw(),
        region: from.region.map(Val::into_raw),
        role_arn: from.role_arn.map(Val::into_raw),
    })
}

/// `Fn::FindInMap` (mapping handles offer a typed shorthand).
pub fn find_in_map<T>(
    map: impl Into<Val<String>>,
    top: impl Into<Val<String>>,
    second: impl Into<Val<String>>,
) -> Val<T> {
    func(Intrinsic::FindInMap(
        map.into().into_raw(),
        top.into().into_raw(),
        second.into().into_raw(),
        None,
    ))
}

/// `Fn::FindInMap` with a `DefaultValue` (adds the `AWS::LanguageExtensions` transform).
pub fn find_in_map_or<T>(
    map: impl Into<Val<String>>,
    top: impl Into<Val<String>>,
    second: impl Into<Val<String>>,
    default: impl Into<Val<T>>,
) -> Val<T> {
    func(Intrinsic::FindInMap(
        map.into().into_raw(),
        top.into().into_raw(),
        second.into().into_raw(),
        Some(default.into().into_raw()),
    ))
}

/// `Fn::Base64`.
pub fn base64(v: impl Into<Val<String>>) -> Val<String> {
    func(Intrinsic::Base64(v.into().into_raw()))
}

/// `Fn::GetAZs`; an empty region means the stack's region.
pub fn get_azs(region: impl Into<Val<String>>) -> Val<Vec<String>> {
    func(Intrinsic::GetAzs(region.into().into_raw()))
}

/// `Fn::Cidr`.
pub fn cidr(
    ip_block: impl Into<Val<String>>,
    count: impl Into<Val<i64>>,
    cidr_bits: impl Into<Val<i64>>,
) -> Val<Vec<String>> {
    func(Intrinsic::Cidr(
        ip_block.into().into_raw(),
        count.into().into_raw(),
        cidr_bits.into().into_raw(),
    ))
}

/// `Fn::Length` (adds the `AWS::LanguageExtensions` transform).
pub fn length<T>(list: impl Into<Val<Vec<T>>>) -> Val<i64> {
    func(Intrinsic::Length(list.into().into_raw()))
}

/// `Fn::ToJsonString` (adds the `AWS::LanguageExtensions` transform).
pub fn to_json_string(v: impl Into<Val<Json>>) -> Val<String> {
    func(Intrinsic::ToJsonString(v.into().into_raw()))
}

/// `Ref` to a logical ID written by hand: the untyped escape hatch. Synth checks that the ID exists.
pub fn ref_logical(logical_id: impl Into<String>) -> Val<String> {
    func(Intrinsic::Ref(RefTarget::Logical(logical_id.into())))
}

/// `Fn::GetAtt` on a logical ID written by hand: the untyped escape hatch.
pub fn get_att_logical<T>(logical_id: impl Into<String>, attribute: impl Into<String>) -> Val<T> {
    func(Intrinsic::GetAtt(
        RefTarget::Logical(logical_id.into()),
        attribute.into(),
    ))
}

fn pseudo<T>(p: Pseudo) -> Val<T> {
    func(Intrinsic::Ref(RefTarget::Pseudo(p)))
}

/// `AWS::AccountId`.
pub fn account_id() -> Val<String> {
    pseudo(Pseudo::AccountId)
}
/// `AWS::Region`.
pub fn region() -> Val<String> {
    pseudo(Pseudo::Region)
}
/// `AWS::Partition`.
pub fn partition() -> Val<String> {
    pseudo(Pseudo::Partition)
}
/// `AWS::URLSuffix`.
pub fn url_suffix() -> Val<String> {
    pseudo(Pseudo::UrlSuffix)
}
/// `AWS::StackName`.
pub fn stack_name() -> Val<String> {
    pseudo(Pseudo::StackName)
}
/// `AWS::StackId`.
pub fn stack_id() -> Val<String> {
    pseudo(Pseudo::StackId)
}
/// `AWS::NotificationARNs`.
pub fn notification_arns() -> Val<Vec<String>> {
    pseudo(Pseudo::NotificationArns)
}
/// `AWS::NoValue`: removes the property, typically as one branch of [`if_`]. Fits any property type.
pub fn no_value<T>() -> Val<T> {
    pseudo(Pseudo::NoValue)
}
