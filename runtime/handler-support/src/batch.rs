//! SQS batches with partial failures: every record is handled on its own, and the ids of the
//! records that failed go back to Lambda (`ReportBatchItemFailures`), which makes only those
//! visible again.

use std::future::Future;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

use crate::Error;

/// Runs `f` on every record of `event` concurrently; the records for which it fails are
/// reported as batch item failures.
pub async fn process<F, Fut>(event: SqsEvent, f: F) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), Error>>,
{
    let runs = event.records.into_iter().map(|record| {
        let id = record.message_id.clone().unwrap_or_default();
        let fut = f(record);
        async move { (id, fut.await) }
    });
    let results = futures_util::future::join_all(runs).await;
    let mut response = SqsBatchResponse::default();
    for (id, result) in results {
        if let Err(e) = result {
            lambda_runtime::tracing::error!(message_id = %id, error = %crate::util::describe(e.as_ref()), "record failed");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The body of a record, or an error.
pub fn body(record: &SqsMessage) -> Result<&str, Error> {
    record
        .body
        .as_deref()
        .ok_or_else(|| "SQS record without a body".into())
}
