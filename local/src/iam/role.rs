//! A role's policies, collected from the app: its inline `Policies`, the `AWS::IAM::Policy`,
//! `AWS::IAM::RolePolicy` and `AWS::IAM::ManagedPolicy` resources attached to it, and the managed policy ARNs
//! it names (those not in the app, AWS managed policies, cannot be read and are reported).

use serde_json::Value;

use super::evaluate::RolePolicies;
use super::policy::{Policy, PolicyError};
use crate::invoke::FunctionRef;
use crate::model::{LocalApp, LocalResource};

/// A role whose policies cannot be collected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// The function is not in the app.
    #[error("no AWS::Lambda::Function {0} in the app: name it as <stack>/<logical id>, as `cargo cfn local` lists them")]
    NoFunction(FunctionRef),
    /// The function names no role.
    #[error("{0} has no Role property resolved to an ARN: every function needs an execution role")]
    NoRole(FunctionRef),
    /// The role is not one of the app's.
    #[error(
        "the role {role} of {principal} is not an AWS::IAM::Role of the app: its policies cannot be read, so \
         its calls cannot be checked (make the role in a stack of the app)"
    )]
    RoleNotInApp {
        /// The function or role asked for.
        principal: String,
        /// The role's ARN or name.
        role: String,
    },
    /// A policy document IAM would refuse.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

impl RolePolicies {
    /// The policies of a function's execution role.
    pub fn for_function(app: &LocalApp, function: &FunctionRef) -> Result<RolePolicies, RoleError> {
        let resource = app
            .resource(&function.stack, &function.logical_id)
            .filter(|r| r.type_name == "AWS::Lambda::Function")
            .ok_or_else(|| RoleError::NoFunction(function.clone()))?;
        let role_arn = resource
            .properties
            .get("Role")
            .and_then(Value::as_str)
            .ok_or_else(|| RoleError::NoRole(function.clone()))?;
        let (stack, role) = find_role(app, role_arn).ok_or_else(|| RoleError::RoleNotInApp {
            principal: function.to_string(),
            role: role_arn.to_owned(),
        })?;
        collect(
            app,
            stack,
            role,
            function.to_string(),
            &resource.physical_id,
        )
    }

    /// The policies of a role of the app, by its ARN or its `<stack>/<logical id>`.
    pub fn for_role(app: &LocalApp, role: &str) -> Result<RolePolicies, RoleError> {
        let found = find_role(app, role).or_else(|| {
            let (stack, logical_id) = role.split_once('/')?;
            let r = app
                .resource(stack, logical_id)
                .filter(|r| r.type_name == "AWS::IAM::Role")?;
            let stack = app.stacks.iter().find(|s| s.name == stack)?;
            Some((stack.name.as_str(), r))
        });
        let (stack, resource) = found.ok_or_else(|| RoleError::RoleNotInApp {
            principal: role.to_owned(),
            role: role.to_owned(),
        })?;
        let principal = format!("{stack}/{}", resource.logical_id);
        collect(app, stack, resource, principal, "local")
    }
}

fn find_role<'a>(app: &'a LocalApp, arn_or_name: &str) -> Option<(&'a str, &'a LocalResource)> {
    let name = arn_or_name.rsplit('/').next().unwrap_or(arn_or_name);
    app.of_type("AWS::IAM::Role")
        .find(|(_, r)| r.arn.as_deref() == Some(arn_or_name) || r.physical_id == name)
}

fn collect(
    app: &LocalApp,
    stack: &str,
    role: &LocalResource,
    principal: String,
    session: &str,
) -> Result<RolePolicies, RoleError> {
    let role_name = role.physical_id.clone();
    let role_arn = role
        .arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{}:role/{role_name}", app.account));
    let mut policies = Vec::new();
    let mut unreadable = Vec::new();
    let p = &role.properties;
    for inline in p
        .get("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = inline
            .get("PolicyName")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let document = inline.get("PolicyDocument").unwrap_or(&Value::Null);
        policies.push(Policy::parse(
            format!("{stack}/{} inline policy {name:?}", role.logical_id),
            document,
        )?);
    }
    let names_role = |r: &LocalResource, field: &str| {
        let list = r.properties.get(field);
        let matches = |v: &Value| v.as_str().is_some_and(|s| s == role_name || s == role_arn);
        match list {
            Some(Value::Array(a)) => a.iter().any(matches),
            Some(v) => matches(v),
            None => false,
        }
    };
    let managed_arns: Vec<&str> = p
        .get("ManagedPolicyArns")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for s in &app.stacks {
        for r in s.resources.values() {
            let attached = match r.type_name.as_str() {
                "AWS::IAM::Policy" => names_role(r, "Roles"),
                "AWS::IAM::RolePolicy" => names_role(r, "RoleName"),
                "AWS::IAM::ManagedPolicy" => {
                    names_role(r, "Roles")
                        || managed_arns
                            .iter()
                            .any(|a| Some(*a) == r.arn.as_deref() || *a == r.physical_id)
                }
                _ => false,
            };
            if attached {
                let document = r.properties.get("PolicyDocument").unwrap_or(&Value::Null);
                policies.push(Policy::parse(
                    format!("{}/{}", s.name, r.logical_id),
                    document,
                )?);
            }
        }
    }
    for arn in managed_arns {
        let in_app = app
            .of_type("AWS::IAM::ManagedPolicy")
            .any(|(_, r)| Some(arn) == r.arn.as_deref() || arn == r.physical_id);
        if !in_app {
            unreadable.push(arn.to_owned());
        }
    }
    Ok(RolePolicies {
        principal,
        session_arn: format!(
            "arn:aws:sts::{}:assumed-role/{role_name}/{session}",
            app.account
        ),
        role_arn,
        account: app.account.clone(),
        region: app.region.clone(),
        policies,
        unreadable,
    })
}
