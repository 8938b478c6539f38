//! The payment service: a simulated provider whose answer is deterministic per order id (a
//! configurable share of orders is declined), one payment record per order, PaymentConfirmation
//! or PaymentFailed on the bus, and a customer notification on failure.

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sns::types::MessageAttributeValue;
use contracts::envelope::parse_event;
use contracts::{env, tables, PaymentConfirmation, PaymentFailed, StockConfirmation};
use serde_json::json;

use crate::EventPublisher;
use handler_support::config::{number_or, require, ConfigError, Lookup};
use handler_support::util::{
    fnv1a64, get_bool, get_n, get_s, is_conditional_check_failed, n, now_rfc3339, s,
};
use handler_support::{batch, Error};

pub const CONFIRMED: &str = "CONFIRMED";
pub const FAILED: &str = "FAILED";

/// What the payment function needs.
#[derive(Clone, Debug)]
pub struct PaymentService {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sns: aws_sdk_sns::Client,
    pub payments_table: String,
    pub customer_topic_arn: String,
    /// Share of orders (0-100) the simulated provider declines.
    pub failure_percent: u32,
    pub events: EventPublisher,
}

impl PaymentService {
    pub fn from_env(sdk: &SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        let failure_percent = number_or(
            env,
            env::PAYMENT_FAILURE_PERCENT,
            env::DEFAULT_PAYMENT_FAILURE_PERCENT,
        )?;
        if failure_percent > 100 {
            return Err(ConfigError {
                key: env::PAYMENT_FAILURE_PERCENT.into(),
                problem: format!("{failure_percent} is not a percentage"),
            });
        }
        Ok(PaymentService {
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            payments_table: require(env, env::PAYMENTS_TABLE)?,
            customer_topic_arn: require(env, env::CUSTOMER_NOTIFICATION_TOPIC_ARN)?,
            failure_percent,
            events: EventPublisher::new(
                aws_sdk_eventbridge::Client::new(sdk),
                require(env, env::EVENT_BUS_NAME)?,
            ),
        })
    }
}

/// The simulated provider: declines `order_id` when its stable hash falls in the first
/// `failure_percent` of 100 buckets. The same order always gets the same answer.
pub fn simulated_provider_declines(order_id: &str, failure_percent: u32) -> bool {
    fnv1a64(order_id) % 100 < u64::from(failure_percent)
}

/// A recorded payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub order_id: String,
    pub customer_id: String,
    pub payment_id: String,
    pub amount_cents: u64,
    pub status: String,
    pub reason: Option<String>,
    pub customer_notified: bool,
}

/// Reads the payment of an order.
pub async fn load_payment(svc: &PaymentService, order_id: &str) -> Result<Option<Payment>, Error> {
    let out = svc
        .dynamodb
        .get_item()
        .table_name(&svc.payments_table)
        .key(tables::PARTITION_KEY, s(tables::payment_key(order_id)))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item.map(|i| Payment {
        order_id: get_s(&i, "orderId").unwrap_or_default().into(),
        customer_id: get_s(&i, "customerId").unwrap_or_default().into(),
        payment_id: get_s(&i, "paymentId").unwrap_or_default().into(),
        amount_cents: get_n(&i, "amountCents").unwrap_or(0),
        status: get_s(&i, "status").unwrap_or_default().into(),
        reason: get_s(&i, "reason").map(str::to_string),
        customer_notified: get_bool(&i, "customerNotified").unwrap_or(false),
    }))
}

/// Charges once per order: the first delivery records the provider's answer (conditional put),
/// later deliveries read it back. Either way the recorded outcome is published (again), and a
/// failure is notified to the customer unless that was done already.
pub async fn on_stock_confirmation(
    svc: &PaymentService,
    e: &StockConfirmation,
) -> Result<Option<Payment>, Error> {
    if !e.stock_confirmed {
        // The rule filters these out; tolerate them anyway.
        return Ok(None);
    }
    let declined = simulated_provider_declines(&e.order_id, svc.failure_percent);
    let candidate = Payment {
        order_id: e.order_id.clone(),
        customer_id: e.customer_id.clone(),
        payment_id: format!("pay-{:016x}", fnv1a64(&format!("payment:{}", e.order_id))),
        amount_cents: e.total_cents,
        status: if declined { FAILED } else { CONFIRMED }.to_string(),
        reason: declined.then(|| "card declined by the (simulated) provider".to_string()),
        customer_notified: false,
    };
    let mut put = svc
        .dynamodb
        .put_item()
        .table_name(&svc.payments_table)
        .item(tables::PARTITION_KEY, s(tables::payment_key(&e.order_id)))
        .item("orderId", s(&candidate.order_id))
        .item("customerId", s(&candidate.customer_id))
        .item("paymentId", s(&candidate.payment_id))
        .item("amountCents", n(candidate.amount_cents))
        .item("status", s(&candidate.status))
        .item("createdAt", s(now_rfc3339()))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", tables::PARTITION_KEY);
    if let Some(reason) = &candidate.reason {
        put = put.item("reason", s(reason));
    }
    let payment = match put.send().await {
        Ok(_) => candidate,
        Err(err) if is_conditional_check_failed(&err) => load_payment(svc, &e.order_id)
            .await?
            .ok_or_else(|| format!("payment of {} vanished", e.order_id))?,
        Err(err) => return Err(err.into()),
    };
    if payment.status == CONFIRMED {
        svc.events
            .publish(&PaymentConfirmation {
                order_id: payment.order_id.clone(),
                customer_id: payment.customer_id.clone(),
                payment_id: payment.payment_id.clone(),
                amount_cents: payment.amount_cents,
            })
            .await?;
    } else {
        let reason = payment.reason.clone().unwrap_or_else(|| "declined".into());
        svc.events
            .publish(&PaymentFailed {
                order_id: payment.order_id.clone(),
                customer_id: payment.customer_id.clone(),
                payment_id: payment.payment_id.clone(),
                amount_cents: payment.amount_cents,
                reason,
            })
            .await?;
        if !payment.customer_notified {
            notify_customer(svc, &payment).await?;
        }
    }
    Ok(Some(payment))
}

async fn notify_customer(svc: &PaymentService, payment: &Payment) -> Result<(), Error> {
    // Claim the notification first (conditional), so concurrent duplicates send it once. If the
    // publish then fails, the claim is undone and the message retried.
    let claim = svc
        .dynamodb
        .update_item()
        .table_name(&svc.payments_table)
        .key(
            tables::PARTITION_KEY,
            s(tables::payment_key(&payment.order_id)),
        )
        .update_expression("SET #notified = :t")
        .condition_expression("attribute_not_exists(#notified) OR #notified = :f")
        .expression_attribute_names("#notified", "customerNotified")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .expression_attribute_values(":f", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
        .send()
        .await;
    match claim {
        Ok(_) => {}
        Err(e) if is_conditional_check_failed(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let message = json!({
        "type": "PaymentFailed",
        "orderId": payment.order_id,
        "customerId": payment.customer_id,
        "amountCents": payment.amount_cents,
        "reason": payment.reason,
        "message": "We could not charge your payment method; your order was cancelled.",
    });
    let published = svc
        .sns
        .publish()
        .topic_arn(&svc.customer_topic_arn)
        .subject("Your order could not be paid")
        .message(message.to_string())
        .message_attributes(
            "customerId",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(&payment.customer_id)
                .build()?,
        )
        .send()
        .await;
    if let Err(e) = published {
        let _ = svc
            .dynamodb
            .update_item()
            .table_name(&svc.payments_table)
            .key(
                tables::PARTITION_KEY,
                s(tables::payment_key(&payment.order_id)),
            )
            .update_expression("SET #notified = :f")
            .expression_attribute_names("#notified", "customerNotified")
            .expression_attribute_values(":f", aws_sdk_dynamodb::types::AttributeValue::Bool(false))
            .send()
            .await;
        return Err(e.into());
    }
    Ok(())
}

/// The `payment` function: a batch of StockConfirmation envelopes.
pub async fn handle(svc: &PaymentService, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |record| async move {
        let e: StockConfirmation = parse_event(batch::body(&record)?)?;
        let payment = on_stock_confirmation(svc, &e).await?;
        lambda_runtime::tracing::info!(order_id = %e.order_id, status = ?payment.map(|p| p.status), "payment");
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_is_deterministic_and_respects_the_rate() {
        let ids: Vec<String> = (0..1000).map(|i| format!("ord-{i}")).collect();
        for id in &ids {
            assert!(!simulated_provider_declines(id, 0));
            assert!(simulated_provider_declines(id, 100));
            assert_eq!(
                simulated_provider_declines(id, 30),
                simulated_provider_declines(id, 30)
            );
        }
        let declined = ids
            .iter()
            .filter(|id| simulated_provider_declines(id, 30))
            .count();
        assert!(
            (200..400).contains(&declined),
            "{declined} of 1000 declined at 30%"
        );
    }
}
