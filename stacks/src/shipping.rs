//! Shipping: the shipments table, the shipping queue fed by `PaymentConfirmation` (dead-letter queue after 3
//! receives), the shipping function (creates the shipment, answers with `ShipmentCreated`), the DLQ processor
//! (re-drives dead letters to the shipping queue a few times, then parks them in the table and alerts ops), and
//! an alarm to the ops topic when dead letters pile up.

use std::collections::BTreeMap;
use std::time::Duration;

use cfnkit::constructs::cloudwatch::{Alarm, AlarmProps};
use cfnkit::constructs::events::Target;
use cfnkit::constructs::sqs::{DeadLetter, Queue, QueueEncryption, QueueProps};
use cfnkit::constructs::ConstructError;
use cfnkit::App;
use contracts::env::{self, Handler};
use contracts::{tables, EventPattern, PaymentConfirmation};

use crate::service;
use crate::Base;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Shipping");
    stack.set_description(
        "Order platform: shipments table, shipment creation and dead-letter processing",
    );
    let scope = stack.scope();
    let table = service::table(&scope, &tables::SHIPMENTS, base)?;

    // The dead-letter queue is made here rather than by the shipping queue because a function consumes it: it
    // needs the same visibility timeout as any other work queue. Its own failures stay on it (14 days) and the
    // alarm below reports them.
    let dlq = Queue::new(
        &scope,
        "ShippingDlq",
        QueueProps {
            encryption: QueueEncryption::Kms(&base.key),
            visibility_timeout: Some(service::QUEUE_VISIBILITY),
            retention_period: Some(Duration::from_secs(14 * 86_400)),
            dead_letter: DeadLetter::None,
            ..Default::default()
        },
    )?;
    let queue = service::work_queue_with(
        &scope,
        "ShippingQueue",
        base,
        DeadLetter::Queue {
            queue: &dlq,
            max_receive_count: service::MAX_RECEIVE_COUNT,
        },
    )?;
    service::rule(
        &scope,
        "PaymentConfirmedToShipping",
        base,
        EventPattern::of::<PaymentConfirmation>(),
        Target::sqs(&queue, Default::default()),
    )?;

    let shipping = service::function(
        &scope,
        "Shipping",
        Handler::Shipping,
        base,
        BTreeMap::from([
            (env::SHIPMENTS_TABLE, table.table_name()),
            (env::EVENT_BUS_NAME, base.bus.event_bus_name()),
        ]),
        None,
    )?;
    table.grant_read_write_data(&shipping);
    base.bus.grant_put_events(&shipping);
    service::consume(&shipping, &queue)?;

    let processor = service::function(
        &scope,
        "DlqProcessor",
        Handler::DlqProcessor,
        base,
        BTreeMap::from([
            (env::SHIPMENTS_TABLE, table.table_name()),
            (env::REDRIVE_QUEUE_URL, queue.queue_url()),
            (env::OPS_ALERT_TOPIC_ARN, base.ops_topic.topic_arn()),
        ]),
        None,
    )?;
    table.grant_read_write_data(&processor);
    queue.grant_send_messages(&processor);
    base.ops_topic.grant_publish(&processor);
    service::consume(&processor, &dlq)?;

    let alarm = Alarm::new(
        &scope,
        "ShippingDlqDepthAlarm",
        &dlq.metric_approximate_number_of_messages_visible(),
        1.0,
        AlarmProps {
            description: Some(
                "Dead letters of the shipping queue are waiting: the DLQ processor is failing or behind; see its \
                 log group."
                    .to_owned(),
            ),
            ..Default::default()
        },
    )?;
    alarm.add_alarm_action(&base.ops_topic)?;
    Ok(())
}
