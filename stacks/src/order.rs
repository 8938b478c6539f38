//! Order: the orders table (point-in-time recovery, encrypted with the platform key, retained).

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::ConstructError;
use cfnkit::App;

use crate::Base;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Order");
    stack.set_description("Order platform: orders table, order API and order state machine");
    Table::new(
        &stack.scope(),
        "OrdersTable",
        Attribute::string("pk"),
        TableProps {
            encryption_key: Some(&base.key),
            ..Default::default()
        },
    )?;
    Ok(())
}
