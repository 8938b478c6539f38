//! Inventory: the inventory table (stock per product, reservations per order), the inventory queue fed by
//! `OrderPlaced` and its function (reserve stock, answer with `StockConfirmation`), and the compensation queue
//! fed by `PaymentFailed` and its function (release the reservation). Both queues have dead-letter queues, with
//! an alarm to the ops topic when a message lands in one.

use std::collections::BTreeMap;

use cfnkit::constructs::events::Target;
use cfnkit::constructs::ConstructError;
use cfnkit::App;
use contracts::env::{self, Handler};
use contracts::{tables, EventPattern, OrderPlaced, PaymentFailed};

use crate::service;
use crate::Base;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Inventory");
    stack.set_description(
        "Order platform: inventory table, stock reservation and compensation on payment failure",
    );
    let scope = stack.scope();
    let table = service::table(&scope, &tables::INVENTORY, base)?;

    let flows = [
        (
            "InventoryQueue",
            "OrderPlacedToInventory",
            EventPattern::of::<OrderPlaced>(),
            "Inventory",
            Handler::Inventory,
        ),
        (
            "CompensationQueue",
            "PaymentFailedToCompensation",
            EventPattern::of::<PaymentFailed>(),
            "InventoryCompensation",
            Handler::InventoryCompensation,
        ),
    ];
    for (queue_id, rule_id, pattern, function_id, handler) in flows {
        let queue = service::work_queue(&scope, queue_id, base)?;
        service::rule(
            &scope,
            rule_id,
            base,
            pattern,
            Target::sqs(&queue, Default::default()),
        )?;
        let function = service::function(
            &scope,
            function_id,
            handler,
            base,
            BTreeMap::from([
                (env::INVENTORY_TABLE, table.table_name()),
                (env::EVENT_BUS_NAME, base.bus.event_bus_name()),
            ]),
            None,
        )?;
        table.grant_read_write_data(&function);
        base.bus.grant_put_events(&function);
        service::consume(&function, &queue)?;
        service::dead_letter_alarm(
            &scope,
            &format!("{queue_id}DlqAlarm"),
            service::dead_letter_queue_of(&queue),
            base,
            &format!("the {} function's queue", handler.binary_name()),
        )?;
    }
    Ok(())
}
