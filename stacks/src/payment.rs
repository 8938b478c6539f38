//! Payment: the payments table (point-in-time recovery, encrypted with the platform key), the payment queue fed
//! by `StockConfirmation` events whose `stockConfirmed` is true, the payment function (simulated provider,
//! answers with `PaymentConfirmation` or `PaymentFailed`), the customer notification topic, and alarms to the
//! ops topic when the function fails and when a message lands in the payment queue's dead-letter queue.

use std::collections::BTreeMap;

use cfnkit::constructs::cloudwatch::{Alarm, AlarmProps};
use cfnkit::constructs::events::Target;
use cfnkit::constructs::sns::{Topic, TopicProps};
use cfnkit::constructs::ConstructError;
use cfnkit::App;
use contracts::env::{self, Handler};
use contracts::{tables, EventPattern, StockConfirmation};

use crate::service;
use crate::Base;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Payment");
    stack.set_description(
        "Order platform: payments table, payment processing and customer notifications",
    );
    let scope = stack.scope();
    let table = service::table(&scope, &tables::PAYMENTS, base)?;

    let queue = service::work_queue(&scope, "PaymentQueue", base)?;
    service::rule(
        &scope,
        "StockConfirmedToPayment",
        base,
        // Only confirmed stock is paid for; the order function handles the refusals.
        EventPattern::of::<StockConfirmation>().detail_equals("stockConfirmed", true),
        Target::sqs(&queue, Default::default()),
    )?;

    let customer_topic = Topic::new(
        &scope,
        "CustomerNotificationTopic",
        TopicProps {
            display_name: Some("Order platform customer notifications".to_owned()),
            master_key: Some(&base.key),
            ..Default::default()
        },
    )?;

    let function = service::function(
        &scope,
        "Payment",
        Handler::Payment,
        base,
        BTreeMap::from([
            (env::PAYMENTS_TABLE, table.table_name()),
            (env::EVENT_BUS_NAME, base.bus.event_bus_name()),
            (
                env::CUSTOMER_NOTIFICATION_TOPIC_ARN,
                customer_topic.topic_arn(),
            ),
        ]),
        None,
    )?;
    table.grant_read_write_data(&function);
    base.bus.grant_put_events(&function);
    customer_topic.grant_publish(&function);
    service::consume(&function, &queue)?;

    let alarm = Alarm::new(
        &scope,
        "PaymentErrorsAlarm",
        &function.metric_errors(),
        1.0,
        AlarmProps {
            description: Some(
                "The payment function failed at least once in 5 minutes: its log group has the error; the \
                 messages it failed on are retried and then moved to the payment queue's dead-letter queue."
                    .to_owned(),
            ),
            ..Default::default()
        },
    )?;
    alarm.add_alarm_action(&base.ops_topic)?;
    service::dead_letter_alarm(
        &scope,
        "PaymentQueueDlqAlarm",
        service::dead_letter_queue_of(&queue),
        base,
        "the payment queue",
    )?;
    Ok(())
}
