//! Approval of a deploy's changes (`--require-approval`, as CDK's): what broadens permissions, or any change, is
//! shown and needs a yes on a terminal, once for the whole deploy; without a terminal the deploy is refused.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use console::style;

use super::RequireApproval;
use crate::commands::ask;
use crate::diff;
use crate::error::DeployError;
use crate::security::{self, SecurityDiff};

/// A parameter whose value a deploy changes on a deployed stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterChange {
    pub key: String,
    /// `None`: the deployed stack has no value for it (the template adds the parameter).
    pub deployed: Option<String>,
    pub new: String,
    /// `NoEcho`: the values are not shown (CloudFormation reports the deployed one as `****`, so any given
    /// value counts as a change).
    pub hidden: bool,
}

/// The given `--parameters` values of a stack that differ from its deployed ones. Parameters without a given
/// value keep theirs (UsePreviousValue) and so change nothing.
pub fn parameter_changes(
    template: &serde_json::Value,
    given: Option<&BTreeMap<String, String>>,
    deployed: &BTreeMap<String, String>,
) -> Vec<ParameterChange> {
    given
        .into_iter()
        .flatten()
        .filter(|(k, v)| deployed.get(*k) != Some(*v))
        .map(|(k, v)| {
            // CloudFormation takes NoEcho as a boolean or the string "true".
            let no_echo = &template["Parameters"][k]["NoEcho"];
            ParameterChange {
                key: k.clone(),
                deployed: deployed.get(k).cloned(),
                new: v.clone(),
                hidden: *no_echo == true
                    || no_echo
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("true")),
            }
        })
        .collect()
}

/// The parameter changes of a stack, as the template diff prints its changes.
pub fn render_parameter_changes(stack: &str, changes: &[ParameterChange]) -> String {
    let mut out = format!("Stack {stack}\n  Parameter values\n");
    for c in changes {
        let line = if c.hidden {
            format!("  [~] {} (NoEcho: values not shown)", c.key)
        } else {
            let before = c
                .deployed
                .as_deref()
                .map_or_else(|| "(none)".to_owned(), |v| format!("{v:?}"));
            format!("  [~] {} {before} -> {:?}", c.key, c.new)
        };
        out.push_str(&format!("{}\n", style(line).yellow()));
    }
    out
}

/// What approval looks at for one stack: its deployed template (`None`: not deployed), the new one, and the
/// parameter values the deploy changes.
pub(super) type ForApproval<'a> = (
    Option<serde_json::Value>,
    &'a serde_json::Value,
    Vec<ParameterChange>,
);

/// Shows the changes that need approval and asks for it once for the whole deploy; without a terminal to
/// ask, refuses. With `any-change`, a change of parameter values alone (the same template) counts.
pub(super) fn approve(
    stacks: &BTreeMap<&str, ForApproval<'_>>,
    level: RequireApproval,
) -> Result<(), DeployError> {
    let mut needing = Vec::new();
    let mut review = String::new();
    for (name, (old, new, parameters)) in stacks {
        let sec: SecurityDiff = security::diff(old.as_ref(), new);
        let needs = match level {
            RequireApproval::Never => false,
            RequireApproval::Broadening => sec.is_broadening(),
            RequireApproval::AnyChange => {
                let d = diff::diff_templates(old.as_ref(), new);
                if !d.is_empty() {
                    review.push_str(&diff::render(name, old.is_some(), &d));
                }
                if !parameters.is_empty() {
                    review.push_str(&render_parameter_changes(name, parameters));
                }
                !d.is_empty() || !parameters.is_empty()
            }
        };
        if needs {
            if !sec.is_empty() {
                review.push_str(&security::render_table(name, &sec));
            }
            needing.push(*name);
        }
    }
    if needing.is_empty() {
        return Ok(());
    }
    let stacks = needing.join(", ");
    eprint!("{review}");
    if level == RequireApproval::Broadening {
        eprintln!("{}", style("These changes broaden permissions (+ rows above: what is allowed after the deploy that was not before).").yellow());
    }
    if !std::io::stdin().is_terminal() {
        let why = match level {
            RequireApproval::AnyChange => {
                "--require-approval any-change asks before any change".to_owned()
            }
            _ => "its changes broaden permissions (--require-approval broadening, the default)"
                .to_owned(),
        };
        return Err(DeployError::NeedsApproval { stacks, why });
    }
    if ask(&format!("Deploy {stacks} with these changes?"))? {
        Ok(())
    } else {
        Err(DeployError::ApprovalDeclined { stacks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_parameter_values_that_differ_from_the_deployed_ones_are_changes() {
        console::set_colors_enabled(false);
        let template = serde_json::json!({"Parameters": {
            "Setting": {"Type": "String"}, "Token": {"Type": "String", "NoEcho": "true"}, "Pin": {"Type": "String", "NoEcho": true}, "Size": {"Type": "String"}}});
        let deployed: BTreeMap<String, String> = [
            ("Setting", "v1"),
            ("Token", "****"),
            ("Pin", "****"),
            ("Size", "small"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        let given = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        // No values given, or the deployed ones: no change.
        assert_eq!(parameter_changes(&template, None, &deployed), []);
        assert_eq!(
            parameter_changes(
                &template,
                Some(&given(&[("Setting", "v1"), ("Size", "small")])),
                &deployed
            ),
            []
        );
        let changes = parameter_changes(
            &template,
            Some(&given(&[
                ("Setting", "v2"),
                ("Size", "small"),
                ("Token", "secret"),
                ("New", "x"),
                ("Pin", "1234"),
            ])),
            &deployed,
        );
        assert_eq!(
            render_parameter_changes("Params", &changes),
            "Stack Params\n  Parameter values\n  [~] New (none) -> \"x\"\n  [~] Pin (NoEcho: values not shown)\n  \
             [~] Setting \"v1\" -> \"v2\"\n  [~] Token (NoEcho: values not shown)\n"
        );
    }
}
