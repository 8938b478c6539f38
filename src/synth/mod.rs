//! Synthesis: from an [`App`] to one CloudFormation template per stack, in deploy order.
//!
//! Synth resolves construct paths to logical IDs, turns references between stacks into an exported `Output` in
//! the producer and `Fn::ImportValue` in the consumer, orders the stacks by those dependencies, applies tags, and
//! validates what CloudFormation would reject (unknown references, limits, duplicate exports) before anything is
//! written. All problems are reported together, each naming its stack, element and fix.
//!
//! [`synth()`] stops there; [`synth_checked`] also runs the rule pack ([`crate::rules`]), as the CLI's `synth`
//! does before writing: use it where an app must be one `synth` accepts (tests of an app, tools that deploy).

mod checked;
mod error;
pub mod logical_id;
pub mod manifest;
mod node;
pub mod output;
mod resolve;
mod validate;

use std::cell::Ref;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

pub use checked::{synth_checked, CheckedAssembly};
pub use error::{Problem, SynthError};
pub use node::Node;

use crate::stack::{App, Environment, StackInner};
use cfnkit_core::Value;
use resolve::{ExportKey, ExportRec, IdTable, Resolver, Shared, WeakRec};

/// The synthesized app: every stack's template, in deploy order.
#[derive(Clone, Debug)]
pub struct Assembly {
    /// Stacks in deploy order: every stack comes after the stacks it depends on.
    pub stacks: Vec<StackArtifact>,
}

/// One synthesized stack.
#[derive(Clone, Debug)]
pub struct StackArtifact {
    /// The CloudFormation stack name.
    pub name: String,
    /// The rendered template, with cross-stack references resolved to imports and outputs.
    pub template: Node,
    /// Stacks that must be deployed first, sorted.
    pub dependencies: Vec<String>,
    /// The stack's exports, for the manifest and for checking that none still imported goes away.
    pub exports: Vec<ExportInfo>,
    /// The exports of other stacks this stack imports.
    pub imports: Vec<ImportInfo>,
    /// Outputs that stacks of other environments read with `Fn::GetStackOutput`.
    pub weak_outputs: Vec<WeakOutputInfo>,
    /// Outputs of stacks of other environments this stack reads with `Fn::GetStackOutput`.
    pub weak_references: Vec<WeakReferenceInfo>,
    /// Stack tags: the app's, overridden by the stack's own.
    pub tags: BTreeMap<String, String>,
    /// The construct path of every resource, by logical ID, for messages that name where a resource came from.
    pub paths: BTreeMap<String, String>,
    /// The account and region the stack deploys to.
    pub environment: Environment,
    /// Whether CloudFormation refuses to delete the stack ([`crate::Stack::set_termination_protection`]).
    pub termination_protection: bool,
    /// Resources that were elsewhere before ([`crate::Stack::moved`]).
    pub moves: Vec<manifest::ManifestMove>,
}

/// An export of a stack, made by synth for a cross-stack reference or kept by [`crate::Stack::export_value`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportInfo {
    /// The export name (`Base:EventBus:Arn`).
    pub name: String,
    /// The logical ID of the output that carries it.
    pub output: String,
    /// The exported element's construct path.
    pub element: String,
    /// The exported attribute (`Arn`), or `Ref` for a `Ref`.
    pub attribute: String,
    /// The stacks that import it.
    pub imported_by: Vec<String>,
    /// Kept with `export_value`, so it stays even without importers.
    pub kept: bool,
}

/// An import of a stack: an export of another stack it reads with `Fn::ImportValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportInfo {
    /// The export name.
    pub name: String,
    /// The stack that exports it.
    pub from: String,
}

/// An output made by synth for stacks of other environments, which read it with `Fn::GetStackOutput` (a weak
/// reference: CloudFormation does not stop the producer from changing or removing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeakOutputInfo {
    /// The output's logical ID (`OutputPlatformKeyArn`).
    pub output: String,
    /// The construct path of the element whose value it carries.
    pub element: String,
    /// The attribute it carries (`Arn`), or `Ref` for a `Ref`.
    pub attribute: String,
    /// The stacks that read it.
    pub read_by: Vec<String>,
}

/// An output of a stack of another environment that this stack reads with `Fn::GetStackOutput`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeakReferenceInfo {
    /// The producing stack's name.
    pub from: String,
    /// The logical ID of the producer's output.
    pub output: String,
    /// The producer's region, when it differs from this stack's.
    pub region: Option<String>,
    /// The producer's account, when it differs from this stack's (read through its lookup role).
    pub account: Option<String>,
}

impl Assembly {
    /// The stack of this name.
    pub fn stack(&self, name: &str) -> Option<&StackArtifact> {
        self.stacks.iter().find(|s| s.name == name)
    }
}

/// Synthesizes every stack of the app.
pub fn synth(app: &App) -> Result<Assembly, SynthError> {
    let stacks = app.stacks();
    let inners: Vec<Ref<'_, StackInner>> = stacks.iter().map(|s| s.0.borrow()).collect();
    let app_tags = app.tags.borrow().clone();
    let mut problems = Vec::new();

    let duplicate_names = check_stack_names(&inners, &mut problems);
    for inner in &inners {
        for e in &inner.errors {
            problems.push(Problem::new(&inner.name, None, e.clone()));
        }
        for (stack_set, holder) in &inner.template_of {
            if stacks
                .iter()
                .any(|s| std::ptr::eq(Rc::as_ptr(&s.0), holder.as_ptr()))
            {
                problems.push(Problem::new(
                    &inner.name,
                    None,
                    format!(
                        "is the template of stack set {stack_set}, which deploys it to its target accounts, and a \
                         stack of this app too, so it would also be deployed here: make it in an App of its own \
                         (`App::new().stack(..)`)"
                    ),
                ));
            }
        }
    }
    // Everything below is keyed by stack name: with two stacks of one name, one's resources would be checked as
    // the other's, and the problems found would be artefacts of the clash (a stack "with no resources").
    if duplicate_names {
        return Err(SynthError::Invalid(problems));
    }

    let tables: BTreeMap<Arc<str>, IdTable> = inners
        .iter()
        .map(|s| (s.name.clone(), IdTable::build(s, &mut problems)))
        .collect();

    let mut moves = BTreeMap::new();
    if inners.iter().any(|s| !s.moves.is_empty()) {
        let paths: BTreeMap<&str, BTreeMap<String, String>> = tables
            .iter()
            .map(|(name, t)| (&**name, t.resource_paths()))
            .collect();
        for inner in inners.iter().filter(|s| !s.moves.is_empty()) {
            let (resolved, errors) = inner.resolve_moves(
                |e| tables.get(&e.stack)?.id_of(&e.path).map(str::to_owned),
                |stack, id| paths.get(stack)?.get(id).cloned(),
            );
            problems.extend(
                errors
                    .into_iter()
                    .map(|e| Problem::new(&inner.name, None, e)),
            );
            moves.insert(inner.name.clone(), resolved);
        }
    }

    let mut exports: BTreeMap<ExportKey, ExportRec> = BTreeMap::new();
    let mut weak: BTreeMap<ExportKey, WeakRec> = BTreeMap::new();
    let envs: BTreeMap<Arc<str>, Environment> = inners
        .iter()
        .map(|s| (s.name.clone(), s.env.clone()))
        .collect();
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut partials = Vec::new();
    for inner in &inners {
        let shared = Shared {
            tables: &tables,
            envs: &envs,
            exports: &mut exports,
            weak: &mut weak,
            edges: &mut edges,
            problems: &mut problems,
        };
        let mut r = Resolver::new(inner, shared);
        let mut tags = app_tags.clone();
        tags.extend(inner.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        partials.push(r.render_body(&tags));
    }
    for inner in &inners {
        for kept in &inner.kept_exports {
            resolve::keep_export(inner, kept, &tables, &mut exports, &mut problems);
        }
    }

    let mut artifacts = Vec::new();
    for (inner, mut partial) in inners.iter().zip(partials) {
        let mut stack_exports: Vec<&ExportRec> = exports
            .values()
            .filter(|e| e.producer == *inner.name)
            .collect();
        stack_exports.sort_by(|a, b| a.name.cmp(&b.name));
        for e in &stack_exports {
            if partial.outputs.iter().any(|(id, _)| *id == e.output) {
                problems.push(Problem::new(
                    &inner.name,
                    Some(&e.output),
                    format!(
                        "output {} is also the output synth uses to export {}: rename your output",
                        e.output, e.name
                    ),
                ));
            }
            partial.outputs.push((e.output.clone(), e.output_node()));
        }
        let stack_weak: Vec<&WeakRec> = weak
            .values()
            .filter(|w| w.producer == *inner.name)
            .collect();
        for w in &stack_weak {
            if partial.outputs.iter().any(|(id, _)| *id == w.output) {
                problems.push(Problem::new(
                    &inner.name,
                    Some(&w.output),
                    format!(
                        "output {} is also the output synth makes for stacks of other environments to read \
                         ({} of {}): rename your output",
                        w.output,
                        w.attribute.as_deref().unwrap_or("Ref"),
                        w.element_path
                    ),
                ));
            }
            partial.outputs.push((w.output.clone(), w.output_node()));
        }
        partial.outputs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut deps: BTreeSet<String> = edges
            .keys()
            .filter(|(from, _)| *from == *inner.name)
            .map(|(_, to)| to.clone())
            .collect();
        deps.extend(inner.dependencies.iter().map(|d| d.to_string()));
        for d in &deps {
            if !inners.iter().any(|s| *s.name == **d) {
                problems.push(Problem::new(&inner.name, None, format!("depends on stack {d:?}, which is not in this app: add it to the app or drop the dependency")));
            }
        }
        let template = partial.into_template(inner);
        let mut tags = app_tags.clone();
        tags.extend(inner.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        artifacts.push(StackArtifact {
            name: inner.name.to_string(),
            template,
            dependencies: deps.into_iter().collect(),
            exports: stack_exports
                .iter()
                .map(|e| ExportInfo {
                    name: e.name.clone(),
                    output: e.output.clone(),
                    element: e.element_path.clone(),
                    attribute: e.attribute.clone().unwrap_or_else(|| "Ref".to_owned()),
                    imported_by: e.consumers.iter().cloned().collect(),
                    kept: e.kept,
                })
                .collect(),
            imports: exports
                .values()
                .filter(|e| e.consumers.contains(&*inner.name))
                .map(|e| ImportInfo {
                    name: e.name.clone(),
                    from: e.producer.clone(),
                })
                .collect(),
            weak_outputs: stack_weak
                .iter()
                .map(|w| WeakOutputInfo {
                    output: w.output.clone(),
                    element: w.element_path.clone(),
                    attribute: w.attribute.clone().unwrap_or_else(|| "Ref".to_owned()),
                    read_by: w.consumers.iter().cloned().collect(),
                })
                .collect(),
            weak_references: weak
                .values()
                .filter(|w| w.consumers.contains(&*inner.name))
                .map(|w| {
                    let producer = envs.get(w.producer.as_str()).cloned().unwrap_or_default();
                    let (region, account) = match resolve::crossing(&producer, &inner.env) {
                        resolve::Crossing::Weak { region, account } => (region, account),
                        _ => (None, None),
                    };
                    WeakReferenceInfo {
                        from: w.producer.clone(),
                        output: w.output.clone(),
                        region,
                        account,
                    }
                })
                .collect(),
            tags,
            paths: tables[&inner.name].resource_paths(),
            environment: inner.env.clone(),
            termination_protection: inner.termination_protection,
            moves: moves.remove(&inner.name).unwrap_or_default(),
        });
    }

    validate::duplicate_exports(&artifacts, &mut problems);
    for a in &artifacts {
        validate::limits(a, &mut problems);
    }
    if !problems.is_empty() {
        return Err(SynthError::Invalid(problems));
    }
    let order = deploy_order(&artifacts, &edges)?;
    let mut by_name: BTreeMap<String, StackArtifact> =
        artifacts.into_iter().map(|a| (a.name.clone(), a)).collect();
    Ok(Assembly {
        stacks: order
            .iter()
            .map(|n| by_name.remove(n).expect("ordered stacks exist"))
            .collect(),
    })
}

/// Reports invalid and duplicate stack names; returns whether a name is taken twice.
fn check_stack_names(inners: &[Ref<'_, StackInner>], problems: &mut Vec<Problem>) -> bool {
    let mut seen = BTreeSet::new();
    let mut duplicates = BTreeSet::new();
    for s in inners {
        // A name taken three times is still one problem.
        if !seen.insert(s.name.clone()) && duplicates.insert(s.name.clone()) {
            problems.push(Problem::new(
                &s.name,
                None,
                "two stacks have this name: stack names must be unique in an app; rename one"
                    .to_owned(),
            ));
        }
        let valid = s.name.len() <= 128
            && s.name.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            problems.push(Problem::new(
                &s.name,
                None,
                "is not a valid stack name: use 1 to 128 letters, digits and hyphens, starting with a letter".to_owned(),
            ));
        }
    }
    !duplicates.is_empty()
}

/// Orders stacks so that each comes after its dependencies; ties keep declaration order.
fn deploy_order(
    artifacts: &[StackArtifact],
    edges: &BTreeMap<(String, String), BTreeSet<String>>,
) -> Result<Vec<String>, SynthError> {
    let mut placed: Vec<String> = Vec::new();
    let mut remaining: Vec<&StackArtifact> = artifacts.iter().collect();
    while !remaining.is_empty() {
        let next = remaining
            .iter()
            .position(|a| a.dependencies.iter().all(|d| placed.contains(d)));
        match next {
            Some(i) => placed.push(remaining.remove(i).name.clone()),
            None => return Err(SynthError::Cycle(describe_cycle(&remaining, edges))),
        }
    }
    Ok(placed)
}

/// Finds one cycle among the stacks that could not be placed and says which values make it.
fn describe_cycle(
    remaining: &[&StackArtifact],
    edges: &BTreeMap<(String, String), BTreeSet<String>>,
) -> String {
    let deps = |name: &str| -> Vec<String> {
        remaining
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.dependencies.clone())
            .unwrap_or_default()
    };
    let mut path = vec![remaining[0].name.clone()];
    loop {
        let last = path.last().expect("path is never empty").clone();
        let next = deps(&last)
            .into_iter()
            .find(|d| remaining.iter().any(|a| a.name == *d))
            .expect("a stuck stack has an unplaced dependency");
        if let Some(start) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path[start..].to_vec();
            cycle.push(next);
            let mut lines = vec![cycle.join(" -> ")];
            for w in cycle.windows(2) {
                let reasons = edges.get(&(w[0].clone(), w[1].clone()));
                let why = match reasons {
                    Some(r) => r.iter().cloned().collect::<Vec<_>>().join("; "),
                    None => "an explicit add_dependency".to_owned(),
                };
                lines.push(format!("  {} depends on {}: {why}", w[0], w[1]));
            }
            lines.push(
                "  fix: move one of these resources so that references go one way, or pass the value as a parameter"
                    .to_owned(),
            );
            return lines.join("\n");
        }
        path.push(next);
    }
}

/// Template sections other than the resources and outputs, still to be assembled.
pub(crate) struct Partial {
    pub(crate) parameters: Vec<(String, Node)>,
    pub(crate) mappings: Vec<(String, Node)>,
    pub(crate) conditions: Vec<(String, Node)>,
    pub(crate) rules: Vec<(String, Node)>,
    pub(crate) metadata: Vec<(String, Node)>,
    pub(crate) resources: Vec<(String, Node)>,
    pub(crate) outputs: Vec<(String, Node)>,
    pub(crate) language_extensions: bool,
}

impl Partial {
    fn into_template(self, inner: &StackInner) -> Node {
        let mut t = vec![(
            "AWSTemplateFormatVersion".to_owned(),
            Node::str("2010-09-09"),
        )];
        if let Some(d) = &inner.description {
            t.push(("Description".to_owned(), Node::str(d.clone())));
        }
        let mut sections = vec![("Metadata", self.metadata)];
        let mut transforms = inner.transforms.clone();
        if self.language_extensions && !transforms.iter().any(|t| t == "AWS::LanguageExtensions") {
            // The language extensions must be processed before any other transform.
            transforms.insert(0, "AWS::LanguageExtensions".to_owned());
        }
        let mut after_transform = vec![
            ("Parameters", self.parameters),
            ("Rules", self.rules),
            ("Mappings", self.mappings),
            ("Conditions", self.conditions),
            ("Resources", self.resources),
            ("Outputs", self.outputs),
        ];
        for (name, entries) in sections.drain(..) {
            if !entries.is_empty() {
                t.push((name.to_owned(), Node::Map(entries)));
            }
        }
        match transforms.len() {
            0 => {}
            1 => t.push(("Transform".to_owned(), Node::str(transforms.remove(0)))),
            _ => t.push((
                "Transform".to_owned(),
                Node::List(transforms.into_iter().map(Node::String).collect()),
            )),
        }
        for (name, entries) in after_transform.drain(..) {
            if !entries.is_empty() {
                t.push((name.to_owned(), Node::Map(entries)));
            }
        }
        Node::Map(t)
    }
}

/// Converts a literal [`Value`] (no intrinsics) to a node; used for metadata of the manifest and tests.
pub fn literal_node(v: &Value) -> Option<Node> {
    Some(match v {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(*b),
        Value::Number(n) => Node::Number(n.clone()),
        Value::String(s) => Node::str(s.clone()),
        Value::List(l) => Node::List(l.iter().map(literal_node).collect::<Option<_>>()?),
        Value::Map(m) => Node::Map(
            m.iter()
                .map(|(k, v)| Some((k.clone(), literal_node(v)?)))
                .collect::<Option<_>>()?,
        ),
        Value::Fn(_) => return None,
    })
}
