//! `--express`: CloudFormation's express mode (`DeploymentConfig` mode EXPRESS) for deploy, destroy and
//! bootstrap. An operation completes once CloudFormation has applied each resource's configuration, without
//! waiting for the resources to be ready to serve, which makes development deploys several times faster.
//!
//! It is refused, before anything changes, for a stack with custom resources (they are done only when their
//! handler answers, which express mode does not shorten) or StackSets (their instances deploy in other accounts
//! and regions, outside the stack's operation), as issue #15 asks.

use serde_json::Value;

use crate::error::DeployError;

/// `Custom::*` types, and the generic one.
const CUSTOM_RESOURCE: &str = "AWS::CloudFormation::CustomResource";
/// The type `cfnkit::constructs::cloudformation::StackSet` writes.
const STACK_SET: &str = <cfnkit::l1::cloudformation::StackSet as cfnkit::Resource>::TYPE_NAME;

/// Refuses `--express` for `stack` when its template (the new one for a deploy, the deployed one for a destroy)
/// has custom resources or StackSets, naming them.
pub fn check(stack: &str, template: &Value) -> Result<(), DeployError> {
    let mut custom = Vec::new();
    let mut stack_sets = Vec::new();
    for (id, resource) in template["Resources"].as_object().into_iter().flatten() {
        match resource.get("Type").and_then(Value::as_str) {
            Some(t) if t == CUSTOM_RESOURCE || t.starts_with("Custom::") => {
                custom.push(format!("{id} ({t})"))
            }
            Some(STACK_SET) => stack_sets.push(id.clone()),
            _ => {}
        }
    }
    let mut why = Vec::new();
    if !custom.is_empty() {
        why.push(format!(
            "custom resources ({}), which are done only when their handler answers",
            custom.join(", ")
        ));
    }
    if !stack_sets.is_empty() {
        why.push(format!(
            "StackSets ({}), whose instances deploy outside this stack's operation",
            stack_sets.join(", ")
        ));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(DeployError::ExpressNotApplicable {
            stack: stack.into(),
            why: why.join(" and "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn custom_resources_and_stack_sets_are_refused_by_name() {
        let plain = json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}});
        assert!(check("Api", &plain).is_ok());
        let mixed = json!({"Resources": {
            "Seed": {"Type": "Custom::Seed"},
            "Hook": {"Type": "AWS::CloudFormation::CustomResource"},
            "Everywhere": {"Type": "AWS::CloudFormation::StackSet"},
        }});
        assert_eq!(
            check("Api", &mixed).unwrap_err().to_string(),
            "--express does not apply to stack Api: it has custom resources (Hook \
             (AWS::CloudFormation::CustomResource), Seed (Custom::Seed)), which are done only when their handler \
             answers and StackSets (Everywhere), whose instances deploy outside this stack's operation; deploy it \
             without --express"
        );
    }

    /// What the StackSet construct writes is recognized, not only the literal type name.
    #[test]
    fn the_stack_set_construct_is_refused() {
        use cfnkit::constructs::cloudformation::{StackSet, StackSetProps, StackSetTargets};
        let inner = cfnkit::App::new();
        let template = inner.stack("AccountBaseline");
        template.add_raw(
            "Logs",
            cfnkit::RawResource::new("AWS::Logs::LogGroup").prop("RetentionInDays", 365),
        );
        let app = cfnkit::App::new();
        StackSet::new(
            &app.stack("Org"),
            "Baseline",
            &template,
            StackSetProps {
                targets: StackSetTargets::organizational_units(["ou-ab12-34cd56ef"]),
                regions: vec!["eu-west-1".into()],
                ..Default::default()
            },
        )
        .unwrap();
        let assembly = cfnkit::synth::synth(&app).unwrap();
        let template: Value = serde_json::from_str(&assembly.stacks[0].template.to_json()).unwrap();
        let e = check("Org", &template).unwrap_err().to_string();
        assert!(e.contains("StackSets (Baseline)"), "{e}");
    }
}
