//! CloudFormation's hard limits and cross-stack uniqueness, checked at synth so that a deploy does not fail late.

use std::collections::BTreeMap;

use super::{Node, Problem, StackArtifact};

/// Resources per template.
pub const MAX_RESOURCES: usize = 500;
/// Parameters per template.
pub const MAX_PARAMETERS: usize = 200;
/// Outputs per template (exports included).
pub const MAX_OUTPUTS: usize = 200;
/// Mappings per template.
pub const MAX_MAPPINGS: usize = 200;
/// A template passed in the request body.
pub const MAX_BODY_BYTES: usize = 51_200;
/// A template uploaded to S3 first.
pub const MAX_S3_TEMPLATE_BYTES: usize = 1_000_000;
/// A template description.
pub const MAX_DESCRIPTION_BYTES: usize = 1_024;

pub(crate) fn limits(a: &StackArtifact, problems: &mut Vec<Problem>) {
    let count = |section: &str| a.template.get(section).map_or(0, Node::len);
    let checks = [
        (
            "Resources",
            MAX_RESOURCES,
            "split the stack into several stacks",
        ),
        (
            "Parameters",
            MAX_PARAMETERS,
            "combine parameters or use mappings or SSM parameters",
        ),
        (
            "Outputs",
            MAX_OUTPUTS,
            "drop outputs, or split the stack so that fewer values are exported",
        ),
        ("Mappings", MAX_MAPPINGS, "combine mappings"),
    ];
    for (section, max, fix) in checks {
        let n = count(section);
        if n > max {
            problems.push(Problem::new(
                &a.name,
                None,
                format!("has {n} {section}; CloudFormation allows {max}: {fix}"),
            ));
        }
    }
    // CloudFormation refuses such a template ("At least one Resources member must be defined"), as does cfn-lint.
    if count("Resources") == 0 {
        problems.push(Problem::new(
            &a.name,
            None,
            "has no resources, and CloudFormation refuses a template without any: add a resource to the \
             stack, or leave the stack out of the app"
                .to_owned(),
        ));
    }
    if let Some(Node::String(d)) = a.template.get("Description") {
        if d.len() > MAX_DESCRIPTION_BYTES {
            problems.push(Problem::new(
                &a.name,
                None,
                format!(
                    "description is {} bytes; the limit is {MAX_DESCRIPTION_BYTES}: shorten it",
                    d.len()
                ),
            ));
        }
    }
    let size = template_bytes(a);
    if size > MAX_S3_TEMPLATE_BYTES {
        problems.push(Problem::new(
            &a.name,
            None,
            format!("template is {size} bytes; CloudFormation accepts at most {MAX_S3_TEMPLATE_BYTES} even from S3: split the stack"),
        ));
    }
}

/// The size of the template as JSON, which is what limits are measured on.
pub(crate) fn template_bytes(a: &StackArtifact) -> usize {
    a.template.to_json().len()
}

/// Whether the template must be uploaded to S3 to be deployed (over 51,200 bytes).
pub fn requires_s3(a: &StackArtifact) -> bool {
    template_bytes(a) > MAX_BODY_BYTES
}

/// Export names are unique per account and region: two stacks of one app must not export the same name.
pub(crate) fn duplicate_exports(artifacts: &[StackArtifact], problems: &mut Vec<Problem>) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for a in artifacts {
        let outputs = match a.template.get("Outputs") {
            Some(Node::Map(m)) => m.clone(),
            _ => continue,
        };
        for (id, o) in outputs {
            if let Some(Node::String(name)) = o.get("Export").and_then(|e| e.get("Name")) {
                if let Some(other) = seen.insert(name.clone(), format!("{}/{id}", a.name)) {
                    problems.push(Problem::new(
                        &a.name,
                        Some(&id),
                        format!("export name {name:?} is also exported by {other}: export names must be unique in an account and region; rename one"),
                    ));
                }
            }
        }
    }
}
