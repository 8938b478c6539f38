//! The replacement and removal guard: a deploy that would replace or remove a stateful resource (a table, a
//! bucket, a key: [`cfnkit::resource_types::STATEFUL`]) is refused unless `--allow-replace STACK/LogicalId`
//! names it, and every deployed stack carries a stack policy denying the same, so a deploy by other means
//! (the console, `aws cloudformation deploy`) is refused by CloudFormation itself.
//!
//! Kept free of the SDK: it reads [`PlannedChange`]s and template diffs, so it is tested on plain values.

use cfnkit::resource_types::{self, Holds, STATEFUL};
use console::style;
use serde_json::{json, Value};

use crate::address::ResourceAddress;
use crate::cfn::PlannedChange;
use crate::diff::{Kind, TemplateDiff};

/// How a change loses a stateful resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// `Replacement: True`: a new, empty resource takes its place.
    Replaced,
    /// `Replacement: Conditional`, and nothing in the change set rules it out.
    MayBeReplaced,
    /// Gone from the template: deleted (or, with `DeletionPolicy: Retain`, left outside the stack).
    Removed,
}

/// A change that would lose a stateful resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hazard {
    pub address: ResourceAddress,
    pub resource_type: String,
    pub loss: Loss,
    /// What forces it: the properties and how they require recreation, or the removal.
    pub because: String,
}

impl Hazard {
    /// `Order/OrdersTable (AWS::DynamoDB::Table, holds data) would be replaced: Properties.TableName (requires
    /// recreation: Always)`.
    pub fn render(&self) -> String {
        let holds = match resource_types::stateful(&self.resource_type).map(|t| t.holds) {
            Some(Holds::Transit) => "holds messages in transit",
            _ => "holds data",
        };
        let what = match self.loss {
            Loss::Replaced => "would be replaced",
            Loss::MayBeReplaced => "may be replaced",
            Loss::Removed => "would be removed",
        };
        format!(
            "{} ({}, {holds}) {what}: {}",
            self.address, self.resource_type, self.because
        )
    }
}

fn is_stateful(resource_type: &str) -> bool {
    resource_types::stateful(resource_type).is_some()
}

/// The stateful resources a change set replaces, may replace, or removes.
pub fn from_change_set(stack: &str, changes: &[PlannedChange]) -> Vec<Hazard> {
    changes
        .iter()
        .filter(|c| is_stateful(&c.resource_type))
        .filter_map(|c| {
            let loss = match (c.action.as_str(), c.replacement.as_deref()) {
                ("Remove", _) => Loss::Removed,
                (_, Some("True")) => Loss::Replaced,
                (_, Some("Conditional")) if !replacement_ruled_out(c, changes) => {
                    Loss::MayBeReplaced
                }
                _ => return None,
            };
            Some(Hazard {
                address: ResourceAddress {
                    stack: stack.into(),
                    logical_id: c.logical_id.clone(),
                },
                resource_type: c.resource_type.clone(),
                loss,
                because: if loss == Loss::Removed {
                    "it is no longer in the template".into()
                } else {
                    causes(c)
                },
            })
        })
        .collect()
}

/// A `Conditional` replacement CloudFormation reports because a property `Ref`s a resource whose update is
/// only known while deploying (`Dynamic`, `ResourceReference`). A `Ref` is the physical ID, which changes only
/// when that resource is replaced; when the change set updates it in place (`Replacement: False`), the property
/// keeps its value and nothing is replaced. Any other cause (a property that conditionally requires recreation,
/// a `Fn::GetAtt`, a parameter) cannot be ruled out from here.
fn replacement_ruled_out(change: &PlannedChange, all: &[PlannedChange]) -> bool {
    let forcing: Vec<_> = change
        .details
        .iter()
        .filter(|d| d.requires_recreation != "Never")
        .collect();
    !forcing.is_empty()
        && forcing.iter().all(|d| {
            d.evaluation == "Dynamic"
                && d.change_source == "ResourceReference"
                && d.causing_entity.as_deref().is_some_and(|cause| {
                    all.iter().any(|other| {
                        other.logical_id == cause
                            && other.action == "Modify"
                            && other.replacement.as_deref() == Some("False")
                    })
                })
        })
}

/// The properties that force the replacement, as CloudFormation named them.
fn causes(c: &PlannedChange) -> String {
    let named: Vec<String> = c
        .details
        .iter()
        .filter(|d| d.requires_recreation != "Never")
        .map(|d| {
            let what = match &d.name {
                Some(name) => format!("{}.{name}", d.attribute),
                None => d.attribute.clone(),
            };
            let through = match (d.change_source.as_str(), &d.causing_entity) {
                ("ResourceReference", Some(e)) => format!(", through Ref {e}"),
                ("ResourceAttribute", Some(e)) => format!(", through Fn::GetAtt {e}"),
                ("ParameterReference", Some(e)) => format!(", through parameter {e}"),
                _ => String::new(),
            };
            format!(
                "{what}{through} (requires recreation: {})",
                d.requires_recreation
            )
        })
        .collect();
    if named.is_empty() {
        "CloudFormation named no property".into()
    } else {
        named.join(", ")
    }
}

/// What a template diff alone shows: stateful resources removed from the template. Replacements need a change
/// set. Call it on a diff whose moves are applied ([`TemplateDiff::apply_moves`]): a moved resource is kept.
pub fn from_template_diff(stack: &str, diff: &TemplateDiff) -> Vec<Hazard> {
    diff.entries
        .iter()
        .filter(|e| e.section == "Resources" && e.kind == Kind::Removed)
        .filter_map(|e| {
            let ty = e.resource_type.as_deref().filter(|t| is_stateful(t))?;
            Some(Hazard {
                address: ResourceAddress {
                    stack: stack.into(),
                    logical_id: e.id.clone(),
                },
                resource_type: ty.into(),
                loss: Loss::Removed,
                because: "it is no longer in the template".into(),
            })
        })
        .collect()
}

/// The hazards `--allow-replace` does not name.
pub fn refused<'h>(hazards: &'h [Hazard], allowed: &[ResourceAddress]) -> Vec<&'h Hazard> {
    hazards
        .iter()
        .filter(|h| !allowed.contains(&h.address))
        .collect()
}

/// The lines `diff` and a refused deploy show.
pub fn render(hazards: &[&Hazard], allowed: &[ResourceAddress]) -> String {
    let mut s = String::new();
    for h in hazards {
        let line = if allowed.contains(&h.address) {
            format!("  (allowed by --allow-replace) {}", h.render())
        } else {
            format!("  {} {}", style("(!)").red().bold(), h.render())
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// The stack policy every deployed stack carries: updates may do anything but replace or delete a resource of a
/// stateful type. `except`: logical IDs this one update may replace or remove (`--allow-replace`), set for the
/// update only and put back after it.
///
/// One statement matches by `ResourceType` rather than listing logical IDs, so a stateful resource added later
/// by any means is covered, and the policy stays far below CloudFormation's 16 KB.
pub fn stack_policy(except: &[&str]) -> Value {
    let types: Vec<&str> = STATEFUL.iter().map(|t| t.type_name).collect();
    let mut deny = json!({
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["Update:Replace", "Update:Delete"],
        "Condition": {"StringEquals": {"ResourceType": types}},
    });
    if except.is_empty() {
        deny["Resource"] = json!("*");
    } else {
        deny["NotResource"] = except
            .iter()
            .map(|id| format!("LogicalResourceId/{id}"))
            .collect();
    }
    json!({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
        deny,
    ]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::ChangeDetail;

    fn change(
        action: &str,
        id: &str,
        ty: &str,
        replacement: Option<&str>,
        details: Vec<ChangeDetail>,
    ) -> PlannedChange {
        PlannedChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: ty.into(),
            replacement: replacement.map(str::to_owned),
            details,
        }
    }

    fn property(name: &str, recreation: &str, evaluation: &str) -> ChangeDetail {
        ChangeDetail {
            attribute: "Properties".into(),
            name: Some(name.into()),
            requires_recreation: recreation.into(),
            evaluation: evaluation.into(),
            change_source: "DirectModification".into(),
            causing_entity: None,
        }
    }

    fn by_reference(name: &str, cause: &str) -> ChangeDetail {
        ChangeDetail {
            change_source: "ResourceReference".into(),
            causing_entity: Some(cause.into()),
            ..property(name, "Conditionally", "Dynamic")
        }
    }

    #[test]
    fn a_replaced_table_names_the_property_that_forces_it() {
        let changes = [change(
            "Modify",
            "OrdersTable",
            "AWS::DynamoDB::Table",
            Some("True"),
            vec![
                property("TableName", "Always", "Static"),
                property("BillingMode", "Never", "Static"),
            ],
        )];
        let hazards = from_change_set("Order", &changes);
        assert_eq!(
            hazards.iter().map(Hazard::render).collect::<Vec<_>>(),
            ["Order/OrdersTable (AWS::DynamoDB::Table, holds data) would be replaced: Properties.TableName (requires recreation: Always)"]
        );
    }

    #[test]
    fn stateless_replacements_and_in_place_updates_pass() {
        let changes = [
            change(
                "Modify",
                "Fn",
                "AWS::Lambda::Function",
                Some("True"),
                vec![property("FunctionName", "Always", "Static")],
            ),
            change(
                "Modify",
                "Work",
                "AWS::SQS::Queue",
                Some("False"),
                vec![property("VisibilityTimeout", "Never", "Static")],
            ),
            change("Add", "Bucket", "AWS::S3::Bucket", None, vec![]),
        ];
        assert_eq!(from_change_set("Order", &changes), []);
    }

    #[test]
    fn a_removed_queue_is_refused_as_messages_in_transit() {
        let changes = [change("Remove", "Work", "AWS::SQS::Queue", None, vec![])];
        assert_eq!(
            from_change_set("Order", &changes)[0].render(),
            "Order/Work (AWS::SQS::Queue, holds messages in transit) would be removed: it is no longer in the template"
        );
    }

    #[test]
    fn a_conditional_replacement_through_a_ref_to_a_resource_updated_in_place_is_ruled_out() {
        let key_in_place = change(
            "Modify",
            "Key",
            "AWS::KMS::Key",
            Some("False"),
            vec![property("Description", "Never", "Static")],
        );
        let table = change(
            "Modify",
            "Table",
            "AWS::DynamoDB::Table",
            Some("Conditional"),
            vec![by_reference("SSESpecification", "Key")],
        );
        assert_eq!(
            from_change_set("Data", &[key_in_place.clone(), table.clone()]),
            []
        );

        // The same table when the key is replaced: its Ref changes, and the table may be replaced.
        let key_replaced = PlannedChange {
            replacement: Some("True".into()),
            ..key_in_place
        };
        let hazards = from_change_set("Data", &[key_replaced, table.clone()]);
        assert_eq!(
            hazards.iter().map(Hazard::render).collect::<Vec<_>>(),
            [
                "Data/Key (AWS::KMS::Key, holds data) would be replaced: CloudFormation named no property",
                "Data/Table (AWS::DynamoDB::Table, holds data) may be replaced: Properties.SSESpecification, through Ref Key (requires recreation: Conditionally)",
            ]
        );

        // A property that conditionally requires recreation by itself is not ruled out.
        let conditional = change(
            "Modify",
            "Db",
            "AWS::RDS::DBInstance",
            Some("Conditional"),
            vec![property("StorageType", "Conditionally", "Static")],
        );
        assert_eq!(
            from_change_set("Data", &[conditional])[0].loss,
            Loss::MayBeReplaced
        );
    }

    #[test]
    fn allow_replace_names_stack_and_logical_id() {
        let allowed: ResourceAddress = "Order/OrdersTable".parse().unwrap();
        assert_eq!(allowed.to_string(), "Order/OrdersTable");
        for bad in ["OrdersTable", "/OrdersTable", "Order/", "Order/A/B"] {
            let err = bad.parse::<ResourceAddress>().unwrap_err();
            assert!(err.contains("is not STACK/LogicalId"), "{err}");
        }
        let hazards = from_change_set(
            "Order",
            &[
                change(
                    "Remove",
                    "OrdersTable",
                    "AWS::DynamoDB::Table",
                    None,
                    vec![],
                ),
                change("Remove", "Archive", "AWS::S3::Bucket", None, vec![]),
            ],
        );
        let left = refused(&hazards, &[allowed]);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].address.logical_id, "Archive");
    }

    #[test]
    fn the_stack_policy_denies_replace_and_delete_of_every_stateful_type() {
        let strict = stack_policy(&[]);
        let deny = &strict["Statement"][1];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Resource"], "*");
        assert_eq!(deny["Action"], json!(["Update:Replace", "Update:Delete"]));
        let types = deny["Condition"]["StringEquals"]["ResourceType"]
            .as_array()
            .unwrap();
        assert_eq!(types.len(), STATEFUL.len());
        assert!(types.contains(&json!("AWS::DynamoDB::Table")));
        assert!(strict.to_string().len() < 16 * 1024);

        let relaxed = stack_policy(&["OrdersTable"]);
        let deny = &relaxed["Statement"][1];
        assert_eq!(deny.get("Resource"), None);
        assert_eq!(
            deny["NotResource"],
            json!(["LogicalResourceId/OrdersTable"])
        );
    }
}
