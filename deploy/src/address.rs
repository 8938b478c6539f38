//! `STACK/LogicalId`: one resource of one stack, as the guard, refactors and rollbacks name it.

use std::fmt;
use std::str::FromStr;

/// A resource of a stack: `--allow-replace Order/OrdersTable`, `--skip-resource Order/Fn`, a move's ends.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddress {
    pub stack: String,
    pub logical_id: String,
}

impl FromStr for ResourceAddress {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((stack, id)) if !stack.is_empty() && !id.is_empty() && !id.contains('/') => {
                Ok(ResourceAddress {
                    stack: stack.into(),
                    logical_id: id.into(),
                })
            }
            _ => Err(format!(
                "`{s}` is not STACK/LogicalId; write the stack's name and the resource's logical ID, as the \
                 refusal names them (Order/OrdersTable)"
            )),
        }
    }
}

impl fmt::Display for ResourceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.stack, self.logical_id)
    }
}
