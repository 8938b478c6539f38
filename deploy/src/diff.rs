//! Template diff: what deploying a synthesized template would change in the deployed one, entry by entry
//! (resources, outputs, parameters...), with the property paths that differ.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::template::is_intrinsic;
use console::style;
use serde_json::{Map, Value};

/// The sections compared entry by entry; anything else at the top level is compared as one value.
pub(crate) const SECTIONS: [&str; 6] = [
    "Parameters",
    "Mappings",
    "Conditions",
    "Rules",
    "Resources",
    "Outputs",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Added,
    Removed,
    Modified,
    /// Kept and moved: renamed, or moved to or from another stack (`Stack::moved`); `EntryDiff::moved` says
    /// where from or to.
    Moved,
}

/// One changed value inside an entry. `path` is relative to the entry (`Properties.VisibilityTimeout`,
/// `Properties.Tags[1].Value`); `None` is "absent on that side".
#[derive(Clone, Debug, PartialEq)]
pub struct PathChange {
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// What CloudFormation said about replacing a resource, from a change set.
#[derive(Clone, Debug, PartialEq)]
pub struct Replacement {
    /// `True`, `False` or `Conditional`.
    pub replacement: String,
    /// Properties whose change causes it, with their `RequiresRecreation` (`Always`, `Conditionally`, `Never`).
    pub causes: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EntryDiff {
    /// `Resources`, `Outputs`... or `Template` for top-level values such as `Description`.
    pub section: String,
    pub id: String,
    /// The resource type (the new one when it changes).
    pub resource_type: Option<String>,
    pub kind: Kind,
    pub changes: Vec<PathChange>,
    pub replacement: Option<Replacement>,
    /// For [`Kind::Moved`]: `from OldId`, `from Legacy/Table`, `to Data/OrdersTable`.
    pub moved: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TemplateDiff {
    pub entries: Vec<EntryDiff>,
}

impl TemplateDiff {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Shows the recorded moves of `stack` as moves: a resource removed here that moved (to another logical ID
    /// or stack) and one added here that was moved (from another logical ID or stack) are one resource, kept. A
    /// rename within the stack is one entry, with the changes between the two bodies (which a refactor refuses).
    pub fn apply_moves(
        &mut self,
        stack: &str,
        moves: &[crate::refactor::Move],
        old: Option<&Value>,
        new: &Value,
    ) {
        let resource = |t: Option<&Value>, id: &str| -> Option<Value> {
            t?.get("Resources")?.get(id).cloned()
        };
        let mut dropped = Vec::new();
        for e in self.entries.iter_mut().filter(|e| e.section == "Resources") {
            for m in moves {
                if e.kind == Kind::Added && m.to.stack == stack && m.to.logical_id == e.id {
                    let before = if m.from.stack == stack {
                        dropped.push(m.from.logical_id.clone());
                        e.moved = Some(format!("from {}", m.from.logical_id));
                        resource(old, &m.from.logical_id)
                    } else {
                        e.moved = Some(format!("from {}", m.from));
                        None
                    };
                    e.kind = Kind::Moved;
                    if let Some(before) = before {
                        e.changes =
                            changes_between(Some(&before), resource(Some(new), &e.id).as_ref());
                    }
                } else if e.kind == Kind::Removed
                    && m.from.stack == stack
                    && m.from.logical_id == e.id
                    && m.to.stack != stack
                {
                    e.kind = Kind::Moved;
                    e.moved = Some(format!("to {}", m.to));
                }
            }
        }
        self.entries.retain(|e| {
            !(e.section == "Resources" && e.kind == Kind::Removed && dropped.contains(&e.id))
        });
    }

    /// Adds a change set's replacement information to the resources it names.
    pub fn add_replacements(&mut self, replacements: &BTreeMap<String, Replacement>) {
        for e in self.entries.iter_mut().filter(|e| e.section == "Resources") {
            if let Some(r) = replacements.get(&e.id) {
                e.replacement = Some(r.clone());
            }
        }
    }
}

/// Compares the deployed template (`old`; `None` when the stack is not deployed) with the synthesized one.
pub fn diff_templates(old: Option<&Value>, new: &Value) -> TemplateDiff {
    let empty = Value::Object(Map::new());
    let old = old.unwrap_or(&empty);
    let mut entries = Vec::new();
    let keys = union_keys(old.as_object(), new.as_object());
    for key in keys.iter().filter(|k| !SECTIONS.contains(&k.as_str())) {
        let changes = changes_between(old.get(key.as_str()), new.get(key.as_str()));
        if !changes.is_empty() {
            entries.push(entry(
                "Template",
                key,
                None,
                kind_of(old.get(key.as_str()), new.get(key.as_str())),
                vec![PathChange {
                    path: String::new(),
                    old: old.get(key.as_str()).cloned(),
                    new: new.get(key.as_str()).cloned(),
                }],
            ));
        }
    }
    for section in SECTIONS {
        let o = old.get(section).and_then(Value::as_object);
        let n = new.get(section).and_then(Value::as_object);
        for id in union_keys(o, n) {
            let before = o.and_then(|m| m.get(&id));
            let after = n.and_then(|m| m.get(&id));
            let changes = changes_between(before, after);
            if changes.is_empty() {
                continue;
            }
            let resource_type = (section == "Resources")
                .then(|| {
                    after
                        .or(before)
                        .and_then(|r| r.get("Type"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .flatten();
            let kind = kind_of(before, after);
            // An added or removed entry is shown whole; listing its every leaf would only repeat it.
            let changes = if kind == Kind::Modified {
                changes
            } else {
                Vec::new()
            };
            entries.push(entry(section, &id, resource_type, kind, changes));
        }
    }
    TemplateDiff { entries }
}

fn entry(
    section: &str,
    id: &str,
    resource_type: Option<String>,
    kind: Kind,
    changes: Vec<PathChange>,
) -> EntryDiff {
    EntryDiff {
        section: section.into(),
        id: id.into(),
        resource_type,
        kind,
        changes,
        replacement: None,
        moved: None,
    }
}

fn kind_of(old: Option<&Value>, new: Option<&Value>) -> Kind {
    match (old, new) {
        (None, _) => Kind::Added,
        (_, None) => Kind::Removed,
        _ => Kind::Modified,
    }
}

fn union_keys(a: Option<&Map<String, Value>>, b: Option<&Map<String, Value>>) -> Vec<String> {
    let mut keys: Vec<String> = a
        .into_iter()
        .chain(b)
        .flat_map(|m| m.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The leaf changes between two values. Intrinsic functions (`{"Ref": ..}`, `{"Fn::GetAtt": ..}`) are leaves:
/// a path into their arguments would say less than the whole expression.
pub fn changes_between(old: Option<&Value>, new: Option<&Value>) -> Vec<PathChange> {
    let mut out = Vec::new();
    walk("", old, new, &mut out);
    out
}

fn walk(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<PathChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b)))
            if !is_intrinsic(a) && !is_intrinsic(b) =>
        {
            for k in union_keys(Some(a), Some(b)) {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(&child, a.get(&k), b.get(&k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                walk(&format!("{path}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        _ => out.push(PathChange {
            path: path.to_owned(),
            old: old.cloned(),
            new: new.cloned(),
        }),
    }
}

/// Renders a stack's diff for people. Colours follow `console`'s setting (off for NO_COLOR and non-terminals).
pub fn render(stack: &str, deployed: bool, diff: &TemplateDiff) -> String {
    let mut s = String::new();
    let state = if deployed { "" } else { " (not deployed yet)" };
    let _ = writeln!(s, "{}{state}", style(format!("Stack {stack}")).bold());
    if diff.is_empty() {
        let _ = writeln!(s, "  no differences");
        return s;
    }
    let mut section = "";
    for e in &diff.entries {
        if e.section != section {
            section = &e.section;
            let _ = writeln!(s, "  {}", style(section).underlined());
        }
        let (mark, colour) = match e.kind {
            Kind::Added => ("[+]", console::Color::Green),
            Kind::Removed => ("[-]", console::Color::Red),
            Kind::Modified => ("[~]", console::Color::Yellow),
            Kind::Moved => ("[>]", console::Color::Cyan),
        };
        let ty = e
            .resource_type
            .as_deref()
            .map(|t| format!("{t} "))
            .unwrap_or_default();
        let mut line = format!("  {} {ty}{}", style(mark).fg(colour), style(&e.id).bold());
        if let Some(moved) = &e.moved {
            line.push_str(&format!(" (moved {moved}, kept)"));
        }
        if let Some(r) = &e.replacement {
            let note = match r.replacement.as_str() {
                "True" => style("replaces the resource".to_owned()).red().bold(),
                "Conditional" => style("may replace the resource".to_owned()).yellow().bold(),
                _ => style("updated in place".to_owned()).dim(),
            };
            line.push_str(&format!(" ({note})"));
        }
        if e.section == "Template" {
            // Top-level values (Description, Transform) are short: one line, old and new.
            let values = e.changes.iter().map(|c| match (&c.old, &c.new) {
                (Some(o), Some(n)) => format!("{} -> {}", compact(o), compact(n)),
                (None, Some(v)) | (Some(v), None) => compact(v),
                (None, None) => String::new(),
            });
            let _ = writeln!(s, "{line} {}", values.collect::<Vec<_>>().join(" "));
            continue;
        }
        let _ = writeln!(s, "{line}");
        for c in &e.changes {
            render_change(&mut s, c, e.replacement.as_ref());
        }
    }
    s
}

fn render_change(s: &mut String, c: &PathChange, replacement: Option<&Replacement>) {
    let property = c.path.strip_prefix("Properties.").unwrap_or(&c.path);
    let top = property.split(['.', '[']).next().unwrap_or(property);
    let recreation = replacement
        .and_then(|r| r.causes.iter().find(|(name, _)| name == top))
        .map(|(_, how)| format!(" (requires recreation: {how})"))
        .unwrap_or_default();
    let label = if c.path.is_empty() {
        String::new()
    } else {
        format!("{} ", c.path)
    };
    let old = c.old.as_ref().map(compact);
    let new = c.new.as_ref().map(compact);
    let long = |v: &Option<String>| v.as_ref().is_some_and(|t| t.len() > 60 || t.contains('\n'));
    if long(&old) || long(&new) {
        // Long values (policy documents, Fn::Sub bodies) read better as a line diff of their pretty form.
        let _ = writeln!(s, "      {} {label}{recreation}", style("~").yellow());
        let a = c.old.as_ref().map(pretty).unwrap_or_default();
        let b = c.new.as_ref().map(pretty).unwrap_or_default();
        for change in similar::TextDiff::from_lines(&a, &b).iter_all_changes() {
            let text = change.to_string_lossy();
            let text = text.trim_end_matches('\n');
            let _ = match change.tag() {
                similar::ChangeTag::Delete => {
                    writeln!(s, "        {}", style(format!("- {text}")).red())
                }
                similar::ChangeTag::Insert => {
                    writeln!(s, "        {}", style(format!("+ {text}")).green())
                }
                similar::ChangeTag::Equal => writeln!(s, "          {text}"),
            };
        }
        return;
    }
    let line = match (old, new) {
        (None, Some(n)) => format!("{} {label}{}", style("+").green(), style(n).green()),
        (Some(o), None) => format!("{} {label}{}", style("-").red(), style(o).red()),
        (Some(o), Some(n)) => format!(
            "{} {label}{} -> {}",
            style("~").yellow(),
            style(o).red(),
            style(n).green()
        ),
        (None, None) => return,
    };
    let _ = writeln!(s, "      {line}{recreation}");
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn pretty(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s}\n"),
        other => format!(
            "{}\n",
            serde_json::to_string_pretty(other).unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(timeout: u32, extra: bool) -> Value {
        let mut t = json!({
            "Description": "demo",
            "Resources": {
                "Work": {"Type": "AWS::SQS::Queue", "Properties": {
                    "VisibilityTimeout": timeout,
                    "Tags": [{"Key": "app", "Value": "demo"}],
                    "KmsMasterKeyId": {"Fn::ImportValue": "Base:Key:Arn"},
                }},
            },
            "Outputs": {"WorkUrl": {"Value": {"Ref": "Work"}}},
        });
        if extra {
            t["Resources"]["Alerts"] = json!({"Type": "AWS::SNS::Topic", "Properties": {}});
        }
        t
    }

    #[test]
    fn identical_templates_have_no_differences() {
        assert!(diff_templates(Some(&template(30, true)), &template(30, true)).is_empty());
    }

    #[test]
    fn a_changed_property_is_reported_with_its_path_and_nothing_else() {
        let d = diff_templates(Some(&template(30, false)), &template(60, false));
        assert_eq!(
            d.entries,
            [EntryDiff {
                section: "Resources".into(),
                id: "Work".into(),
                resource_type: Some("AWS::SQS::Queue".into()),
                kind: Kind::Modified,
                changes: vec![PathChange {
                    path: "Properties.VisibilityTimeout".into(),
                    old: Some(json!(30)),
                    new: Some(json!(60)),
                }],
                replacement: None,
                moved: None,
            }]
        );
    }

    #[test]
    fn added_and_removed_resources_and_paths_inside_lists() {
        let d = diff_templates(Some(&template(30, true)), &template(30, false));
        assert_eq!(d.entries.len(), 1);
        assert_eq!(
            (d.entries[0].id.as_str(), d.entries[0].kind),
            ("Alerts", Kind::Removed)
        );
        let d = diff_templates(Some(&template(30, false)), &template(30, true));
        assert_eq!(
            (d.entries[0].id.as_str(), d.entries[0].kind),
            ("Alerts", Kind::Added)
        );

        let mut tagged = template(30, false);
        tagged["Resources"]["Work"]["Properties"]["Tags"][0]["Value"] = json!("other");
        let d = diff_templates(Some(&template(30, false)), &tagged);
        assert_eq!(d.entries[0].changes[0].path, "Properties.Tags[0].Value");
    }

    #[test]
    fn intrinsics_are_compared_whole() {
        let mut t = template(30, false);
        t["Resources"]["Work"]["Properties"]["KmsMasterKeyId"] =
            json!({"Fn::ImportValue": "Base:Other:Arn"});
        let d = diff_templates(Some(&template(30, false)), &t);
        assert_eq!(d.entries[0].changes[0].path, "Properties.KmsMasterKeyId");
        assert_eq!(
            d.entries[0].changes[0].new,
            Some(json!({"Fn::ImportValue": "Base:Other:Arn"}))
        );
    }

    #[test]
    fn a_stack_not_deployed_is_all_additions_and_top_level_values_count() {
        let d = diff_templates(None, &template(30, false));
        let ids: Vec<_> = d
            .entries
            .iter()
            .map(|e| (e.section.as_str(), e.id.as_str(), e.kind))
            .collect();
        assert_eq!(
            ids,
            [
                ("Template", "Description", Kind::Added),
                ("Resources", "Work", Kind::Added),
                ("Outputs", "WorkUrl", Kind::Added)
            ]
        );
    }

    #[test]
    fn rendering_names_the_change_and_the_replacement() {
        console::set_colors_enabled(false);
        let mut d = diff_templates(Some(&template(30, true)), &template(60, false));
        d.add_replacements(&BTreeMap::from([(
            "Work".to_owned(),
            Replacement {
                replacement: "True".into(),
                causes: vec![("VisibilityTimeout".into(), "Always".into())],
            },
        )]));
        assert_eq!(
            render("Consumer", true, &d),
            "Stack Consumer\n  Resources\n  [-] AWS::SNS::Topic Alerts\n  [~] AWS::SQS::Queue Work (replaces the resource)\n      ~ Properties.VisibilityTimeout 30 -> 60 (requires recreation: Always)\n"
        );
        assert_eq!(
            render("Consumer", true, &TemplateDiff::default()),
            "Stack Consumer\n  no differences\n"
        );
    }

    #[test]
    fn recorded_moves_show_as_moved_not_removed_and_added() {
        use crate::refactor::Move;
        console::set_colors_enabled(false);
        let table = json!({"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}});
        let old = json!({"Resources": {"Table": table, "Gone": table}});
        let new = json!({"Resources": {"OrdersTable": table}});
        let moves = [
            Move {
                from: "Data/Table".parse().unwrap(),
                to: "Data/OrdersTable".parse().unwrap(),
            },
            Move {
                from: "Data/Gone".parse().unwrap(),
                to: "Archive/Gone".parse().unwrap(),
            },
        ];
        let mut d = diff_templates(Some(&old), &new);
        d.apply_moves("Data", &moves, Some(&old), &new);
        assert_eq!(
            render("Data", true, &d),
            "Stack Data\n  Resources\n  [>] AWS::DynamoDB::Table Gone (moved to Archive/Gone, kept)\n  [>] AWS::DynamoDB::Table OrdersTable (moved from Table, kept)\n"
        );
        // In the stack it moved to, the added resource is the moved one.
        let mut d = diff_templates(
            Some(&json!({"Resources": {}})),
            &json!({"Resources": {"Gone": table}}),
        );
        d.apply_moves("Archive", &moves, None, &json!({}));
        assert_eq!(d.entries[0].moved.as_deref(), Some("from Data/Gone"));
    }

    #[test]
    fn long_values_are_shown_as_a_line_diff() {
        console::set_colors_enabled(false);
        let policy = |action: &str| json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*", "Principal": {"Service": "sns.amazonaws.com"}}]});
        let d = diff_templates(
            Some(
                &json!({"Resources": {"P": {"Type": "T", "Properties": {"Doc": {"Fn::Sub": [policy("sqs:SendMessage"), {}]}}}}}),
            ),
            &json!({"Resources": {"P": {"Type": "T", "Properties": {"Doc": {"Fn::Sub": [policy("sqs:ReceiveMessage"), {}]}}}}}),
        );
        let out = render("S", true, &d);
        assert!(
            out.contains("- ") && out.contains("\"Action\": \"sqs:SendMessage\""),
            "{out}"
        );
        assert!(
            out.contains("+ ") && out.contains("\"Action\": \"sqs:ReceiveMessage\""),
            "{out}"
        );
    }
}
