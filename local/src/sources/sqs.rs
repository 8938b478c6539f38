//! SQS event source mappings: pollers that receive batches, invoke the function, and delete what succeeded.
//!
//! As Lambda does (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>): a batch of
//! up to `BatchSize` messages, gathered for up to `MaximumBatchingWindowInSeconds`; messages that do not pass
//! `FilterCriteria` are deleted unseen; on success every message is deleted, except, with
//! `ReportBatchItemFailures`, the ones the function names in `batchItemFailures` (a response naming an unknown
//! id fails the whole batch); on an error or a timeout nothing is deleted, so the messages come back after the
//! queue's visibility timeout and the queue's redrive policy moves them to its DLQ after `maxReceiveCount`
//! receives (moto applies it). At most `ScalingConfig.MaximumConcurrency` batches are in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::function_named;
use crate::invoke::{FunctionRef, Invoke};
use crate::model::LocalApp;
use crate::moto::client::MotoClient;
use crate::pattern;
use crate::trace::Tracer;

/// Pollers per mapping when it sets no maximum concurrency (Lambda starts with five).
pub const DEFAULT_POLLERS: usize = 5;

/// One SQS event source mapping, resolved.
#[derive(Clone, Debug)]
pub struct SqsMapping {
    /// `Stack/LogicalId` of the mapping.
    pub id: String,
    /// The function.
    pub function: FunctionRef,
    /// The queue's ARN.
    pub queue_arn: String,
    /// The queue's URL.
    pub queue_url: String,
    /// `Stack/LogicalId` of the queue.
    pub queue: String,
    /// `BatchSize` (10 when absent).
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds`.
    pub window: Duration,
    /// `FunctionResponseTypes` has `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
    /// `ScalingConfig.MaximumConcurrency`, else [`DEFAULT_POLLERS`].
    pub max_concurrency: usize,
    /// `FilterCriteria.Filters[].Pattern`, parsed.
    pub filters: Vec<Value>,
}

/// The enabled SQS mappings of `app`, and the ones naming a queue or function the app does not run (as
/// problems to report).
pub fn mappings(app: &LocalApp) -> (Vec<SqsMapping>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (stack, r) in app.of_type("AWS::Lambda::EventSourceMapping") {
        let p = &r.properties;
        let arn = p["EventSourceArn"].as_str().unwrap_or_default();
        if !arn.starts_with("arn:aws:sqs:") || p["Enabled"] == false {
            continue;
        }
        let id = format!("{stack}/{}", r.logical_id);
        let Some((qs, queue)) = app.find("AWS::SQS::Queue", arn) else {
            problems.push(format!(
                "{id}: queue {arn} is not a queue of the selected stacks"
            ));
            continue;
        };
        let Some(function) = function_named(app, p["FunctionName"].as_str().unwrap_or_default())
        else {
            problems.push(format!(
                "{id}: function {} is not a function of the selected stacks",
                p["FunctionName"]
            ));
            continue;
        };
        let number = |v: &Value| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        };
        out.push(SqsMapping {
            id,
            function,
            queue_arn: arn.to_owned(),
            queue_url: queue.physical_id.clone(),
            queue: format!("{qs}/{}", queue.logical_id),
            batch_size: number(&p["BatchSize"]).unwrap_or(10).max(1) as usize,
            window: Duration::from_secs(number(&p["MaximumBatchingWindowInSeconds"]).unwrap_or(0)),
            report_batch_item_failures: p["FunctionResponseTypes"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "ReportBatchItemFailures")),
            max_concurrency: number(&p["ScalingConfig"]["MaximumConcurrency"])
                .map_or(DEFAULT_POLLERS, |n| n as usize)
                .max(1),
            filters: filters_of(p),
        });
    }
    (out, problems)
}

/// `FilterCriteria.Filters[].Pattern` (JSON strings), parsed.
pub fn filters_of(p: &Value) -> Vec<Value> {
    p["FilterCriteria"]["Filters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| match &f["Pattern"] {
            Value::String(s) => serde_json::from_str(s).ok(),
            v @ Value::Object(_) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

/// Starts the poller of one mapping: it gathers batches and runs up to `max_concurrency` of them at once; it
/// stops when `shutdown` turns true.
pub fn start(
    mapping: SqsMapping,
    moto: MotoClient,
    region: String,
    invoker: Arc<dyn Invoke>,
    tracer: Arc<Tracer>,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let permits = Arc::new(tokio::sync::Semaphore::new(mapping.max_concurrency));
    let poller = Arc::new(Poller {
        mapping: Arc::new(mapping),
        moto,
        region,
        invoker,
        tracer,
    });
    let mut shutdown = shutdown.clone();
    vec![tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return,
                p = permits.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => return,
                },
            };
            let batch = tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return,
                b = poller.gather() => b,
            };
            if batch.is_empty() {
                continue;
            }
            let poller = poller.clone();
            let mut stop = shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => {}
                    _ = poller.process(batch) => {}
                }
                drop(permit);
            });
        }
    })]
}

struct Poller {
    mapping: Arc<SqsMapping>,
    moto: MotoClient,
    region: String,
    invoker: Arc<dyn Invoke>,
    tracer: Arc<Tracer>,
}

impl Poller {
    async fn receive(&self, max: usize, wait_seconds: u64) -> Vec<Value> {
        let out = self
            .moto
            .json(
                "sqs",
                "AmazonSQS.ReceiveMessage",
                &json!({
                    "QueueUrl": self.mapping.queue_url,
                    "MaxNumberOfMessages": max.clamp(1, 10),
                    "WaitTimeSeconds": wait_seconds,
                    "AttributeNames": ["All"],
                    "MessageSystemAttributeNames": ["All"],
                    "MessageAttributeNames": ["All"],
                }),
            )
            .await;
        match out {
            Ok(v) => v["Messages"].as_array().cloned().unwrap_or_default(),
            Err(e) => {
                self.tracer.note(&format!(
                    "{}: cannot receive from {}: {e}",
                    self.mapping.id, self.mapping.queue
                ));
                tokio::time::sleep(Duration::from_secs(1)).await;
                Vec::new()
            }
        }
    }

    async fn delete(&self, messages: &[&Value]) {
        for chunk in messages.chunks(10) {
            let entries: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| json!({"Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"]}))
                .collect();
            if let Err(e) = self
                .moto
                .json(
                    "sqs",
                    "AmazonSQS.DeleteMessageBatch",
                    &json!({"QueueUrl": self.mapping.queue_url, "Entries": entries}),
                )
                .await
            {
                self.tracer.note(&format!(
                    "{}: cannot delete from {}: {e}",
                    self.mapping.id, self.mapping.queue
                ));
            }
        }
    }

    fn record(&self, m: &Value) -> Value {
        let attributes = m["Attributes"].clone();
        let message_attributes: serde_json::Map<String, Value> = m["MessageAttributes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, a)| {
                (
                    k.clone(),
                    json!({
                        "stringValue": a["StringValue"],
                        "binaryValue": a["BinaryValue"],
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": a["DataType"],
                    }),
                )
            })
            .collect();
        json!({
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": attributes,
            "messageAttributes": message_attributes,
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.queue_arn,
            "awsRegion": self.region,
        })
    }

    fn passes_filters(&self, record: &Value) -> bool {
        if self.mapping.filters.is_empty() {
            return true;
        }
        let mut shaped = record.clone();
        if let Some(body) = record["body"]
            .as_str()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        {
            shaped["body"] = body;
        }
        self.mapping
            .filters
            .iter()
            .any(|f| pattern::matches(f, &shaped))
    }

    /// One batch: what the first receive returns, topped up until the batch is full or the window ends.
    async fn gather(&self) -> Vec<Value> {
        let m = &self.mapping;
        let mut batch = self.receive(m.batch_size, 1).await;
        if batch.is_empty() {
            return batch;
        }
        let deadline = Instant::now() + m.window;
        while batch.len() < m.batch_size && Instant::now() < deadline {
            let wait = deadline
                .saturating_duration_since(Instant::now())
                .as_secs()
                .min(1);
            batch.extend(self.receive(m.batch_size - batch.len(), wait).await);
        }
        batch
    }

    async fn process(&self, batch: Vec<Value>) {
        let m = &self.mapping;
        let (kept, filtered): (Vec<&Value>, Vec<&Value>) = batch
            .iter()
            .partition(|msg| self.passes_filters(&self.record(msg)));
        if !filtered.is_empty() {
            self.tracer.step(
                &m.queue,
                "filtered out",
                &format!("{} message(s) deleted unseen", filtered.len()),
            );
            self.delete(&filtered).await;
        }
        if kept.is_empty() {
            return;
        }
        let records: Vec<Value> = kept.iter().map(|msg| self.record(msg)).collect();
        self.tracer.step(
            &m.queue,
            &m.function.to_string(),
            &format!("batch of {} message(s)", records.len()),
        );
        let result = self
            .invoker
            .invoke(&m.function, json!({"Records": records}))
            .await;
        let failed: Vec<String> = match result {
            Ok(response) if m.report_batch_item_failures => {
                let ids: Vec<String> = response["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| f["itemIdentifier"].as_str().unwrap_or_default().to_owned())
                    .collect();
                let known = |id: &String| {
                    kept.iter()
                        .any(|k| k["MessageId"].as_str() == Some(id.as_str()))
                };
                if ids.iter().all(known) {
                    ids
                } else {
                    self.tracer.note(&format!(
                        "{}: the function named item(s) {ids:?} not in its batch: the whole batch failed",
                        m.function
                    ));
                    kept.iter()
                        .filter_map(|k| k["MessageId"].as_str().map(str::to_owned))
                        .collect()
                }
            }
            Ok(_) => Vec::new(),
            Err(_) => kept
                .iter()
                .filter_map(|k| k["MessageId"].as_str().map(str::to_owned))
                .collect(),
        };
        let done: Vec<&Value> = kept
            .iter()
            .copied()
            .filter(|k| {
                !failed
                    .iter()
                    .any(|f| k["MessageId"].as_str() == Some(f.as_str()))
            })
            .collect();
        self.delete(&done).await;
        if !failed.is_empty() {
            self.tracer.step(
                &m.function.to_string(),
                &m.queue,
                &format!(
                    "{} deleted, {} failed (visible again after the queue's visibility timeout)",
                    done.len(),
                    failed.len()
                ),
            );
        }
    }
}
