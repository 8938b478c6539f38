//! The generated API, exercised on the fake schema (codegen/tests/fake-schemas). Hand-written: the generator owns
//! only src/, examples/ and the two tomls of this crate.

use std::collections::BTreeMap;
use std::sync::Arc;

use cfnkit_core::{
    ElementId, Intrinsic, RefTarget, Resource, ResourceEntry, ResourceHandle, StringEnum, TagFormat, ToValue, Val,
    Value,
};
use cfnkit_fake_l1::fake::widget::{Action, Mirror, Origin, Rule, SseSpecification, Target as WidgetTarget, Type};
use cfnkit_fake_l1::fake::{Widget, WidgetHandle, WidgetResourceHandle};
use cfnkit_fake_l1::BuildError;

fn widget() -> Widget {
    Widget::builder()
        .name("orders")
        .labels("team", "checkout")
        .sse_specification(SseSpecification::builder().sse_enabled(true).build().unwrap())
        .build()
        .unwrap()
}

#[test]
fn wire_names_are_byte_exact() {
    let mut w = widget();
    w.kms_master_key_id = Some("alias/orders".into());
    w.vpcs = Some(vec!["vpc-1", "vpc-2"].into());
    w.vpcs_2 = Some("vpc-3".into());
    w.n3_des = Some(false.into());
    w.type_ = Some(Type::AwsKms.into());
    let props = w.properties();
    let keys: Vec<&str> = props.keys().map(String::as_str).collect();
    assert_eq!(keys, ["3DES", "KMSMasterKeyId", "Labels", "Name", "SSESpecification", "Type", "VPCs", "Vpcs"]);
    assert_eq!(props["Type"], Value::from("aws:kms"));
    assert_eq!(props["SSESpecification"], Value::map([("SSEEnabled", true)]));
    assert_eq!(Widget::TYPE_NAME, "AWS::Fake::Widget");
    assert_eq!(Widget::TAGS, Some(TagFormat::LIST));
}

#[test]
fn build_names_the_missing_required_property() {
    let err: BuildError = Widget::builder().name("x").build().unwrap_err();
    assert_eq!((err.type_name, err.property, err.setter), ("AWS::Fake::Widget", "Labels", "labels"));
    assert_eq!(
        err.to_string(),
        "AWS::Fake::Widget requires Labels: set it with the builder's `labels(...)` before `build()`"
    );
    let err = SseSpecification::builder().build().unwrap_err();
    assert_eq!(err.type_name, "AWS::Fake::Widget.SSESpecification");
}

#[test]
fn list_setters_append_and_set_replaces() {
    let rule = |a: Action| Rule::builder().action(a).build().unwrap();
    let w = Widget::builder().rules(rule(Action::Allow)).rules(rule(Action::Deny)).build_unchecked();
    assert_eq!(
        w.rules.as_ref().unwrap().raw(),
        &Value::list([Value::map([("Action", "ALLOW")]), Value::map([("Action", "DENY")])])
    );
    let split: Val<Vec<String>> = Val::from_raw(Value::func(Intrinsic::Split(",".into(), "a,b".into())));
    let w = Widget::builder().set_vpcs(split.clone()).build_unchecked();
    assert_eq!(w.vpcs, Some(split));
}

#[test]
fn enums_are_open_and_accept_intrinsics() {
    assert_eq!(Type::from("FIFO"), Type::Fifo);
    // A value named like the catch-all variant gets a suffix.
    assert_eq!(Type::from("UNKNOWN"), Type::UnknownValue);
    assert_eq!(Type::from("LIFO"), Type::Unknown("LIFO".into()));
    assert_eq!(Type::Unknown("LIFO".into()).as_str(), "LIFO");
    let param: Val<String> = Val::from_raw(Value::func(Intrinsic::Ref(RefTarget::Logical("QueueType".into()))));
    let w = Widget::builder().type_(Type::from_val(param.clone())).build_unchecked();
    assert_eq!(w.type_.unwrap().raw(), param.raw());
}

#[test]
fn string_enums_implement_the_core_trait() {
    // Any `Val<String>` converts into any generated enum through `StringEnum`.
    let param: Val<String> = Val::from_raw(Value::func(Intrinsic::Ref(RefTarget::Logical("QueueType".into()))));
    let w = Widget::builder().type_(param.clone()).build_unchecked();
    assert_eq!(w.type_.unwrap().raw(), param.raw());
    fn values<E: StringEnum>() -> &'static [&'static str] {
        E::VALUES
    }
    assert_eq!(values::<Type>(), ["STANDARD", "FIFO", "UNKNOWN", "aws:kms"]);
    assert_eq!(values::<Action>(), ["ALLOW", "DENY"]);
    assert_eq!(StringEnum::as_str(&Type::AwsKms), "aws:kms");
    assert_eq!(StringEnum::as_str(&Action::from("LOG")), "LOG");
}

#[test]
fn nested_read_only_properties_are_settable_only_where_another_path_allows_it() {
    // `/properties/Origin/OriginId` is read-only and `Origin` is reached by no other path: not a field.
    let o = Origin::builder().url("https://example.com").build();
    assert_eq!(o.to_value(), Value::map([("Url", "https://example.com")]));
    // `Mirror` is reached by `Mirror` (where `MirrorId` is read-only) and `Replica` (where it is not): kept.
    let m = Mirror::builder().mirror_id("m-1").build();
    assert_eq!(m.mirror_id, Some("m-1".into()));
    // `Rule` is recursive (`Children`): the read-only paths cannot name every depth, so `RuleId` is kept.
    let r = Rule::builder().action(Action::Allow).rule_id("r-1").build().unwrap();
    assert_eq!(r.rule_id, Some("r-1".into()));
}

#[test]
fn one_of_alternatives_merge_into_one_struct() {
    let t = WidgetTarget::builder().arn("arn:aws:sqs:us-east-1:1:q").build();
    assert_eq!(t.name, None);
}

#[test]
fn handles_have_typed_attributes_and_the_resource() {
    let id = ElementId { stack: Arc::from("S"), path: Arc::from("S/Widget") };
    let h = WidgetResourceHandle::from(ResourceHandle::new(id.clone(), ResourceEntry::new(Box::new(widget()))));
    let port: Val<i64> = h.attr_endpoint_port();
    assert_eq!(port.raw(), &Value::func(Intrinsic::GetAtt(RefTarget::Element(id.clone()), "Endpoint.Port".into())));
    let _: Val<String> = h.attr_endpoint_address();
    assert_eq!(h.ref_().raw(), &Value::func(Intrinsic::Ref(RefTarget::Element(id))));
    h.resource_mut().count = Some(3.into());
    assert_eq!(h.resource().count, Some(3.into()));
    // `WidgetHandle` is a resource type of its own; its builder wants `WidgetName`.
    assert_eq!(WidgetHandle::builder().build().unwrap_err().property, "WidgetName");
}

#[test]
fn minimal_instances_fill_required_properties() {
    let props = Widget::minimal().properties();
    assert_eq!(props.keys().collect::<Vec<_>>(), ["Labels", "Name", "SSESpecification"]);
    assert_eq!(props["Labels"], Value::Map(BTreeMap::from([("a".to_owned(), Value::from("placeholder"))])));
}

trait BuildUnchecked {
    fn build_unchecked(self) -> Widget;
}
impl BuildUnchecked for cfnkit_fake_l1::fake::WidgetBuilder {
    fn build_unchecked(self) -> Widget {
        let mut w = self.name("x").labels("a", "b").sse_specification(SseSpecification::minimal());
        w = w.count(1);
        w.build().unwrap()
    }
}
