//! Logical IDs: derived from construct paths, readable and deterministic.
//!
//! `Inventory/InventoryQueue/Dlq` becomes `InventoryQueueDlq`: the stack's own name is dropped, each component is
//! turned into PascalCase alphanumerics, and the components `Resource` and `Default` are left out, so that a
//! construct's primary resource takes the construct's name (`Order/OrdersTable/Resource` is `OrdersTable`).
//! Unlike AWS CDK no hash is appended: two paths that map to one ID are an error naming both, and the fix is a
//! different construct id or an explicit override. Logical IDs are a contract: renaming one replaces the resource.

/// Components that a construct uses for its primary resource and that do not appear in logical IDs.
pub const ELIDED_COMPONENTS: [&str; 2] = ["Resource", "Default"];

/// CloudFormation's limit on the length of a logical ID.
pub const MAX_LEN: usize = 255;

/// The logical ID for a full construct path (`Stack/A/B`).
pub fn from_path(path: &str) -> String {
    path.split('/')
        .skip(1)
        .filter(|c| !ELIDED_COMPONENTS.contains(c))
        .map(pascal_case)
        .collect()
}

/// `orders-table` -> `OrdersTable`; `OrdersTable` stays as it is.
fn pascal_case(component: &str) -> String {
    component
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// Why a name is not a valid logical ID; the message follows the name (`resource logical ID "A-B" contains '-'`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLogicalId {
    /// The name has no characters.
    #[error("is empty")]
    Empty,
    /// The name is longer than CloudFormation's limit; its length.
    #[error("is {0} characters long; the limit is {MAX_LEN}")]
    TooLong(usize),
    /// The name has a character CloudFormation does not allow; the first one.
    #[error("contains {0:?}; only A-Z, a-z and 0-9 are allowed")]
    NotAlphanumeric(char),
}

/// Checks CloudFormation's rule for logical IDs (also used for parameter, output, mapping and condition names):
/// 1 to 255 ASCII letters and digits.
pub fn check(id: &str) -> Result<(), InvalidLogicalId> {
    if id.is_empty() {
        return Err(InvalidLogicalId::Empty);
    }
    if id.len() > MAX_LEN {
        return Err(InvalidLogicalId::TooLong(id.len()));
    }
    if let Some(c) = id.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(InvalidLogicalId::NotAlphanumeric(c));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_readable_ids() {
        assert_eq!(from_path("Order/OrdersTable"), "OrdersTable");
        assert_eq!(
            from_path("Inventory/InventoryQueue/Dlq"),
            "InventoryQueueDlq"
        );
        assert_eq!(from_path("Order/OrdersTable/Resource"), "OrdersTable");
        assert_eq!(from_path("Order/Api/Default/orders-post"), "ApiOrdersPost");
        assert_eq!(from_path("S/my_queue.v2"), "MyQueueV2");
    }

    #[test]
    fn ids_follow_cloudformation_rules() {
        assert!(check("OrdersTable").is_ok());
        assert_eq!(check(""), Err(InvalidLogicalId::Empty));
        assert_eq!(
            check("Orders-Table").unwrap_err().to_string(),
            "contains '-'; only A-Z, a-z and 0-9 are allowed"
        );
        assert_eq!(
            check(&"A".repeat(256)).unwrap_err().to_string(),
            "is 256 characters long; the limit is 255"
        );
    }
}
