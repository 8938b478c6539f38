//! The platform's delivery pipeline (seed 004's CI/CD): dev, approval, prod, every stack of the platform deployed
//! once, each after the stacks it depends on, as the manifest orders them.

use std::collections::BTreeMap;

use cfnkit::synth::output::{render, Format};
use serde_json::Value;

/// Where a stack is deployed: the stage's index, the runOrder of its Prepare (create change set) action and of its
/// Deploy (execute) action.
type Placement = (usize, i64, i64);

/// The stage names, and each stack's [`Placement`].
fn deploy_actions() -> (Vec<String>, BTreeMap<String, Placement>) {
    let assembly = cfnkit::synth::synth(&stacks::app().unwrap()).unwrap();
    let t: Value = serde_json::from_str(
        &assembly
            .stack(stacks::delivery::STACK)
            .unwrap()
            .template
            .to_json(),
    )
    .unwrap();
    let stages = t["Resources"]["Pipeline"]["Properties"]["Stages"]
        .as_array()
        .unwrap();
    let names = stages
        .iter()
        .map(|s| s["Name"].as_str().unwrap().to_owned())
        .collect();
    let mut actions: BTreeMap<String, Placement> = BTreeMap::new();
    for (i, s) in stages.iter().enumerate() {
        for a in s["Actions"].as_array().unwrap() {
            let name = a["Name"].as_str().unwrap();
            let order = a["RunOrder"].as_i64().unwrap();
            if let Some(stack) = name.strip_suffix(".Prepare") {
                actions.entry(stack.to_owned()).or_insert((i, 0, 0)).1 = order;
            } else if let Some(stack) = name.strip_suffix(".Deploy") {
                let e = actions.entry(stack.to_owned()).or_insert((i, 0, 0));
                assert_eq!(
                    e.0, i,
                    "{stack} is prepared and deployed in different stages"
                );
                e.2 = order;
            }
        }
    }
    (names, actions)
}

#[test]
fn the_pipeline_deploys_dev_then_after_approval_prod_in_the_manifests_order() {
    let (stages, actions) = deploy_actions();
    assert_eq!(
        stages,
        [
            "Source",
            "Build",
            "UpdatePipeline",
            "Dev",
            "ApproveProd",
            "Prod"
        ]
    );
    // The manifest the pipeline follows: the platform's, as synth writes it.
    let platform = cfnkit::synth::synth(&stacks::platform().unwrap()).unwrap();
    let manifest = render(&platform, Format::Json, &[]).unwrap().manifest;
    assert_eq!(
        actions.len(),
        manifest.stacks.len() + 1,
        "every stack once, and the pipeline's own"
    );
    assert_eq!(
        actions[stacks::delivery::STACK].0,
        2,
        "the pipeline updates itself first"
    );
    for s in &manifest.stacks {
        let (stage, prepare, deploy) = actions[&s.name];
        assert_eq!(deploy, prepare + 1, "{}", s.name);
        let expected = if s.name.starts_with("Dev") {
            "Dev"
        } else {
            "Prod"
        };
        assert_eq!(stages[stage], expected, "{}", s.name);
        for dep in &s.dependencies {
            let (dep_stage, _, dep_deploy) = actions[dep];
            assert!(
                dep_stage < stage || (dep_stage == stage && dep_deploy < prepare),
                "{} is prepared before its dependency {dep} is deployed",
                s.name
            );
        }
    }
    // Independent stacks run in parallel: the services that only need Base share a run order.
    let base = actions["Base"].2;
    for s in ["Inventory", "Payment", "Shipping", "Analytics", "Jobs"] {
        assert_eq!(actions[s].1, base + 1, "{s}");
    }
    // Order waits for ProdIdentity as well as Base.
    assert!(actions["Order"].1 > actions["ProdIdentity"].2);
}
