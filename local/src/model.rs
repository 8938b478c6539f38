//! The app as the local run sees it: resources with every intrinsic resolved to its local value.
//!
//! The local run gives each resource the physical name and ARN it has in the emulator (account
//! [`LocalApp::account`], region [`LocalApp::region`]), then resolves `Ref`, `Fn::GetAtt`, `Fn::Sub`,
//! `Fn::Join`, `Fn::ImportValue` and parameters across stacks, so every module downstream reads plain JSON.

use std::collections::BTreeMap;

/// Every stack of the app, resolved.
#[derive(Clone, Debug, Default)]
pub struct LocalApp {
    /// The account the emulator plays (moto's default, `123456789012`).
    pub account: String,
    /// The region the emulator plays.
    pub region: String,
    /// The stacks, in deploy order.
    pub stacks: Vec<LocalStack>,
}

/// One stack's resources, resolved.
#[derive(Clone, Debug, Default)]
pub struct LocalStack {
    /// The stack name (`Order`).
    pub name: String,
    /// By logical ID.
    pub resources: BTreeMap<String, LocalResource>,
}

/// One resource with its intrinsics resolved.
#[derive(Clone, Debug)]
pub struct LocalResource {
    /// The logical ID.
    pub logical_id: String,
    /// The CloudFormation type (`AWS::Lambda::Function`).
    pub type_name: String,
    /// `Properties`, with every intrinsic replaced by its local value (plain JSON).
    pub properties: serde_json::Value,
    /// What `Ref` returns locally (a table's name, a queue's URL, a function's name...).
    pub physical_id: String,
    /// The resource's ARN locally, for types that have one.
    pub arn: Option<String>,
    /// The template's `Metadata` (cfnkit's asset metadata names a function's package and binary).
    pub metadata: serde_json::Value,
}

impl LocalApp {
    /// A resource by stack name and logical ID.
    pub fn resource(&self, stack: &str, logical_id: &str) -> Option<&LocalResource> {
        self.stacks
            .iter()
            .find(|s| s.name == stack)
            .and_then(|s| s.resources.get(logical_id))
    }

    /// Every resource of a type, with its stack's name.
    pub fn of_type<'a>(
        &'a self,
        type_name: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a LocalResource)> + 'a {
        self.stacks.iter().flat_map(move |s| {
            s.resources
                .values()
                .filter(move |r| r.type_name == type_name)
                .map(move |r| (s.name.as_str(), r))
        })
    }
}
