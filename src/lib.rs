//! cfnkit: typed CloudFormation templates from Rust.
//!
//! - [`value`] and [`resource`] (from `cfnkit-core`): property values, literal or intrinsic ([`Val`]), the untyped
//!   [`Value`] tree, the [`Resource`] trait of generated types, [`RawResource`], handles and resource attributes.
//! - [`environments`]: partitions of regions, and the roles `cargo cfn bootstrap --trust` makes.
//! - [`fns`]: typed intrinsic functions and pseudo parameters.
//! - [`stack`]: [`App`], [`Stack`], [`Scope`], parameters, conditions, mappings, rules, outputs.
//! - [`synth`]: logical IDs, cross-stack references, validation, rendering to JSON/YAML, the manifest.
//! - [`constructs`]: the L2 layer: constructs with secure defaults and least-privilege grants over the
//!   generated L1 types ([`l1`]).
//! - [`rules`]: the built-in rule pack (cdk-nag's AwsSolutions checks and more), run on the final templates.
//! - [`resource_types`]: what cfnkit knows about resource types beyond their schemas (which are stateful).
//! - [`assets`]: Lambda code zips: reproducible builds, content hashes, the bucket and key scheme.
//! - [`cli`]: the `synth`, `package` and `list` commands that an app's thin `main` hands over to.
//! - [`prelude`]: what an app needs, in one `use cfnkit::prelude::*;`.
//! - [`assertions`]: for an app's own tests: templates checked as synth checks them, CDK-style matchers.

// Every public item says what it is: a newcomer reads the API in rustdoc (CI denies warnings, so this is enforced).
#![warn(missing_docs)]

pub mod assertions;
pub mod assets;
pub mod cli;
pub mod constructs;
pub mod environments;
pub mod fns;
pub mod openapi;
pub mod prelude;
pub mod resource_types;
pub mod rules;
pub mod stack;
pub mod synth;

pub use cfnkit_core::{resource, value};
pub use cfnkit_core::{
    ConditionHandle, ElementId, Json, Literal, RawResource, RemovalPolicy, Resource,
    ResourceHandle, TagFormat, TagStyle, ToValue, Val, Value,
};
pub use cfnkit_l1 as l1;
pub use stack::{
    App, AsScope, Environment, MappingHandle, Output, ParamHandle, Parameter, Scope, Stack,
    TemplateRule,
};

/// The README's and the guide's (`docs/`) Rust examples compile and run as doc tests, so they cannot drift from
/// the API: `cargo test -p cfnkit --doc`.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../README.md")]
    struct Readme;
    #[doc = include_str!("../docs/app-and-stacks.md")]
    struct AppAndStacks;
    #[doc = include_str!("../docs/values-and-intrinsics.md")]
    struct ValuesAndIntrinsics;
    #[doc = include_str!("../docs/constructs-and-grants.md")]
    struct ConstructsAndGrants;
    #[doc = include_str!("../docs/rule-pack.md")]
    struct RulePack;
    #[doc = include_str!("../docs/assets.md")]
    struct Assets;
    #[doc = include_str!("../docs/testing.md")]
    struct Testing;
    #[doc = include_str!("../docs/deploy.md")]
    struct Deploy;
    #[doc = include_str!("../docs/local-run.md")]
    struct LocalRun;
}
