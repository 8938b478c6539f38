//! The rendered template: an ordered tree in which intrinsic functions stay marked, so that the same tree prints
//! as JSON (`{"Ref": "X"}`) and as YAML with CloudFormation's short-form tags (`!Ref X`).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// A node of a rendered template. Maps keep the order they were built in; synth builds them in a fixed order.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, printed as written.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Node>),
    /// A map, its entries in the order synth put them in (not sorted: `Type` comes before `Properties`).
    Map(Vec<(String, Node)>),
    /// An intrinsic function: its CloudFormation name (`Ref`, `Fn::GetAtt`, `Condition`) and its argument.
    Fn(&'static str, Box<Node>),
}

impl Node {
    /// A string node.
    pub fn str(s: impl Into<String>) -> Node {
        Node::String(s.into())
    }
    /// An intrinsic function node: `name` (`Fn::Join`) applied to `arg`.
    pub fn func(name: &'static str, arg: Node) -> Node {
        Node::Fn(name, Box::new(arg))
    }
    /// The value at `key` of a map node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// The value at `key` of a map node, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(m) => m.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    /// Sets `key` of a map node, keeping its position if present, else appending.
    pub fn set(&mut self, key: &str, value: Node) {
        if let Node::Map(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => m.push((key.to_owned(), value)),
            }
        }
    }
    /// Removes `key` from a map node.
    pub fn remove(&mut self, key: &str) {
        if let Node::Map(m) = self {
            m.retain(|(k, _)| k != key);
        }
    }
    /// Number of entries of a map or list node (0 for anything else).
    pub fn len(&self) -> usize {
        match self {
            Node::Map(m) => m.len(),
            Node::List(l) => l.len(),
            _ => 0,
        }
    }
    /// Whether [`Node::len`] is 0: an empty map or list, or any other node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pretty JSON with two-space indentation and a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a Node always serializes");
        s.push('\n');
        s
    }

    /// YAML with CloudFormation's short-form tags (`!Ref X`, `!GetAtt X.Arn`), block style, two-space indents.
    ///
    /// A small emitter of our own rather than serde_yaml's: CloudFormation reads YAML 1.1, where `yes`, `on`, `0755`
    /// and `1:30` are not strings, and serde_yaml (YAML 1.2) leaves some of those unquoted.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        match self {
            Node::Map(m) if !m.is_empty() => yaml::map(&mut out, m, 0),
            Node::List(l) if !l.is_empty() => yaml::list(&mut out, l, 0),
            other => {
                yaml::inline(&mut out, other, true);
                out.push('\n');
            }
        }
        out
    }
}

mod yaml {
    use super::Node;

    fn indent(out: &mut String, n: usize) {
        out.extend(std::iter::repeat_n(' ', n));
    }

    pub(super) fn map(out: &mut String, m: &[(String, Node)], at: usize) {
        for (k, v) in m {
            indent(out, at);
            scalar(out, k);
            out.push(':');
            value_after_key(out, v, at);
        }
    }

    pub(super) fn list(out: &mut String, l: &[Node], at: usize) {
        for v in l {
            indent(out, at);
            out.push('-');
            match v {
                // A map in a list starts on the dash's line: `- Key: a`.
                Node::Map(m) if !m.is_empty() => {
                    out.push(' ');
                    let mut first = String::new();
                    map(&mut first, m, at + 2);
                    out.push_str(&first[at + 2..]);
                }
                Node::List(l) if !l.is_empty() => {
                    out.push(' ');
                    let mut first = String::new();
                    list(&mut first, l, at + 2);
                    out.push_str(&first[at + 2..]);
                }
                _ => value_after_key(out, v, at),
            }
        }
    }

    /// Writes a value after `key:` or `-`: inline for scalars, on the next lines for collections.
    fn value_after_key(out: &mut String, v: &Node, at: usize) {
        match v {
            Node::Map(m) if !m.is_empty() => {
                out.push('\n');
                map(out, m, at + 2);
            }
            Node::List(l) if !l.is_empty() => {
                out.push('\n');
                list(out, l, at + 2);
            }
            Node::Fn(name, arg) => {
                out.push(' ');
                function(out, name, arg, at);
            }
            _ => {
                out.push(' ');
                inline(out, v, true);
                out.push('\n');
            }
        }
    }

    fn function(out: &mut String, name: &str, arg: &Node, at: usize) {
        // CloudFormation refuses `!GetStackOutput` around short-form functions (its `RoleArn` is an `!Sub`), so
        // it is always written long-form.
        if name == "Fn::GetStackOutput" {
            // No trailing space after the `key:` or `-` the caller wrote.
            if out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            indent(out, at + 2);
            out.push_str(name);
            out.push(':');
            value_after_key(out, arg, at + 2);
            return;
        }
        out.push('!');
        out.push_str(name.strip_prefix("Fn::").unwrap_or(name));
        match (name, arg) {
            // `!GetAtt Resource.Attribute` is the idiomatic short form.
            ("Fn::GetAtt", Node::List(parts))
                if matches!(parts.as_slice(), [Node::String(_), Node::String(_)]) =>
            {
                if let [Node::String(id), Node::String(attr)] = parts.as_slice() {
                    out.push(' ');
                    scalar(out, &format!("{id}.{attr}"));
                    out.push('\n');
                }
            }
            // A YAML node carries one tag, so `!Base64 !Sub x` is not valid: the inner function stays long-form.
            (_, Node::Fn(inner, inner_arg)) => {
                out.push('\n');
                indent(out, at + 2);
                out.push_str(inner);
                out.push(':');
                value_after_key(out, inner_arg, at + 2);
            }
            _ => value_after_key(out, arg, at),
        }
    }

    pub(super) fn inline(out: &mut String, v: &Node, _top: bool) {
        match v {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Number(n) => out.push_str(&n.to_string()),
            Node::String(s) => scalar(out, s),
            Node::List(_) => out.push_str("[]"),
            Node::Map(_) => out.push_str("{}"),
            Node::Fn(..) => unreachable!("functions are written by `function`"),
        }
    }

    /// Writes a string plain when YAML 1.1 and 1.2 both read it back as that string, quoted otherwise.
    pub(super) fn scalar(out: &mut String, s: &str) {
        if is_plain_safe(s) {
            out.push_str(s);
        } else if s.chars().all(|c| !c.is_control()) {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        } else {
            // A JSON string is a valid YAML double-quoted scalar.
            out.push_str(&serde_json::to_string(s).expect("strings serialize"));
        }
    }

    const SPECIAL_WORDS: [&str; 26] = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "=", "<<", ".inf",
        ".nan", "-.inf", "+.inf", "Y", "N", "NULL", "Null", "TRUE", "FALSE", "True", "False",
        "YES", "NO",
    ];

    fn is_plain_safe(s: &str) -> bool {
        let Some(first) = s.chars().next() else {
            return false;
        };
        let lower = s.to_ascii_lowercase();
        !(SPECIAL_WORDS.contains(&s)
            || ["yes", "no", "on", "off", "true", "false", "null", ".inf", ".nan"].contains(&lower.as_str())
            // Numbers, dates and base-60 numbers of YAML 1.1 all start with a digit, a sign or a dot.
            || first.is_ascii_digit()
            || (matches!(first, '+' | '-' | '.') && s.len() > 1)
            || "-?:,[]{}#&*!|>'\"%@`".contains(first)
            || s.starts_with(' ')
            || s.ends_with(' ')
            || s.ends_with(':')
            || s.contains(": ")
            || s.contains(" #")
            || s.chars().any(|c| c.is_control()))
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::String(v) => s.serialize_str(v),
            Node::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for n in l {
                    seq.serialize_element(n)?;
                }
                seq.end()
            }
            Node::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Node::Fn(name, arg) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(name, arg)?;
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Node {
        Node::Map(vec![
            ("Ref".into(), Node::func("Ref", Node::str("Queue"))),
            (
                "Arn".into(),
                Node::func(
                    "Fn::GetAtt",
                    Node::List(vec![Node::str("Queue"), Node::str("Arn")]),
                ),
            ),
            (
                "UserData".into(),
                Node::func(
                    "Fn::Base64",
                    Node::func("Fn::Sub", Node::str("echo ${AWS::Region}")),
                ),
            ),
            (
                "Joined".into(),
                Node::func(
                    "Fn::Join",
                    Node::List(vec![Node::str(","), Node::List(vec![Node::str("a")])]),
                ),
            ),
            ("Cond".into(), Node::func("Condition", Node::str("IsProd"))),
            ("Yes".into(), Node::str("yes")),
        ])
    }

    #[test]
    fn yaml_uses_short_form_tags() {
        insta::assert_snapshot!(sample().to_yaml(), @r"
        Ref: !Ref Queue
        Arn: !GetAtt Queue.Arn
        UserData: !Base64
          Fn::Sub: echo ${AWS::Region}
        Joined: !Join
          - ','
          - - a
        Cond: !Condition IsProd
        'Yes': 'yes'
        ");
    }

    #[test]
    fn yaml_writes_get_stack_output_long_form_around_short_forms() {
        let role = Node::func("Fn::Sub", Node::str("arn:${AWS::Partition}:iam::1:role/r"));
        let read = Node::func(
            "Fn::GetStackOutput",
            Node::Map(vec![
                ("StackName".into(), Node::str("Base")),
                ("OutputName".into(), Node::str("OutputKeyArn")),
                ("RoleArn".into(), role),
            ]),
        );
        let n = Node::Map(vec![
            ("Value".into(), read.clone()),
            ("List".into(), Node::List(vec![read])),
        ]);
        let yaml = n.to_yaml();
        assert_eq!(
            yaml,
            "Value:\n  Fn::GetStackOutput:\n    StackName: Base\n    OutputName: OutputKeyArn\n    RoleArn: !Sub \
             arn:${AWS::Partition}:iam::1:role/r\nList:\n  -\n    Fn::GetStackOutput:\n      StackName: Base\n      \
             OutputName: OutputKeyArn\n      RoleArn: !Sub arn:${AWS::Partition}:iam::1:role/r\n"
        );
        assert_eq!(
            long_form(serde_yaml::from_str(&yaml).unwrap()),
            serde_json::to_value(&n).unwrap()
        );
    }

    /// Reads short-form YAML back into long-form JSON, as CloudFormation does.
    fn long_form(y: serde_yaml::Value) -> serde_json::Value {
        use serde_yaml::Value as Y;
        match y {
            Y::Tagged(t) => {
                let name = t.tag.to_string();
                let name = name.trim_start_matches('!');
                let arg = long_form(t.value);
                let (key, arg) = match (name, arg) {
                    ("Ref" | "Condition", a) => (name.to_owned(), a),
                    ("GetAtt", serde_json::Value::String(s)) => {
                        let (id, attr) = s.split_once('.').unwrap();
                        ("Fn::GetAtt".to_owned(), serde_json::json!([id, attr]))
                    }
                    (n, a) => (format!("Fn::{n}"), a),
                };
                serde_json::json!({ key: arg })
            }
            Y::Mapping(m) => serde_json::Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k.as_str().unwrap().to_owned(), long_form(v)))
                    .collect(),
            ),
            Y::Sequence(s) => serde_json::Value::Array(s.into_iter().map(long_form).collect()),
            other => serde_json::to_value(other).unwrap(),
        }
    }

    #[test]
    fn yaml_reads_back_as_the_json_template() {
        let tricky = [
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "0755",
            "1:30",
            "2010-09-09",
            "-1",
            ".5",
            "*",
            "a: b",
            "a #b",
            "'q'",
            "\"dq\"",
            "multi\nline",
            " lead",
            "trail ",
            "",
            "~",
            "null",
            "{x}",
            "[x]",
            "!Ref",
            "&a",
            "arn:aws:s3:::b/*",
            "${AWS::Region}",
            "- item",
            "%x",
            "@x",
            "`x",
            "x:",
            "tab\tin",
        ];
        let mut entries: Vec<(String, Node)> = tricky
            .iter()
            .map(|s| ((*s).to_owned(), Node::str(*s)))
            .collect();
        entries.push(("nested".into(), sample()));
        entries.push((
            "list".into(),
            Node::List(vec![
                sample(),
                Node::List(vec![]),
                Node::Map(vec![]),
                Node::Number(3.into()),
            ]),
        ));
        entries.push((
            "fnlist".into(),
            Node::List(vec![
                Node::func("Ref", Node::str("A")),
                Node::func(
                    "Fn::Join",
                    Node::List(vec![Node::str(""), Node::List(vec![Node::str("x")])]),
                ),
            ]),
        ));
        let tree = Node::Map(entries);
        let yaml = tree.to_yaml();
        let parsed: serde_yaml::Value =
            serde_yaml::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let json: serde_json::Value = serde_json::from_str(&tree.to_json()).unwrap();
        assert_eq!(long_form(parsed), json, "{yaml}");
        for s in ["yes", "No", "on", "OFF", "y", "0755", "1:30", "2010-09-09"] {
            assert!(
                !yaml.contains(&format!("\n{s}: {s}\n")),
                "{s} must be quoted:\n{yaml}"
            );
        }
    }

    #[test]
    fn json_keeps_long_form_and_order() {
        let json = sample().to_json();
        assert!(
            json.starts_with("{\n  \"Ref\": {\n    \"Ref\": \"Queue\"\n  },\n  \"Arn\""),
            "{json}"
        );
        assert!(json.contains("\"Fn::Base64\": {\n      \"Fn::Sub\""));
        assert!(json.ends_with("}\n"));
    }
}
