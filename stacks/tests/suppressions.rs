//! The platform's rule-pack suppressions of IAM4 and IAM5 are scoped: each lists the items it covers
//! (`appliesTo`), every listed item is one its resource has, and nothing else is suppressed by them.

use cfnkit::rules::{self, CFNKIT_SUPPRESS_STALE, IAM4, IAM5};
use cfnkit::synth::{synth, Node};

fn entries(resource: &Node) -> Vec<&Node> {
    match resource
        .get("Metadata")
        .and_then(|m| m.get("cfnkit"))
        .and_then(|c| c.get("suppress"))
    {
        Some(Node::List(l)) => l.iter().collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_iam4_and_iam5_suppression_is_scoped_to_items_its_resource_has() {
    let assembly = synth(&stacks::app().unwrap()).unwrap();
    let mut scoped = 0;
    for stack in &assembly.stacks {
        let Some(Node::Map(resources)) = stack.template.get("Resources") else {
            continue;
        };
        for (id, resource) in resources {
            for e in entries(resource) {
                let rule = e.get("id").and_then(|i| match i {
                    Node::String(s) => Some(s.as_str()),
                    _ => None,
                });
                if matches!(rule, Some("IAM4" | "IAM5")) {
                    assert!(
                        matches!(e.get("appliesTo"), Some(Node::List(l)) if !l.is_empty()),
                        "{}/{id}: a {rule:?} suppression without appliesTo",
                        stack.name
                    );
                    scoped += 1;
                }
            }
        }
    }
    assert!(scoped > 20, "only {scoped} scoped suppressions found");

    let report = rules::check(&assembly);
    // A listed item the resource lacks is a stale-suppression warning: none may exist.
    let stale: Vec<String> = report
        .of_rule(&CFNKIT_SUPPRESS_STALE)
        .map(ToString::to_string)
        .collect();
    assert!(stale.is_empty(), "{stale:#?}");
    // Every IAM4/IAM5 finding is suppressed in full, by the reasons of the entries that cover its items.
    for f in report.of_rule(&IAM5).chain(report.of_rule(&IAM4)) {
        assert!(f.suppressed.is_some(), "{f}");
        assert!(!f.items.is_empty(), "{f}");
    }
}

/// A wildcard the platform did not mean to grant is not hidden by the functions' X-Ray suppression: adding
/// `s3:*` to a suppressed function role makes synth fail, naming only the new item.
#[test]
fn a_new_wildcard_on_a_suppressed_role_is_an_error() {
    let app = stacks::app().unwrap();
    let mut assembly = synth(&app).unwrap();
    let stack = assembly
        .stacks
        .iter_mut()
        .find(|s| s.name == "Order")
        .unwrap();
    let policies = stack
        .template
        .get_mut("Resources")
        .and_then(|r| r.get_mut("OrderApiServiceRole"))
        .and_then(|r| r.get_mut("Properties"))
        .and_then(|p| p.get_mut("Policies"));
    let Some(Node::List(policies)) = policies else {
        panic!("OrderApiServiceRole has inline policies");
    };
    let Some(Node::List(statements)) = policies[0]
        .get_mut("PolicyDocument")
        .and_then(|d| d.get_mut("Statement"))
    else {
        panic!("the inline policy has a statement list");
    };
    statements.push(Node::Map(vec![
        ("Effect".to_owned(), Node::str("Allow")),
        ("Action".to_owned(), Node::str("s3:*")),
        ("Resource".to_owned(), Node::str("arn:aws:s3:::b")),
    ]));
    let report = rules::check(&assembly);
    let errors: Vec<_> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0].items, ["Action::s3:*"]);
}
