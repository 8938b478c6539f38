//! Renders the notifications of order confirmations (a confirmed payment), payment failures and shipments,
//! an email and an SMS per event, and records each as sent in the notifications table. The record's key is
//! `<event id>#<channel>` and it is written only if absent, so an event delivered twice (SNS and SQS are
//! at-least-once) is recorded, and would be sent, once per channel.
//!
//! "Sending" is the record: this seed has no verified SES identity or SMS origination number, so the function
//! renders what would be sent and records it with the SES configuration set it would go through.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_dynamodb::Client;
use contracts::notifications::{self as layout, Channel, Notification};
use contracts::{EventEnvelope, PaymentConfirmation, PaymentFailed, ShipmentCreated};

use crate::config::{require, ConfigError, Lookup};
use crate::util::{is_conditional_check_failed, now_rfc3339, s};
use crate::{batch, Error};

/// The sender's clients and settings.
pub struct Sender {
    pub dynamodb: Client,
    pub table: String,
    pub configuration_set: String,
}

impl Sender {
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(Sender {
            dynamodb: Client::new(sdk),
            table: require(env, layout::NOTIFICATIONS_TABLE)?,
            configuration_set: require(env, layout::SES_CONFIGURATION_SET)?,
        })
    }
}

/// The email and SMS of one event, or an error for an event that is not notified.
pub fn render(envelope: EventEnvelope) -> Result<Vec<Notification>, Error> {
    let event_id = envelope
        .id
        .clone()
        .ok_or("event without an id: cannot notify it exactly once")?;
    let (order_id, recipient, subject, email, sms) = if envelope.is::<PaymentConfirmation>() {
        let e: PaymentConfirmation = envelope.into_event()?;
        let amount = money(e.amount_cents);
        (
            e.order_id.clone(),
            e.customer_id.clone(),
            format!("Your order {} is confirmed", e.order_id),
            format!(
                "Thank you for your order {}. We received your payment of {amount} (payment {}); we will let \
                 you know when it ships.",
                e.order_id, e.payment_id
            ),
            format!("Order {} confirmed: {amount} received.", e.order_id),
        )
    } else if envelope.is::<PaymentFailed>() {
        let e: PaymentFailed = envelope.into_event()?;
        let amount = money(e.amount_cents);
        (
            e.order_id.clone(),
            e.customer_id.clone(),
            format!("Payment for order {} failed", e.order_id),
            format!(
                "We could not take your payment of {amount} for order {}: {}. The order has been cancelled and \
                 nothing was charged.",
                e.order_id, e.reason
            ),
            format!("Payment of {amount} for order {} failed: {}.", e.order_id, e.reason),
        )
    } else if envelope.is::<ShipmentCreated>() {
        let e: ShipmentCreated = envelope.into_event()?;
        (
            e.order_id.clone(),
            // A shipment event names no customer: the record is addressed to the order's customer.
            format!("order:{}", e.order_id),
            format!("Order {} has shipped", e.order_id),
            format!(
                "Your order {} is on its way. Tracking number: {} (shipment {}).",
                e.order_id, e.tracking_number, e.shipment_id
            ),
            format!(
                "Order {} shipped, tracking {}.",
                e.order_id, e.tracking_number
            ),
        )
    } else {
        return Err(format!(
            "{} from {} is not a notified event",
            envelope.detail_type, envelope.source
        )
        .into());
    };
    Ok(vec![
        Notification {
            event_id: event_id.clone(),
            order_id: order_id.clone(),
            channel: Channel::Email,
            recipient: recipient.clone(),
            subject: Some(subject),
            body: email,
        },
        Notification {
            event_id,
            order_id,
            channel: Channel::Sms,
            recipient,
            subject: None,
            body: sms,
        },
    ])
}

/// `1234` -> `$12.34`.
fn money(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Records one notification as sent; `false` when it already was (a redelivery).
pub async fn record(sender: &Sender, n: &Notification) -> Result<bool, Error> {
    let mut put = sender
        .dynamodb
        .put_item()
        .table_name(&sender.table)
        .item(layout::PK, s(layout::key(&n.event_id, n.channel)))
        .item("eventId", s(&n.event_id))
        .item("orderId", s(&n.order_id))
        .item("channel", s(n.channel.as_str()))
        .item("recipient", s(&n.recipient))
        .item("body", s(&n.body))
        .item("status", s("SENT"))
        .item("sentAt", s(now_rfc3339()))
        .item("configurationSet", s(&sender.configuration_set))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", layout::PK);
    if let Some(subject) = &n.subject {
        put = put.item("subject", s(subject));
    }
    match put.send().await {
        Ok(_) => Ok(true),
        Err(e) if is_conditional_check_failed(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Renders and records the notifications of one message body (an EventBridge envelope); returns how many
/// were newly recorded.
pub async fn notify(sender: &Sender, body: &str) -> Result<usize, Error> {
    let mut new = 0;
    for n in render(EventEnvelope::parse_raw(body)?)? {
        if record(sender, &n).await? {
            new += 1;
        }
    }
    Ok(new)
}

/// An SQS batch: every message on its own, failures reported.
pub async fn handle(sender: &Sender, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |m| async move {
        notify(sender, batch::body(&m)?).await.map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::{envelope_for, OrderPlaced};

    fn with_id(mut e: EventEnvelope) -> EventEnvelope {
        e.id = Some("ev-1".into());
        e
    }

    #[test]
    fn a_payment_failure_renders_an_email_and_an_sms_with_the_reason_and_amount() {
        let e = PaymentFailed {
            order_id: "o1".into(),
            customer_id: "c1".into(),
            payment_id: "p1".into(),
            amount_cents: 5,
            reason: "card declined".into(),
        };
        let out = render(with_id(envelope_for(&e))).unwrap();
        let channels: Vec<Channel> = out.iter().map(|n| n.channel).collect();
        assert_eq!(channels, vec![Channel::Email, Channel::Sms]);
        assert_eq!(
            out[0].subject.as_deref(),
            Some("Payment for order o1 failed")
        );
        assert_eq!(
            out[1].body,
            "Payment of $0.05 for order o1 failed: card declined."
        );
        assert!(out
            .iter()
            .all(|n| n.recipient == "c1" && n.event_id == "ev-1"));
    }

    #[test]
    fn events_that_are_not_notified_or_have_no_id_are_refused() {
        let placed = OrderPlaced {
            order_id: "o1".into(),
            customer_id: "c1".into(),
            lines: vec![],
            total_cents: 0,
            placed_at: "2026-11-21T00:00:00Z".into(),
        };
        let err = render(with_id(envelope_for(&placed))).unwrap_err();
        assert!(err.to_string().contains("not a notified event"), "{err}");
        let shipped = ShipmentCreated {
            order_id: "o1".into(),
            shipment_id: "s1".into(),
            tracking_number: "t".into(),
        };
        assert!(
            render(envelope_for(&shipped)).is_err(),
            "no event id, no exactly-once record"
        );
    }
}
