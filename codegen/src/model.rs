//! Turns one registry schema into the view model the templates render: the resource struct, its nested
//! property structs and enums, its attributes and its handle.
//!
//! Type rules (documented for users in l1/README.md):
//! - `string` -> `String` (an `enum` of strings -> an open enum), `integer` -> `i64`, `number` -> `f64`,
//!   `boolean` -> `bool`, `array` -> `Vec<T>` (`Vec<Json>` without `items`).
//! - `object` with `properties` -> a struct. `object` with only `patternProperties` or an `additionalProperties`
//!   schema -> `BTreeMap<String, T>` (`Json` values when patterns disagree). Other objects -> `Json`.
//! - A list of types: `null` is dropped; `object` with properties wins (the string form is the object as JSON);
//!   a scalar paired with `string` is that scalar (CloudFormation accepts both); anything else -> `Json`.
//! - `oneOf`/`anyOf`/`allOf`: alternatives that only constrain (`required`, `format`) are ignored; object
//!   alternatives' properties are merged into one struct (a property is required only when the node itself
//!   requires it); alternatives of different kinds -> `Json`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value as J;

use crate::markdown;
use crate::naming::{self, Scope};
use crate::placeholder;

/// Where descriptions are wrapped in doc comments.
const DOC_WIDTH: usize = 100;

/// A description (markdown) as doc lines preceded by a blank line, or nothing when there is none.
fn description(text: Option<&J>) -> Vec<String> {
    let lines = text
        .and_then(J::as_str)
        .map(|t| markdown::doc_lines(t, DOC_WIDTH))
        .unwrap_or_default();
    if lines.is_empty() {
        return lines;
    }
    let mut out = vec![String::new()];
    out.extend(lines);
    out
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Json,
    List(Box<Ty>),
    Map(Box<Ty>),
    Struct(String),
    Enum(String),
}

impl Ty {
    pub fn rust(&self) -> String {
        match self {
            Ty::String => "String".into(),
            Ty::Integer => "i64".into(),
            Ty::Number => "f64".into(),
            Ty::Boolean => "bool".into(),
            Ty::Json => "Json".into(),
            Ty::List(t) => format!("Vec<{}>", t.rust()),
            Ty::Map(t) => format!("BTreeMap<String, {}>", t.rust()),
            Ty::Struct(n) | Ty::Enum(n) => n.clone(),
        }
    }
}

#[derive(Serialize, Debug)]
pub struct Field {
    pub name: String,
    pub wire: String,
    pub wire_doc: String,
    pub wire_lit: String,
    pub setter: String,
    /// `set_<name>` for lists and maps, which replaces the whole value.
    pub set_setter: Option<String>,
    pub ty: String,
    pub kind: &'static str,
    pub is_list: bool,
    pub is_map: bool,
    pub item_ty: String,
    pub docs: Vec<String>,
    pub required: bool,
}

#[derive(Serialize, Debug)]
pub struct MinimalField {
    pub name: String,
    pub expr: String,
}

#[derive(Serialize, Debug)]
pub struct StructModel {
    pub name: String,
    /// How `BuildError` names it: `AWS::SQS::Queue` or `AWS::SQS::Queue.RedrivePolicy`.
    pub error_name_lit: String,
    pub builder: String,
    pub docs: Vec<String>,
    pub fields: Vec<Field>,
    pub required: Vec<RequiredField>,
    pub has_required: bool,
    pub minimal: Vec<MinimalField>,
    pub minimal_complete: bool,
    pub minimal_empty: bool,
    /// Struct names this struct's minimal instance builds (to break cycles of required properties).
    #[serde(skip)]
    pub minimal_deps: Vec<(String, String)>,
}

#[derive(Serialize, Debug)]
pub struct RequiredField {
    pub name: String,
    pub wire_lit: String,
    pub setter_lit: String,
}

#[derive(Serialize, Debug)]
pub struct Variant {
    pub name: String,
    pub value_lit: String,
    pub value_doc: String,
}

#[derive(Serialize, Debug)]
pub struct EnumModel {
    pub name: String,
    pub docs: Vec<String>,
    pub variants: Vec<Variant>,
}

#[derive(Serialize, Debug)]
pub struct Attr {
    pub method: String,
    pub name_lit: String,
    pub name_doc: String,
    pub ty: String,
    /// The attribute's description, as doc lines (empty, or a blank line first).
    pub docs: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct ResourceModel {
    pub type_name: String,
    /// The command that regenerates the file (for its @generated header); set by the caller.
    pub regenerate: String,
    pub type_name_lit: String,
    pub service_module: String,
    pub module: String,
    pub schema_path: String,
    pub doc_url: String,
    pub name: String,
    pub builder: String,
    pub handle: String,
    pub tags: Option<String>,
    pub ref_doc: String,
    pub attrs: Vec<Attr>,
    pub resource: StructModel,
    pub structs: Vec<StructModel>,
    pub enums: Vec<EnumModel>,
}

/// A string for a Rust literal (`"..."` with escapes).
pub fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// Inline code in a doc comment, whatever backticks `s` contains.
fn code(s: &str) -> String {
    // Control characters (patterns may contain them raw) are written as escapes.
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect();
    let mut ticks = String::from("`");
    while s.contains(&ticks) {
        ticks.push('`');
    }
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn types_of(node: &J) -> Vec<String> {
    match node.get("type") {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(a)) => a
            .iter()
            .filter_map(|t| t.as_str())
            .filter(|t| *t != "null")
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

struct Ctx<'a> {
    root: &'a J,
    /// The type's descriptions (schemas/docs): `doc`, `properties`, `attributes`, `types`.
    docs: Option<&'a J>,
    type_name: String,
    svc_lower: String,
    res_lower: String,
    names: Scope,
    by_pointer: BTreeMap<String, Ty>,
    in_progress: BTreeSet<String>,
    structs: Vec<StructModel>,
    enums: Vec<EnumModel>,
    /// Enum value lists already generated inline, by name, so that identical inline enums share one type.
    inline_enums: BTreeMap<Vec<String>, String>,
    /// Nested read-only properties to leave out of property types: by the node of the property type.
    read_only_nested: BTreeMap<*const J, BTreeSet<String>>,
}

/// What kind of value a node describes, before names are given.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Scalar(&'static str),
    Array,
    Object,
    Json,
    None,
}

impl<'a> Ctx<'a> {
    fn resolve(&self, pointer: &str) -> Option<&'a J> {
        self.root.pointer(pointer.strip_prefix('#')?)
    }

    /// Follows `$ref`s to the node that holds the content.
    fn deref<'b>(&'b self, node: &'a J) -> &'a J {
        let mut n = node;
        for _ in 0..16 {
            match n
                .get("$ref")
                .and_then(J::as_str)
                .and_then(|p| self.resolve(p))
            {
                Some(t) => n = t,
                None => break,
            }
        }
        n
    }

    /// The alternatives (`oneOf`, `anyOf`, `allOf`) of a node, dereferenced.
    fn alternatives(&self, node: &'a J) -> Vec<&'a J> {
        let mut out = vec![];
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(J::Array(alts)) = node.get(key) {
                out.extend(alts.iter().map(|a| self.deref(a)));
            }
        }
        out
    }

    /// Properties of an object node, merged with its object alternatives' (sorted by name).
    fn merged_properties(&self, node: &'a J) -> BTreeMap<String, &'a J> {
        let mut props = BTreeMap::new();
        self.collect_properties(node, &mut props, 0);
        props
    }

    fn collect_properties(&self, node: &'a J, props: &mut BTreeMap<String, &'a J>, depth: usize) {
        if depth > 8 {
            return;
        }
        if let Some(J::Object(p)) = node.get("properties") {
            for (k, v) in p {
                props.entry(k.clone()).or_insert(v);
            }
        }
        for alt in self.alternatives(node) {
            if matches!(self.kind(alt, depth + 1), Kind::Object | Kind::None) {
                self.collect_properties(alt, props, depth + 1);
            }
        }
    }

    fn kind(&self, node: &'a J, depth: usize) -> Kind {
        let node = self.deref(node);
        if depth > 8 {
            return Kind::Json;
        }
        let types = types_of(node);
        let has_props = !self.merged_properties_shallow(node, depth).is_empty();
        match types.len() {
            0 => {}
            1 => {
                return match types[0].as_str() {
                    "string" => Kind::Scalar("string"),
                    "integer" => Kind::Scalar("integer"),
                    "number" => Kind::Scalar("number"),
                    "boolean" => Kind::Scalar("boolean"),
                    "array" => Kind::Array,
                    "object" => Kind::Object,
                    _ => Kind::Json,
                }
            }
            _ => {
                if types.iter().any(|t| t == "object") && has_props {
                    return Kind::Object;
                }
                if types.iter().any(|t| t == "object" || t == "array") {
                    return Kind::Json;
                }
                let scalars: Vec<&str> = types
                    .iter()
                    .map(String::as_str)
                    .filter(|t| *t != "string")
                    .collect();
                return match scalars.as_slice() {
                    [] => Kind::Scalar("string"),
                    ["integer"] => Kind::Scalar("integer"),
                    ["number"] | ["integer", "number"] | ["number", "integer"] => {
                        Kind::Scalar("number")
                    }
                    ["boolean"] => Kind::Scalar("boolean"),
                    _ => Kind::Json,
                };
            }
        }
        if has_props
            || node.get("patternProperties").is_some()
            || node.get("additionalProperties").is_some_and(J::is_object)
        {
            return Kind::Object;
        }
        if node.get("items").is_some() {
            return Kind::Array;
        }
        if let Some(J::Array(e)) = node.get("enum") {
            if e.iter().all(J::is_string) {
                return Kind::Scalar("string");
            }
        }
        let alts = self.alternatives(node);
        let kinds: BTreeSet<String> = alts
            .iter()
            .map(|a| self.kind(a, depth + 1))
            .filter(|k| *k != Kind::None)
            .map(|k| format!("{k:?}"))
            .collect();
        if kinds.len() == 1 {
            return alts
                .iter()
                .map(|a| self.kind(a, depth + 1))
                .find(|k| *k != Kind::None)
                .unwrap_or(Kind::None);
        }
        if kinds.len() > 1 {
            return Kind::Json;
        }
        if alts.is_empty()
            && node.get("$ref").is_none()
            && node.as_object().is_some_and(|o| {
                o.keys().all(|k| {
                    matches!(
                        k.as_str(),
                        "required"
                            | "format"
                            | "pattern"
                            | "minLength"
                            | "maxLength"
                            | "not"
                            | "$comment"
                            | "dependencies"
                            | "description"
                    )
                })
            })
        {
            return Kind::None;
        }
        Kind::Json
    }

    /// Where each object node is reached from the resource's properties: `["A", "*", "B"]` (`*`: an array's
    /// items or a map's values). A node on a cycle, or beyond the walk's budget, gets `None` (a path that is
    /// not known, so nothing read-only is assumed of it).
    fn reach(
        &self,
        node: &'a J,
        path: &mut Vec<String>,
        stack: &mut Vec<*const J>,
        out: &mut BTreeMap<*const J, Vec<Option<Vec<String>>>>,
        budget: &mut usize,
    ) {
        let node = self.deref(node);
        let key: *const J = node;
        if stack.contains(&key) || *budget == 0 {
            out.entry(key).or_default().push(None);
            return;
        }
        *budget -= 1;
        stack.push(key);
        match self.kind(node, 0) {
            Kind::Object => {
                let props = self.merged_properties(node);
                if !props.is_empty() {
                    out.entry(key).or_default().push(Some(path.clone()));
                }
                for (k, child) in props {
                    path.push(k);
                    self.reach(child, path, stack, out, budget);
                    path.pop();
                }
                let mut values: Vec<&'a J> = vec![];
                if let Some(J::Object(pp)) = node.get("patternProperties") {
                    values.extend(pp.values());
                }
                values.extend(node.get("additionalProperties").filter(|a| a.is_object()));
                for v in values {
                    path.push("*".into());
                    self.reach(v, path, stack, out, budget);
                    path.pop();
                }
            }
            Kind::Array => {
                if let Some(items) = node.get("items").filter(|i| i.is_object()) {
                    path.push("*".into());
                    self.reach(items, path, stack, out, budget);
                    path.pop();
                }
            }
            _ => {}
        }
        stack.pop();
    }

    /// The properties to leave out of each property type: those that `readOnlyProperties` marks read-only
    /// (`/properties/A/B`, `/properties/A/*/B`) on every path by which the type is reached. A property type
    /// reached by another path too, where the property is settable, keeps it (one struct serves both).
    fn nested_read_only(&self, read_only: &[Vec<String>]) -> BTreeMap<*const J, BTreeSet<String>> {
        let nested: BTreeSet<&Vec<String>> = read_only.iter().filter(|p| p.len() > 1).collect();
        let mut out = BTreeMap::new();
        if nested.is_empty() {
            return out;
        }
        let mut reached = BTreeMap::new();
        let mut budget = 50_000;
        let mut path = vec![];
        for (k, child) in self.merged_properties(self.root) {
            path.push(k);
            self.reach(child, &mut path, &mut vec![], &mut reached, &mut budget);
            path.pop();
        }
        for (node, paths) in reached {
            // The pointers are identities of nodes in `self.root`, never dereferenced.
            let Some(paths) = paths.into_iter().collect::<Option<Vec<_>>>() else {
                continue;
            };
            let leaves: BTreeSet<String> = nested
                .iter()
                .filter(|p| {
                    paths
                        .iter()
                        .any(|q| p.starts_with(q) && p.len() == q.len() + 1)
                })
                .map(|p| p[p.len() - 1].clone())
                .filter(|leaf| {
                    paths.iter().all(|q| {
                        let mut full = q.clone();
                        full.push(leaf.clone());
                        nested.contains(&full)
                    })
                })
                .collect();
            if !leaves.is_empty() {
                out.insert(node, leaves);
            }
        }
        out
    }

    fn merged_properties_shallow(&self, node: &'a J, depth: usize) -> BTreeMap<String, &'a J> {
        let mut props = BTreeMap::new();
        if depth < 8 {
            self.collect_properties(node, &mut props, depth);
        }
        props
    }

    /// The Rust type of a node. `hint` names a struct or enum created for it; `pointer` identifies a definition.
    fn ty(&mut self, node: &'a J, hint: &str, owner: &str) -> Ty {
        if let Some(p) = node.get("$ref").and_then(J::as_str) {
            let p = p.to_owned();
            if let Some(t) = self.by_pointer.get(&p) {
                return t.clone();
            }
            let Some(target) = self.resolve(&p) else {
                return Ty::Json;
            };
            if self.in_progress.contains(&p) {
                // A definition that contains itself without a struct in between (an array of itself): untyped.
                return Ty::Json;
            }
            self.in_progress.insert(p.clone());
            let def_name = p.rsplit('/').next().unwrap_or("Property").to_owned();
            let t = self.ty_inner(target, &def_name, "", Some(&p));
            self.in_progress.remove(&p);
            self.by_pointer.insert(p, t.clone());
            return t;
        }
        self.ty_inner(node, hint, owner, None)
    }

    fn ty_inner(&mut self, node: &'a J, hint: &str, owner: &str, pointer: Option<&str>) -> Ty {
        match self.kind(node, 0) {
            Kind::Scalar("string") => match node.get("enum") {
                Some(J::Array(vals)) if !vals.is_empty() && vals.iter().all(J::is_string) => {
                    self.enum_type(node, vals, hint, owner, pointer)
                }
                _ => Ty::String,
            },
            Kind::Scalar("integer") => Ty::Integer,
            Kind::Scalar("number") => Ty::Number,
            Kind::Scalar("boolean") => Ty::Boolean,
            Kind::Scalar(_) | Kind::Json | Kind::None => Ty::Json,
            Kind::Array => match node.get("items") {
                Some(items) if items.is_object() => {
                    let item_hint = if pointer.is_some() {
                        format!("{hint}Item")
                    } else {
                        hint.to_owned()
                    };
                    Ty::List(Box::new(self.ty(items, &item_hint, owner)))
                }
                _ => Ty::List(Box::new(Ty::Json)),
            },
            Kind::Object => {
                let props = self.merged_properties(node);
                if !props.is_empty() {
                    return self.struct_type(node, props, hint, owner, pointer);
                }
                let mut values: Vec<&'a J> = vec![];
                if let Some(J::Object(pp)) = node.get("patternProperties") {
                    values.extend(pp.values());
                }
                if let Some(ap) = node.get("additionalProperties").filter(|a| a.is_object()) {
                    values.push(ap);
                }
                if values.is_empty() {
                    return Ty::Json;
                }
                let value_hint = format!("{hint}Value");
                let tys: Vec<Ty> = values
                    .iter()
                    .map(|v| self.ty(v, &value_hint, owner))
                    .collect();
                if tys.iter().all(|t| *t == tys[0]) {
                    Ty::Map(Box::new(tys[0].clone()))
                } else {
                    Ty::Map(Box::new(Ty::Json))
                }
            }
        }
    }

    fn type_name(&mut self, hint: &str, owner: &str, is_struct: bool) -> String {
        let base = naming::pascal(hint);
        let wanted = if self.names.is_taken(&base) && !owner.is_empty() {
            format!("{owner}{base}")
        } else {
            base
        };
        if !is_struct {
            return self.names.claim(&wanted, "Property");
        }
        // A struct needs `<Name>Builder` free as well.
        let names = &self.names;
        let builder_free = |n: &str| !names.is_taken(&format!("{n}Builder"));
        let name = self
            .names
            .clone()
            .claim_with(&wanted, "Property", builder_free);
        self.names.reserve(&name);
        self.names.reserve(&format!("{name}Builder"));
        name
    }

    fn enum_type(
        &mut self,
        node: &J,
        vals: &[J],
        hint: &str,
        owner: &str,
        pointer: Option<&str>,
    ) -> Ty {
        let values: Vec<String> = vals
            .iter()
            .filter_map(J::as_str)
            .map(str::to_owned)
            .collect();
        if pointer.is_none() {
            if let Some(n) = self.inline_enums.get(&values) {
                if naming::pascal(hint) == *n || n.ends_with(&naming::pascal(hint)) {
                    return Ty::Enum(n.clone());
                }
            }
        }
        let name = self.type_name(hint, owner, false);
        let mut scope = Scope::with_reserved(&["Unknown"]);
        let mut seen = BTreeSet::new();
        let variants = values
            .iter()
            .filter(|v| seen.insert((*v).clone()))
            .map(|v| Variant {
                name: scope.claim(&naming::pascal(v), "Value"),
                value_lit: lit(v),
                value_doc: code(v),
            })
            .collect();
        let mut docs = vec![format!("Values of {}.", code(hint))];
        docs.extend(constraint_docs(node));
        docs.push(String::new());
        docs.push(
            "Open: a value added to CloudFormation after this crate was generated is `Unknown`."
                .into(),
        );
        self.enums.push(EnumModel {
            name: name.clone(),
            docs,
            variants,
        });
        if pointer.is_none() {
            self.inline_enums.insert(values, name.clone());
        }
        Ty::Enum(name)
    }

    fn struct_type(
        &mut self,
        node: &'a J,
        props: BTreeMap<String, &'a J>,
        hint: &str,
        owner: &str,
        pointer: Option<&str>,
    ) -> Ty {
        let mut props = props;
        let key: *const J = self.deref(node);
        if let Some(leaves) = self.read_only_nested.get(&key) {
            props.retain(|k, _| !leaves.contains(k));
        }
        let name = self.type_name(hint, owner, true);
        let ty = Ty::Struct(name.clone());
        if let Some(p) = pointer {
            // Registered before the fields so that a struct may contain itself.
            self.by_pointer.insert(p.to_owned(), ty.clone());
        }
        let url = format!(
            "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-{}-{}-{}.html",
            self.svc_lower,
            self.res_lower,
            hint.to_ascii_lowercase()
        );
        let type_docs = self
            .docs
            .and_then(|d| d.get("types"))
            .and_then(|t| t.get(hint));
        let mut docs = vec![format!("The [{}]({url}) property type.", code(hint))];
        docs.extend(description(type_docs.and_then(|t| t.get("doc"))));
        let required = always_required(node);
        let error_name = format!("{}.{hint}", self.type_name);
        let s = self.build_struct(
            name,
            &error_name,
            docs,
            node,
            props,
            &required,
            &BTreeSet::new(),
            type_docs.and_then(|t| t.get("properties")),
        );
        self.structs.push(s);
        ty
    }

    #[allow(clippy::too_many_arguments)]
    fn build_struct(
        &mut self,
        name: String,
        error_name: &str,
        docs: Vec<String>,
        node: &'a J,
        props: BTreeMap<String, &'a J>,
        required: &BTreeSet<String>,
        create_only: &BTreeSet<String>,
        prop_docs: Option<&'a J>,
    ) -> StructModel {
        let mut fields_scope = Scope::default();
        let mut setters = Scope::with_reserved(&["build"]);
        let mut fields = vec![];
        let mut minimal = vec![];
        let mut minimal_deps = vec![];
        let mut min_required = minimal_required(node, required);
        let min_props = node.get("minProperties").and_then(J::as_u64).unwrap_or(0) as usize;
        if min_required.len() < min_props {
            // The first properties that are not read-only fill `minProperties`.
            min_required.extend(props.keys().take(min_props).cloned());
        }
        let owner = name.clone();
        for (wire, pnode) in &props {
            let ty = self.ty(pnode, wire, &owner);
            let fname = fields_scope.claim(&naming::snake(wire), "_2");
            let setter = setters.claim(&naming::setter(&fname), "_2");
            let (kind, item) = match &ty {
                Ty::List(t) => ("list", t.rust()),
                Ty::Map(t) => ("map", t.rust()),
                _ => ("plain", String::new()),
            };
            let set_setter =
                (kind != "plain").then(|| setters.claim(&format!("set_{fname}"), "_2"));
            let is_required = required.contains(wire);
            let mut fdocs = vec![format!(
                "{}{}{}",
                code(wire),
                if is_required { ": required." } else { "." },
                if create_only.contains(wire) {
                    " Changing it replaces the resource."
                } else {
                    ""
                }
            )];
            fdocs.extend(description(prop_docs.and_then(|d| d.get(wire))));
            let target = self.deref(pnode);
            let cdocs = constraint_docs(target);
            if !cdocs.is_empty() {
                fdocs.push(String::new());
                fdocs.extend(cdocs);
            }
            if min_required.contains(wire) {
                let expr = self.minimal_expr(&ty, target, &mut minimal_deps, &fname, None);
                minimal.push(MinimalField {
                    name: fname.clone(),
                    expr,
                });
            }
            fields.push(Field {
                name: fname,
                wire: wire.clone(),
                wire_doc: code(wire),
                wire_lit: lit(wire),
                setter,
                set_setter,
                ty: ty.rust(),
                kind,
                is_list: kind == "list",
                is_map: kind == "map",
                item_ty: item,
                docs: fdocs,
                required: is_required,
            });
        }
        let required_fields: Vec<RequiredField> = fields
            .iter()
            .filter(|f| f.required)
            .map(|f| RequiredField {
                name: f.name.clone(),
                wire_lit: f.wire_lit.clone(),
                setter_lit: lit(&f.setter),
            })
            .collect();
        StructModel {
            error_name_lit: lit(error_name),
            builder: format!("{name}Builder"),
            name,
            docs,
            has_required: !required_fields.is_empty(),
            required: required_fields,
            minimal_complete: minimal.len() == fields.len(),
            minimal_empty: minimal.is_empty(),
            minimal,
            minimal_deps,
            fields,
        }
    }

    /// A `Val<T>` expression with a plausible value for a required property of type `ty`.
    fn minimal_expr(
        &self,
        ty: &Ty,
        node: &'a J,
        deps: &mut Vec<(String, String)>,
        field: &str,
        list_format: Option<&str>,
    ) -> String {
        let node = self.deref(node);
        let min_props = node.get("minProperties").and_then(J::as_u64).unwrap_or(0);
        match ty {
            Ty::String => format!(
                "Val::<String>::from({})",
                lit(&placeholder_string(node, list_format))
            ),
            Ty::Integer => format!("Val::<i64>::from({}i64)", placeholder_number(node) as i64),
            Ty::Number => format!("Val::<f64>::from({:?}f64)", placeholder_number(node)),
            Ty::Boolean => "Val::<bool>::from(false)".into(),
            Ty::Enum(n) => {
                let first = node
                    .get("enum")
                    .and_then(|e| e.get(0))
                    .and_then(J::as_str)
                    .unwrap_or_default();
                format!("Val::<{n}>::from({n}::from({}))", lit(first))
            }
            Ty::Struct(n) => {
                deps.push((n.clone(), field.to_owned()));
                format!("Val::<{n}>::from({n}::minimal())")
            }
            Ty::Json => {
                let types = types_of(node);
                if min_props > 0 {
                    "Val::<Json>::from_raw(Value::Map(BTreeMap::from([(\"key\".to_owned(), Value::from(\"placeholder\"))])))".into()
                } else if types.is_empty() || types.iter().any(|t| t == "object") {
                    "Val::<Json>::from_raw(Value::Map(BTreeMap::new()))".into()
                } else if types.iter().any(|t| t == "array") {
                    "Val::<Json>::from_raw(Value::List(vec![]))".into()
                } else {
                    "Val::<Json>::from_raw(Value::from(\"placeholder\"))".into()
                }
            }
            Ty::List(item) => {
                let items = node.get("items").unwrap_or(&J::Null);
                let item_format = node.get("format").and_then(J::as_str);
                let inner = self.minimal_expr(item, items, deps, field, item_format);
                let n = node
                    .get("minItems")
                    .and_then(J::as_u64)
                    .unwrap_or(1)
                    .clamp(1, 16) as usize;
                format!(
                    "Val::<{}>::from(vec![{}])",
                    ty.rust(),
                    vec![inner; n].join(", ")
                )
            }
            Ty::Map(value) if min_props > 0 => {
                let (key, vnode) = match node
                    .get("patternProperties")
                    .and_then(J::as_object)
                    .and_then(|m| m.iter().next())
                {
                    Some((pat, v)) => (
                        placeholder::for_pattern(pat)
                            .filter(|k| !k.is_empty())
                            .unwrap_or("key".into()),
                        v,
                    ),
                    None => (
                        "key".into(),
                        node.get("additionalProperties").unwrap_or(&J::Null),
                    ),
                };
                let inner = self.minimal_expr(value, vnode, deps, field, None);
                format!(
                    "Val::<{}>::from(BTreeMap::from([({}, {inner})]))",
                    ty.rust(),
                    lit(&key)
                )
            }
            Ty::Map(_) => format!("Val::<{}>::default()", ty.rust()),
        }
    }
}

fn required_of(node: &J) -> BTreeSet<String> {
    match node.get("required") {
        Some(J::Array(r)) => r.iter().filter_map(J::as_str).map(str::to_owned).collect(),
        _ => BTreeSet::new(),
    }
}

/// Properties that must always be set: `required`, and the `required` of every `allOf` part.
fn always_required(node: &J) -> BTreeSet<String> {
    let mut out = required_of(node);
    if let Some(J::Array(parts)) = node.get("allOf") {
        for p in parts {
            out.extend(always_required(p));
        }
    }
    out
}

/// The properties a minimal instance sets: the required ones (including those of `allOf` parts), plus the
/// first alternative of each `oneOf`/`anyOf` not already satisfied and of a `requiredXor`: cfn-lint enforces them.
fn minimal_required(node: &J, required: &BTreeSet<String>) -> BTreeSet<String> {
    fn walk(node: &J, out: &mut BTreeSet<String>, depth: usize) {
        if depth > 6 {
            return;
        }
        out.extend(required_of(node));
        if let Some(J::Array(parts)) = node.get("allOf") {
            parts.iter().for_each(|p| walk(p, out, depth + 1));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(J::Array(alts)) = node.get(key) {
                let satisfied = alts.iter().any(|a| {
                    let mut r = BTreeSet::new();
                    walk(a, &mut r, depth + 1);
                    r.is_subset(out)
                });
                if !satisfied {
                    if let Some(first) = alts.first() {
                        walk(first, out, depth + 1);
                    }
                }
            }
        }
        if let Some(J::Array(x)) = node.get("requiredXor") {
            if !x.iter().filter_map(J::as_str).any(|p| out.contains(p)) {
                if let Some(first) = x.first().and_then(J::as_str) {
                    out.insert(first.to_owned());
                }
            }
        }
    }
    let mut out = required.clone();
    walk(node, &mut out, 0);
    out
}

fn placeholder_string(node: &J, list_format: Option<&str>) -> String {
    if let Some(first) = node.get("enum").and_then(|e| e.get(0)).and_then(J::as_str) {
        return first.to_owned();
    }
    let min = node.get("minLength").and_then(J::as_u64).unwrap_or(0) as usize;
    let max = node
        .get("maxLength")
        .and_then(J::as_u64)
        .map_or(usize::MAX, |m| m as usize);
    let fits = |s: &str| (min..=max).contains(&s.chars().count());
    // A format of the node or of its first alternative (`KmsMasterKeyId`: a key ARN, key ID or alias).
    let mut formats: Vec<&str> = node.get("format").and_then(J::as_str).into_iter().collect();
    formats.extend(list_format);
    for key in ["anyOf", "oneOf"] {
        if let Some(J::Array(alts)) = node.get(key) {
            formats.extend(
                alts.iter()
                    .filter_map(|a| a.get("format").and_then(J::as_str)),
            );
        }
    }
    if let Some(v) = formats
        .iter()
        .find_map(|f| placeholder::for_format(f))
        .filter(|v| fits(v))
    {
        return v.to_owned();
    }
    if let Some(v) = node
        .get("pattern")
        .and_then(J::as_str)
        .and_then(placeholder::for_pattern)
        .filter(|v| fits(v))
    {
        return v;
    }
    let mut s = String::from("placeholder");
    while s.len() < min {
        s.push('x');
    }
    s.truncate(max.max(1));
    s
}

fn placeholder_number(node: &J) -> f64 {
    if let Some(first) = node.get("enum").and_then(|e| e.get(0)).and_then(J::as_f64) {
        return first;
    }
    if let Some(m) = node.get("minimum").and_then(J::as_f64) {
        return m;
    }
    if let Some(m) = node.get("exclusiveMinimum").and_then(J::as_f64) {
        return m + 1.0;
    }
    match node.get("maximum").and_then(J::as_f64) {
        Some(m) if m < 1.0 => m,
        _ => 1.0,
    }
}

fn constraint_docs(node: &J) -> Vec<String> {
    let mut out = vec![];
    let num = |k: &str| node.get(k).and_then(|v| v.as_f64().map(|_| v.to_string()));
    if let Some(J::Array(e)) = node.get("enum") {
        if !e.is_empty() && !e.iter().all(J::is_string) {
            let vals: Vec<String> = e.iter().map(|v| code(&v.to_string())).collect();
            out.push(format!("Allowed values: {}.", vals.join(", ")));
        }
    }
    match (num("minLength"), num("maxLength")) {
        (Some(a), Some(b)) => out.push(format!("Length: {a} to {b}.")),
        (Some(a), None) => out.push(format!("Length: at least {a}.")),
        (None, Some(b)) => out.push(format!("Length: at most {b}.")),
        _ => {}
    }
    match (num("minimum"), num("maximum")) {
        (Some(a), Some(b)) => out.push(format!("Range: {a} to {b}.")),
        (Some(a), None) => out.push(format!("Minimum: {a}.")),
        (None, Some(b)) => out.push(format!("Maximum: {b}.")),
        _ => {}
    }
    match (num("minItems"), num("maxItems")) {
        (Some(a), Some(b)) => out.push(format!("Items: {a} to {b}.")),
        (Some(a), None) => out.push(format!("Items: at least {a}.")),
        (None, Some(b)) => out.push(format!("Items: at most {b}.")),
        _ => {}
    }
    if let Some(p) = node.get("pattern").and_then(J::as_str) {
        out.push(format!("Pattern: {}.", code(p)));
    }
    if let Some(f) = node.get("format").and_then(J::as_str) {
        out.push(format!("Format: {}.", code(f)));
    }
    out.into_iter().map(|l| format!("- {l}")).collect()
}

/// The schema's parts a resource needs: `/properties/A/B` pointers become `["A", "B"]`.
fn pointer_paths(schema: &J, key: &str) -> Vec<Vec<String>> {
    match schema.get(key) {
        Some(J::Array(a)) => a
            .iter()
            .filter_map(J::as_str)
            .filter_map(|p| p.strip_prefix("/properties/"))
            .map(|p| p.split('/').map(str::to_owned).collect())
            .collect(),
        _ => vec![],
    }
}

/// Builds the model of one resource type.
///
/// `siblings` are the Rust names of the other resource types of the service: a builder or handle name that
/// would clash with one (`WaitCondition` + `Handle` vs `AWS::CloudFormation::WaitConditionHandle`) gets
/// `Resource` inserted (`WaitConditionResourceHandle`).
///
/// `docs` are the type's descriptions (an entry of schemas/docs/*.json), when there are some.
pub fn resource(
    schema: &J,
    schema_path: &str,
    siblings: &BTreeSet<String>,
    docs: Option<&J>,
) -> Result<ResourceModel, String> {
    let type_name = schema
        .get("typeName")
        .and_then(J::as_str)
        .ok_or("schema without typeName")?
        .to_owned();
    let parts: Vec<&str> = type_name.split("::").collect();
    let [ns, svc, res] = parts.as_slice() else {
        return Err(format!("odd type name {type_name}"));
    };
    let service_module = naming::service_module(ns, svc);
    let module = naming::snake(res);
    let name = naming::pascal(res);
    let mut ctx = Ctx {
        root: schema,
        docs,
        type_name: type_name.clone(),
        svc_lower: if *ns == "AWS" {
            svc.to_ascii_lowercase()
        } else {
            format!("{}-{}", ns, svc).to_ascii_lowercase()
        },
        res_lower: res.to_ascii_lowercase(),
        names: Scope::with_reserved(naming::RESERVED_TYPES),
        by_pointer: BTreeMap::new(),
        in_progress: BTreeSet::new(),
        structs: vec![],
        enums: vec![],
        inline_enums: BTreeMap::new(),
        read_only_nested: BTreeMap::new(),
    };
    let name = ctx.names.claim(&name, "Resource");
    let suffixed = |suffix: &str| {
        let plain = format!("{name}{suffix}");
        if siblings.contains(&plain) {
            format!("{name}Resource{suffix}")
        } else {
            plain
        }
    };
    let builder = suffixed("Builder");
    let handle = suffixed("Handle");

    ctx.names.reserve(&builder);
    ctx.names.reserve(&handle);

    let read_only = pointer_paths(schema, "readOnlyProperties");
    ctx.read_only_nested = ctx.nested_read_only(&read_only);
    let read_only_top: BTreeSet<String> = read_only
        .iter()
        .filter(|p| p.len() == 1)
        .map(|p| p[0].clone())
        .collect();
    let create_only: BTreeSet<String> = pointer_paths(schema, "createOnlyProperties")
        .into_iter()
        .filter(|p| p.len() == 1)
        .map(|p| p[0].clone())
        .collect();
    let props: BTreeMap<String, &J> = ctx
        .merged_properties(schema)
        .into_iter()
        .filter(|(k, _)| !read_only_top.contains(k))
        .collect();
    let required = always_required(schema);
    let svc_lower = ctx.svc_lower.clone();
    let doc_url = format!(
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-{svc_lower}-{}.html",
        res.to_ascii_lowercase()
    );
    let mut docs = vec![format!(
        "The [{}]({doc_url}) resource type.",
        code(&type_name)
    )];
    docs.extend(description(ctx.docs.and_then(|d| d.get("doc"))));
    docs.push(String::new());
    docs.push(format!(
        "Build it with [`{name}::builder`]; adding it to a stack returns a [`{handle}`]."
    ));
    let mut resource = ctx.build_struct(
        name.clone(),
        &type_name,
        docs,
        schema,
        props,
        &required,
        &create_only,
        ctx.docs.and_then(|d| d.get("properties")),
    );
    resource.builder = builder.clone();

    // Attributes: read-only properties, nested ones joined with `.` as Fn::GetAtt expects.
    let mut methods = Scope::with_reserved(&["resource", "resource_mut"]);
    let mut attrs = vec![];
    for path in &read_only {
        if path.iter().any(|s| s == "*") {
            continue;
        }
        let ty = attr_type(&ctx, schema, path);
        let get_att = path.join(".");
        attrs.push(Attr {
            method: methods.claim(&format!("attr_{}", naming::snake(&path.join("_"))), "_2"),
            name_lit: lit(&get_att),
            name_doc: code(&get_att),
            ty,
            docs: description(
                ctx.docs
                    .and_then(|d| d.get("attributes"))
                    .and_then(|a| a.get(&get_att)),
            ),
        });
    }

    let primary = pointer_paths(schema, "primaryIdentifier");
    let ref_doc = match primary.as_slice() {
        [one] => format!("`Ref` returns the {}.", code(&one.join("."))),
        [] => "`Ref` returns the resource's physical ID.".into(),
        many => format!(
            "`Ref` returns the primary identifier, made of {} (for most such types, joined with `|`).",
            many.iter().map(|p| code(&p.join("."))).collect::<Vec<_>>().join(", ")
        ),
    };

    let tags = tag_format(schema, &resource);

    let mut structs = std::mem::take(&mut ctx.structs);
    let enums = std::mem::take(&mut ctx.enums);
    break_minimal_cycles(&mut resource, &mut structs);
    structs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut enums = enums;
    enums.sort_by(|a, b| a.name.cmp(&b.name));

    Ok(ResourceModel {
        regenerate: String::new(),
        type_name_lit: lit(&type_name),
        type_name,
        service_module,
        module,
        schema_path: schema_path.to_owned(),
        doc_url,
        builder,
        handle,
        name,
        tags,
        ref_doc,
        attrs,
        resource,
        structs,
        enums,
    })
}

fn attr_type(ctx: &Ctx, schema: &J, path: &[String]) -> String {
    let mut node = schema;
    for seg in path {
        let n = ctx.deref(node);
        match ctx.merged_properties(n).get(seg) {
            Some(child) => node = child,
            None => return "Json".into(),
        }
    }
    let node = ctx.deref(node);
    let scalar = |n: &J| match ctx.kind(n, 0) {
        Kind::Scalar("string") => Some("String"),
        Kind::Scalar("integer") => Some("i64"),
        Kind::Scalar("number") => Some("f64"),
        Kind::Scalar("boolean") => Some("bool"),
        _ => None,
    };
    if let Some(s) = scalar(node) {
        return s.into();
    }
    if ctx.kind(node, 0) == Kind::Array {
        if let Some(s) = node.get("items").map(|i| ctx.deref(i)).and_then(scalar) {
            return format!("Vec<{s}>");
        }
    }
    "Json".into()
}

fn tag_format(schema: &J, resource: &StructModel) -> Option<String> {
    let tagging = schema.get("tagging");
    let taggable = tagging
        .and_then(|t| t.get("taggable"))
        .or_else(|| schema.get("taggable"))
        .and_then(J::as_bool)
        .unwrap_or(false);
    if !taggable {
        return None;
    }
    let prop = tagging
        .and_then(|t| t.get("tagProperty"))
        .and_then(J::as_str)
        .unwrap_or("/properties/Tags")
        .strip_prefix("/properties/")?
        .to_owned();
    if prop.contains('/') {
        return None;
    }
    let field = resource.fields.iter().find(|f| f.wire == prop)?;
    let style = match field.kind {
        "list" => "List",
        "map" => "Map",
        _ => return None,
    };
    Some(format!(
        "TagFormat {{ property: {}, style: TagStyle::{style} }}",
        lit(&prop)
    ))
}

/// Drops required struct fields from minimal instances where they would recurse forever.
fn break_minimal_cycles(resource: &mut StructModel, structs: &mut [StructModel]) {
    let index: BTreeMap<String, usize> = structs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    // Depth-first from each struct; an edge to a struct on the stack is dropped.
    fn visit(
        i: usize,
        structs: &mut [StructModel],
        index: &BTreeMap<String, usize>,
        stack: &mut Vec<usize>,
        done: &mut BTreeSet<usize>,
    ) {
        if done.contains(&i) {
            return;
        }
        stack.push(i);
        let deps = structs[i].minimal_deps.clone();
        for (dep, field) in deps {
            let Some(&j) = index.get(&dep) else { continue };
            if stack.contains(&j) {
                let s = &mut structs[i];
                s.minimal.retain(|m| m.name != field);
                s.minimal_deps.retain(|d| d.1 != field);
                s.minimal_complete = s.minimal.len() == s.fields.len();
                s.minimal_empty = s.minimal.is_empty();
            } else {
                visit(j, structs, index, stack, done);
            }
        }
        stack.pop();
        done.insert(i);
    }
    let mut done = BTreeSet::new();
    for i in 0..structs.len() {
        visit(i, structs, &index, &mut vec![], &mut done);
    }
    let _ = resource;
}
