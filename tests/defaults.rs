//! Issue #13's "defaults that pass every judge": one small app per construct, written with nothing but its
//! defaults (`examples/defaults.rs`, which CI also synthesizes for cfn-lint and checkov), passes the rule pack
//! as `cargo run -- synth` runs it, with no suppression, checkov skip or setting written by the app.

mod constructs_support;
#[path = "../examples/defaults.rs"]
#[allow(dead_code)]
mod defaults;

use cfnkit::synth::synth_checked;
use cfnkit::App;
use constructs_support::*;

fn app_of(
    name: &str,
    build: fn(&cfnkit::Stack) -> Result<(), cfnkit::constructs::ConstructError>,
) -> App {
    let app = App::new();
    build(&app.stack(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    app
}

#[test]
fn every_construct_with_its_defaults_passes_the_rule_pack() {
    for (name, build) in defaults::APPS {
        let app = app_of(name, *build);
        let checked = synth_checked(&app).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            checked
                .report()
                .findings
                .iter()
                .all(|f| f.suppressed.is_some()),
            "{name}: {:?}",
            checked.report().findings
        );
    }
}

#[test]
fn every_construct_with_its_defaults_passes_cfn_lint_at_every_level_and_checkov() {
    let app = defaults::app().unwrap();
    assert_rules_clean(&app);
    lint_or_skip(&app);
    checkov_or_skip(&app);
}

/// What the constructs suppress for their own choices is scoped to the item they cause: X-Ray's `Resource::*`
/// on a function's role, not the whole of IAM5, so a later grant on `*` still fails.
#[test]
fn a_default_function_suppresses_only_x_ray_s_wildcard() {
    let app = app_of("DefaultFunction", defaults::function);
    let t = template(&app, "DefaultFunction");
    assert_eq!(
        resource(&t, "HandlerServiceRole")["Metadata"]["cfnkit"]["suppress"],
        serde_json::json!([{
            "id": "IAM5",
            "reason": cfnkit::constructs::lambda::XRAY_REASON,
            "appliesTo": ["Resource::*"],
        }])
    );
}

/// Every stateful resource the defaults make states both policies, as the STATEFUL table says: retained where
/// data lives, deleted where it is only in transit (a queue).
#[test]
fn stateful_resources_state_their_policies() {
    let app = defaults::app().unwrap();
    let mut seen = 0;
    for (name, _) in defaults::APPS {
        let t = template(&app, name);
        for (id, r) in t["Resources"].as_object().unwrap() {
            let Some(stateful) = cfnkit::resource_types::stateful(r["Type"].as_str().unwrap())
            else {
                continue;
            };
            seen += 1;
            let expected = stateful.holds.default_removal_policy().as_str();
            assert_eq!(r["DeletionPolicy"], expected, "{name}/{id}");
            assert_eq!(r["UpdateReplacePolicy"], expected, "{name}/{id}");
        }
    }
    assert!(seen >= 9, "only {seen} stateful resources");
}
