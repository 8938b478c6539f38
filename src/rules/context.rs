//! What every check sees: the whole assembly (references cross stacks), indexed, and the findings so far.

use std::collections::HashMap;

use cfnkit_core::Resource;

use super::read::as_str;
use super::registry::RuleInfo;
use super::report::{Finding, Itemized};
use crate::synth::{Assembly, Node, StackArtifact};

/// The CloudFormation type name of an L1 type: what checks match resources on, so that a type name is never a
/// string a typo could break.
pub(crate) const fn type_name<R: Resource>() -> &'static str {
    R::TYPE_NAME
}

/// The findings of the checks, and the assembly indexed for them.
///
/// Checks ask "every resource of type T" and "the resource this reference names" once per resource they check,
/// so both are indexed up front: scanning the assembly for each answer made the rule pack quadratic (5,000 queues
/// each looking for its queue policy took over half of a 200 ms synth).
pub(crate) struct Ctx<'a> {
    assembly: &'a Assembly,
    pub(super) findings: Vec<Finding>,
    /// Resources by type, each list in assembly order (stacks in order, resources in template order).
    by_type: HashMap<&'a str, Vec<Res<'a>>>,
    /// Resources by (stack name, logical ID).
    by_id: HashMap<(&'a str, &'a str), Res<'a>>,
}

/// One item of a finding that lists them ([`Ctx::report_items`]).
pub(crate) struct Item {
    /// As cdk-nag names it (`Resource::*`): what a suppression's `appliesTo` lists.
    pub name: String,
    /// Printed after the item, in parentheses.
    pub note: Option<String>,
    /// How to fix this item in particular.
    pub advice: Option<String>,
}

impl Item {
    pub fn new(name: String) -> Item {
        Item {
            name,
            note: None,
            advice: None,
        }
    }
}

/// A resource of a stack's final template.
#[derive(Clone, Copy)]
pub(crate) struct Res<'a> {
    pub stack: &'a StackArtifact,
    pub id: &'a str,
    pub node: &'a Node,
}

impl<'a> Res<'a> {
    pub fn prop(&self, key: &str) -> Option<&'a Node> {
        self.node.get("Properties")?.get(key)
    }
    /// A property by path (`["PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"]`).
    pub fn prop_at(&self, keys: &[&str]) -> Option<&'a Node> {
        let mut n = self.node.get("Properties")?;
        for k in keys {
            n = n.get(k)?;
        }
        Some(n)
    }
    pub fn type_name(&self) -> &'a str {
        self.node.get("Type").and_then(as_str).unwrap_or("")
    }
    /// Whether the resource is of the L1 type `R`.
    pub fn is<R: Resource>(&self) -> bool {
        self.type_name() == R::TYPE_NAME
    }
    /// The same resource and stack, as a key comparable with [`Ctx::referent`]'s.
    pub fn key(&self) -> (&'a str, &'a str) {
        (&self.stack.name, self.id)
    }
}

/// What a reference points to: stack, logical ID and attribute (`None` for `Ref`).
pub(crate) struct Referent<'a> {
    pub res: Res<'a>,
    pub attribute: Option<&'a str>,
}

/// The resources of a stack's template, in template order.
pub(super) fn resources(stack: &StackArtifact) -> impl Iterator<Item = (&str, &Node)> {
    let entries: &[(String, Node)] = match stack.template.get("Resources") {
        Some(Node::Map(m)) => m,
        _ => &[],
    };
    entries.iter().map(|(k, v)| (k.as_str(), v))
}

fn all_resources(assembly: &Assembly) -> impl Iterator<Item = Res<'_>> {
    assembly
        .stacks
        .iter()
        .flat_map(|stack| resources(stack).map(move |(id, node)| Res { stack, id, node }))
}

/// A finding of `rule` on the resource `id` of `stack`.
pub(super) fn finding(
    stack: &StackArtifact,
    id: &str,
    rule: &'static RuleInfo,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        rule,
        stack: stack.name.clone(),
        logical_id: id.to_owned(),
        path: stack.paths.get(id).cloned(),
        message,
        fix,
        items: Vec::new(),
        suppressed: None,
        itemized: None,
    }
}

impl<'a> Ctx<'a> {
    pub(super) fn new(assembly: &'a Assembly) -> Self {
        let mut by_type: HashMap<&'a str, Vec<Res<'a>>> = HashMap::new();
        let mut by_id = HashMap::new();
        for r in all_resources(assembly) {
            by_type.entry(r.type_name()).or_default().push(r);
            // A duplicate logical ID cannot occur in a synthesized template (a map); the first one wins.
            by_id.entry(r.key()).or_insert(r);
        }
        Ctx {
            assembly,
            findings: Vec::new(),
            by_type,
            by_id,
        }
    }
    /// Every resource of every stack.
    pub fn all(&self) -> impl Iterator<Item = Res<'a>> {
        all_resources(self.assembly)
    }
    /// Every resource of the L1 type `R`, in assembly order.
    pub fn of<R: Resource>(&self) -> impl Iterator<Item = Res<'a>> + '_ {
        self.of_type(R::TYPE_NAME)
    }
    /// Every resource of one type, in assembly order; [`Ctx::of`] for a type cfnkit's L1 layer has.
    pub fn of_type(&self, type_name: &str) -> impl Iterator<Item = Res<'a>> + '_ {
        self.by_type
            .get(type_name)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .copied()
    }
    /// Records a finding of `rule` on `res`.
    pub fn report(
        &mut self,
        rule: &'static RuleInfo,
        res: &Res<'_>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.findings
            .push(finding(res.stack, res.id, rule, message.into(), fix.into()));
    }

    /// Records a finding of `rule` on `res` that lists what it found (see [`Finding::items`]): its message is
    /// `<lead>: <item> (<note>), <item>.`, its fix the items' advice, then `fix` for the others.
    pub fn report_items(
        &mut self,
        rule: &'static RuleInfo,
        res: &Res<'_>,
        lead: &str,
        items: Vec<Item>,
        fix: impl Into<String>,
    ) {
        let mut itemized = Itemized {
            lead: lead.to_owned(),
            notes: Vec::new(),
            advice: Vec::new(),
            fix: fix.into(),
        };
        let mut names = Vec::new();
        for item in items {
            if let Some(note) = item.note {
                itemized.notes.push((item.name.clone(), note));
            }
            if let Some(advice) = item.advice {
                itemized.advice.push((item.name.clone(), advice));
            }
            names.push(item.name);
        }
        let message = format!("{}.", itemized.message(&names));
        let fix = itemized.fix(&names);
        let mut f = finding(res.stack, res.id, rule, message, fix);
        f.items = names;
        f.itemized = Some(itemized);
        self.findings.push(f);
    }

    /// The resource a value refers to: `Ref X`, `Fn::GetAtt [X, Attr]`, or `Fn::ImportValue` of an export (or
    /// `Fn::GetStackOutput` of an output) whose producer's output is one of those.
    pub fn referent(&self, stack: &'a StackArtifact, value: &'a Node) -> Option<Referent<'a>> {
        match value {
            Node::Fn("Ref", arg) => {
                let id = as_str(arg)?;
                Some(Referent {
                    res: self.resource(stack, id)?,
                    attribute: None,
                })
            }
            Node::Fn("Fn::GetAtt", arg) => {
                let (id, attribute) = match &**arg {
                    Node::List(parts) if parts.len() == 2 => {
                        (as_str(&parts[0])?, as_str(&parts[1])?)
                    }
                    // The short form `X.Attr`.
                    Node::String(s) => s.split_once('.')?,
                    _ => return None,
                };
                Some(Referent {
                    res: self.resource(stack, id)?,
                    attribute: Some(attribute),
                })
            }
            Node::Fn("Fn::ImportValue", arg) => {
                let name = as_str(arg)?;
                self.assembly.stacks.iter().find_map(|producer| {
                    let Some(Node::Map(outputs)) = producer.template.get("Outputs") else {
                        return None;
                    };
                    let (_, output) = outputs.iter().find(|(_, o)| {
                        o.get("Export").and_then(|e| e.get("Name")).and_then(as_str) == Some(name)
                    })?;
                    self.referent(producer, output.get("Value")?)
                })
            }
            Node::Fn("Fn::GetStackOutput", arg) => {
                let (stack, output) = (
                    as_str(arg.get("StackName")?)?,
                    as_str(arg.get("OutputName")?)?,
                );
                let producer = self.assembly.stack(stack)?;
                let value = producer
                    .template
                    .get("Outputs")?
                    .get(output)?
                    .get("Value")?;
                self.referent(producer, value)
            }
            _ => None,
        }
    }

    fn resource(&self, stack: &'a StackArtifact, id: &str) -> Option<Res<'a>> {
        self.by_id.get(&(stack.name.as_str(), id)).copied()
    }
}
