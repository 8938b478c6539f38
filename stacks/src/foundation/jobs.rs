//! `Jobs`: the seed's Lambda jobs and the catalog. An invoice per confirmed payment, written to an encrypted
//! invoice bucket (bus -> queue -> function); the catalog table (products, read-heavy, DynamoDB per the
//! seed); catalog images uploaded under `uploads/` of the image bucket are resized into `thumbnails/` by a
//! function that S3 triggers through EventBridge (S3 -> default bus -> queue -> function, which avoids the
//! bucket/permission reference cycle of direct S3 notifications).

use std::collections::BTreeMap;

use cfnkit::constructs::dynamodb::{Attribute, Table, TableProps};
use cfnkit::constructs::events::{EventPattern, Rule, RuleProps, Target};
use cfnkit::constructs::Construct;
use cfnkit::constructs::ConstructError;
use cfnkit::App;
use contracts::jobs;
use contracts::{DomainEvent, PaymentConfirmation};

use super::buckets::{access_log_bucket, secure_bucket};
use super::serverless;
use crate::Base;

/// Days old object versions are kept in the job buckets.
const NONCURRENT_DAYS: u64 = 90;

pub fn stack(app: &App, base: &Base) -> Result<(), ConstructError> {
    let stack = app.stack("Jobs");
    stack.set_description(
        "Order platform: invoice generation into S3 on PaymentConfirmation, catalog table, S3-triggered image \
         resize",
    );
    let scope = stack.scope();
    let key = serverless::key(&scope, "jobs")?;
    let access_logs = access_log_bucket(&scope, 365)?;

    // Invoices.
    let invoices = secure_bucket(
        &scope,
        "InvoiceBucket",
        &key,
        &access_logs,
        NONCURRENT_DAYS,
        false,
    )?;
    let invoice_fn = serverless::function(
        &scope,
        "InvoiceGenerator",
        "invoice",
        "Writes the invoice of each confirmed payment to the invoice bucket",
        &key,
        BTreeMap::from([(jobs::INVOICE_BUCKET, invoices.bucket_name())]),
    )?;
    invoices
        .objects(jobs::INVOICE_PREFIX)
        .grant_put(&invoice_fn);
    let invoice_queue = serverless::queue_into(&scope, "InvoiceQueue", &key, &invoice_fn)?;
    let rule = Rule::new(
        &scope,
        "PaymentConfirmationRule",
        RuleProps {
            event_bus: Some(&base.bus),
            event_pattern: Some(
                EventPattern::new()
                    .source([PaymentConfirmation::SOURCE])
                    .detail_type([PaymentConfirmation::DETAIL_TYPE]),
            ),
            description: Some("Confirmed payments, to the invoice queue".to_owned()),
            ..Default::default()
        },
    )?;
    rule.add_target(Target::sqs(&invoice_queue, Default::default()))?;

    // Catalog.
    let catalog = Table::new(
        &scope,
        "CatalogTable",
        Attribute::string("productId"),
        TableProps {
            encryption_key: Some(&key),
            ..Default::default()
        },
    )?;
    // Object-level events go to the account's default bus, where the resize rule picks up uploads.
    let images = secure_bucket(
        &scope,
        "ImageBucket",
        &key,
        &access_logs,
        NONCURRENT_DAYS,
        true,
    )?;
    let resize_fn = serverless::function(
        &scope,
        "ImageResizer",
        "image_resize",
        "Resizes catalog images uploaded under uploads/ into thumbnails/",
        &key,
        BTreeMap::from([
            (jobs::IMAGE_BUCKET, images.bucket_name()),
            (jobs::CATALOG_TABLE, catalog.table_name()),
        ]),
    )?;
    images.objects(jobs::UPLOAD_PREFIX).grant_read(&resize_fn);
    images.objects(jobs::THUMBNAIL_PREFIX).grant_put(&resize_fn);
    catalog.grant_write_data(&resize_fn);
    let resize_queue = serverless::queue_into(&scope, "ImageResizeQueue", &key, &resize_fn)?;
    let uploads = Rule::new(
        &scope,
        "ImageUploadedRule",
        RuleProps {
            event_pattern: Some(
                EventPattern::new()
                    .source(["aws.s3"])
                    .detail_type(["Object Created"])
                    .detail(serde_json::json!({
                        "object": {"key": [{"prefix": jobs::UPLOAD_PREFIX}]}
                    })),
            ),
            description: Some(
                "Catalog images uploaded under uploads/, to the resize queue".to_owned(),
            ),
            ..Default::default()
        },
    )?;
    // Only this bucket's uploads: the name is a reference, which the serde pattern cannot hold.
    uploads.handle().add_override(
        "Properties.EventPattern.detail.bucket.name",
        cfnkit::Value::list([images.bucket_name()]),
    );
    uploads.add_target(Target::sqs(&resize_queue, Default::default()))?;
    Ok(())
}
