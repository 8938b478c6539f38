//! Writes an invoice for every confirmed payment to the invoice bucket, at `invoices/<order id>.txt`: one
//! object per order, so a redelivered event rewrites the same invoice with the same content.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use contracts::jobs;
use contracts::{parse_event, PaymentConfirmation};

use crate::config::{require, ConfigError, Lookup};
use crate::{batch, Error};

pub struct InvoiceWriter {
    pub s3: Client,
    pub bucket: String,
}

impl InvoiceWriter {
    pub fn from_env(sdk: &aws_config::SdkConfig, env: &dyn Lookup) -> Result<Self, ConfigError> {
        Ok(InvoiceWriter {
            s3: Client::new(sdk),
            bucket: require(env, jobs::INVOICE_BUCKET)?,
        })
    }
}

/// The invoice text of a payment: everything in it comes from the event, so the same event gives the same
/// invoice.
pub fn render(p: &PaymentConfirmation) -> String {
    format!(
        "INVOICE\n\
         Order:     {}\n\
         Customer:  {}\n\
         Payment:   {}\n\
         Amount:    ${}.{:02}\n\
         Status:    PAID\n",
        p.order_id,
        p.customer_id,
        p.payment_id,
        p.amount_cents / 100,
        p.amount_cents % 100
    )
}

/// Writes the invoice of one `PaymentConfirmation` envelope; returns its key.
pub async fn write(w: &InvoiceWriter, body: &str) -> Result<String, Error> {
    let payment: PaymentConfirmation = parse_event(body)?;
    let key = jobs::invoice_key(&payment.order_id);
    w.s3.put_object()
        .bucket(&w.bucket)
        .key(&key)
        .content_type("text/plain; charset=utf-8")
        .body(ByteStream::from(render(&payment).into_bytes()))
        .send()
        .await?;
    Ok(key)
}

pub async fn handle(w: &InvoiceWriter, event: SqsEvent) -> SqsBatchResponse {
    batch::process(event, |m| async move {
        write(w, batch::body(&m)?).await.map(|_| ())
    })
    .await
}
