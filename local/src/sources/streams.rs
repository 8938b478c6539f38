//! DynamoDB and Kinesis stream event source mappings: one reader per shard, in order, with Lambda's error
//! handling (<https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html>).
//!
//! A batch is up to `BatchSize` records (100 when absent), gathered for up to the batching window. Records that
//! do not pass `FilterCriteria` count as processed. When the function fails, the shard stops and the batch is
//! retried: with `BisectBatchOnFunctionError` it is split in halves first; with `ReportBatchItemFailures`
//! processing resumes at the lowest failed sequence number; after `MaximumRetryAttempts` retries (-1, the
//! default: until the record expires) or when records are older than `MaximumRecordAgeInSeconds`, the batch is
//! skipped and described on the `DestinationConfig.OnFailure` queue or topic.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;

use super::{function_named, sqs::filters_of};
use crate::invoke::{FunctionRef, Invoke};
use crate::model::LocalApp;
use crate::moto::client::MotoClient;
use crate::pattern;
use crate::trace::Tracer;

/// Which kind of stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// A DynamoDB table's stream.
    DynamoDb,
    /// A Kinesis data stream.
    Kinesis,
}

/// One stream event source mapping, resolved.
#[derive(Clone, Debug)]
pub struct StreamMapping {
    /// `Stack/LogicalId` of the mapping.
    pub id: String,
    /// DynamoDB or Kinesis.
    pub kind: StreamKind,
    /// The function.
    pub function: FunctionRef,
    /// The stream's ARN (moto's, for a table's stream).
    pub stream_arn: String,
    /// `Stack/LogicalId` of the table or stream.
    pub source: String,
    /// `StartingPosition`.
    pub starting_position: String,
    /// `BatchSize`.
    pub batch_size: usize,
    /// `MaximumBatchingWindowInSeconds`.
    pub window: Duration,
    /// `BisectBatchOnFunctionError`.
    pub bisect: bool,
    /// `MaximumRetryAttempts`; `None` retries until the records expire.
    pub max_retries: Option<u64>,
    /// `MaximumRecordAgeInSeconds`; `None` keeps records until they expire.
    pub max_age: Option<Duration>,
    /// `FunctionResponseTypes` has `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
    /// `DestinationConfig.OnFailure.Destination`.
    pub on_failure: Option<String>,
    /// Parsed filter patterns.
    pub filters: Vec<Value>,
    /// The function's ARN, for on-failure records.
    pub function_arn: String,
}

/// The enabled stream mappings of `app`, and problems to report.
pub fn mappings(app: &LocalApp) -> (Vec<StreamMapping>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (stack, r) in app.of_type("AWS::Lambda::EventSourceMapping") {
        let p = &r.properties;
        let arn = p["EventSourceArn"].as_str().unwrap_or_default();
        let kind = if arn.starts_with("arn:aws:kinesis:") {
            StreamKind::Kinesis
        } else if arn.starts_with("arn:aws:dynamodb:") && arn.contains("/stream/") {
            StreamKind::DynamoDb
        } else {
            continue;
        };
        if p["Enabled"] == false {
            continue;
        }
        let id = format!("{stack}/{}", r.logical_id);
        let source = match kind {
            StreamKind::Kinesis => app.find("AWS::Kinesis::Stream", arn),
            StreamKind::DynamoDb => app.of_type("AWS::DynamoDB::Table").find(|(_, t)| {
                arn.starts_with(&format!("{}/stream/", t.arn.as_deref().unwrap_or("-")))
            }),
        };
        let Some((source_stack, source)) = source else {
            problems.push(format!(
                "{id}: stream {arn} is not a stream of the selected stacks"
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
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        };
        let function_arn = app
            .resource(&function.stack, &function.logical_id)
            .and_then(|f| f.arn.clone())
            .unwrap_or_default();
        out.push(StreamMapping {
            id,
            kind,
            function,
            stream_arn: arn.to_owned(),
            source: format!("{source_stack}/{}", source.logical_id),
            starting_position: p["StartingPosition"]
                .as_str()
                .unwrap_or("LATEST")
                .to_owned(),
            batch_size: number(&p["BatchSize"]).unwrap_or(100).max(1) as usize,
            window: Duration::from_secs(
                number(&p["MaximumBatchingWindowInSeconds"])
                    .unwrap_or(0)
                    .max(0) as u64,
            ),
            bisect: p["BisectBatchOnFunctionError"] == true,
            max_retries: number(&p["MaximumRetryAttempts"])
                .filter(|n| *n >= 0)
                .map(|n| n as u64),
            max_age: number(&p["MaximumRecordAgeInSeconds"])
                .filter(|n| *n >= 0)
                .map(|n| Duration::from_secs(n as u64)),
            report_batch_item_failures: p["FunctionResponseTypes"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == "ReportBatchItemFailures")),
            on_failure: p["DestinationConfig"]["OnFailure"]["Destination"]
                .as_str()
                .map(str::to_owned),
            filters: filters_of(p),
            function_arn,
        });
    }
    (out, problems)
}

struct Reader {
    mapping: Arc<StreamMapping>,
    moto: MotoClient,
    region: String,
    app: Arc<LocalApp>,
    invoker: Arc<dyn Invoke>,
    tracer: Arc<Tracer>,
}

/// A record as read, with when it was read (its age counts from then).
struct Pending {
    record: Value,
    sequence: String,
    read_at: Instant,
}

/// Starts one reader per shard of the mapping's stream; they stop when `shutdown` turns true.
pub async fn start(
    mapping: StreamMapping,
    moto: MotoClient,
    region: String,
    app: Arc<LocalApp>,
    invoker: Arc<dyn Invoke>,
    tracer: Arc<Tracer>,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let reader = Arc::new(Reader {
        mapping: Arc::new(mapping),
        moto,
        region,
        app,
        invoker,
        tracer,
    });
    let shards = match reader.shards().await {
        Ok(s) => s,
        Err(e) => {
            reader.tracer.note(&format!(
                "{}: cannot read the shards of {}: {e}",
                reader.mapping.id, reader.mapping.source
            ));
            return Vec::new();
        }
    };
    let mut tasks = Vec::new();
    for shard in shards {
        let iterator = match reader.iterator(&shard).await {
            Ok(i) => i,
            Err(e) => {
                reader.tracer.note(&format!(
                    "{}: cannot read shard {shard}: {e}",
                    reader.mapping.id
                ));
                continue;
            }
        };
        let reader = reader.clone();
        let mut shutdown = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => {}
                _ = reader.run(shard, iterator) => {}
            }
        }));
    }
    tasks
}

impl Reader {
    async fn call(
        &self,
        operation: &str,
        body: Value,
    ) -> Result<Value, crate::moto::client::AwsError> {
        match self.mapping.kind {
            StreamKind::DynamoDb => {
                self.moto
                    .json(
                        "dynamodb",
                        &format!("DynamoDBStreams_20120810.{operation}"),
                        &body,
                    )
                    .await
            }
            StreamKind::Kinesis => {
                self.moto
                    .json("kinesis", &format!("Kinesis_20131202.{operation}"), &body)
                    .await
            }
        }
    }

    fn stream_key(&self) -> Value {
        match self.mapping.kind {
            StreamKind::DynamoDb => json!({"StreamArn": self.mapping.stream_arn}),
            StreamKind::Kinesis => json!({"StreamARN": self.mapping.stream_arn}),
        }
    }

    async fn shards(&self) -> Result<Vec<String>, crate::moto::client::AwsError> {
        let out = match self.mapping.kind {
            StreamKind::DynamoDb => self.call("DescribeStream", self.stream_key()).await?
                ["StreamDescription"]["Shards"]
                .clone(),
            StreamKind::Kinesis => {
                self.call("ListShards", self.stream_key()).await?["Shards"].clone()
            }
        };
        Ok(out
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["ShardId"].as_str().map(str::to_owned))
            .collect())
    }

    async fn iterator(&self, shard: &str) -> Result<String, crate::moto::client::AwsError> {
        let mut body = self.stream_key();
        body["ShardId"] = json!(shard);
        body["ShardIteratorType"] = json!(match self.mapping.starting_position.as_str() {
            "TRIM_HORIZON" => "TRIM_HORIZON",
            _ => "LATEST",
        });
        let out = self.call("GetShardIterator", body).await?;
        Ok(out["ShardIterator"].as_str().unwrap_or_default().to_owned())
    }

    /// Reads what the shard has now; returns the next iterator.
    async fn read(&self, iterator: &str, pending: &mut VecDeque<Pending>) -> String {
        let limit = (self.mapping.batch_size * 2).clamp(1, 1000);
        let mut body = json!({"ShardIterator": iterator, "Limit": limit});
        if self.mapping.kind == StreamKind::Kinesis {
            body["StreamARN"] = json!(self.mapping.stream_arn);
        }
        match self.call("GetRecords", body).await {
            Ok(out) => {
                for r in out["Records"].as_array().into_iter().flatten() {
                    let (record, sequence) = self.shape(r);
                    pending.push_back(Pending {
                        record,
                        sequence,
                        read_at: Instant::now(),
                    });
                }
                out["NextShardIterator"]
                    .as_str()
                    .unwrap_or(iterator)
                    .to_owned()
            }
            Err(e) => {
                self.tracer.note(&format!(
                    "{}: cannot read {}: {e}",
                    self.mapping.id, self.mapping.source
                ));
                tokio::time::sleep(Duration::from_secs(1)).await;
                iterator.to_owned()
            }
        }
    }

    /// The record as Lambda passes it, and its sequence number.
    fn shape(&self, r: &Value) -> (Value, String) {
        match self.mapping.kind {
            StreamKind::DynamoDb => {
                let mut record = r.clone();
                record["eventSourceARN"] = json!(self.mapping.stream_arn);
                record["awsRegion"] = json!(self.region);
                let seq = r["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                (record, seq)
            }
            StreamKind::Kinesis => {
                let seq = r["SequenceNumber"].as_str().unwrap_or_default().to_owned();
                let record = json!({
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r["PartitionKey"],
                        "sequenceNumber": seq,
                        "data": r["Data"],
                        "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"],
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": format!("shardId-000000000000:{seq}"),
                    "eventName": "aws:kinesis:record",
                    "awsRegion": self.region,
                    "eventSourceARN": self.mapping.stream_arn,
                });
                (record, seq)
            }
        }
    }

    fn passes_filters(&self, record: &Value) -> bool {
        if self.mapping.filters.is_empty() {
            return true;
        }
        let mut shaped = record.clone();
        if self.mapping.kind == StreamKind::Kinesis {
            use base64::Engine;
            if let Some(data) = record["kinesis"]["data"]
                .as_str()
                .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
                .and_then(|d| serde_json::from_slice::<Value>(&d).ok())
            {
                shaped["data"] = data;
            }
        }
        self.mapping
            .filters
            .iter()
            .any(|f| pattern::matches(f, &shaped))
    }

    async fn run(&self, shard: String, mut iterator: String) {
        let m = self.mapping.clone();
        let mut pending: VecDeque<Pending> = VecDeque::new();
        let mut retries: u64 = 0;
        // Bisecting shrinks the batch until a batch succeeds.
        let mut limit = m.batch_size;
        loop {
            if pending.len() < m.batch_size {
                iterator = self.read(&iterator, &mut pending).await;
                if !pending.is_empty() && pending.len() < m.batch_size && !m.window.is_zero() {
                    let deadline = Instant::now() + m.window;
                    while pending.len() < m.batch_size && Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        iterator = self.read(&iterator, &mut pending).await;
                    }
                }
            }
            // Records that pass no filter count as processed.
            while pending
                .front()
                .is_some_and(|p| !self.passes_filters(&p.record))
            {
                pending.pop_front();
            }
            if pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            if let Some(age) = m.max_age {
                let expired = pending
                    .iter()
                    .take_while(|p| p.read_at.elapsed() > age)
                    .count();
                if expired > 0 {
                    let dropped: Vec<Pending> = pending.drain(..expired).collect();
                    self.on_failure(&shard, &dropped, "RecordAgeExceeded", retries)
                        .await;
                    retries = 0;
                    limit = m.batch_size;
                    continue;
                }
            }
            let n = pending.len().min(limit);
            let batch: Vec<Value> = pending
                .iter()
                .take(n)
                .filter(|p| self.passes_filters(&p.record))
                .map(|p| p.record.clone())
                .collect();
            self.tracer.step(
                &m.source,
                &m.function.to_string(),
                &format!("batch of {} record(s) from {shard}", batch.len()),
            );
            let result = self
                .invoker
                .invoke(&m.function, json!({"Records": batch}))
                .await;
            let failed_at: Option<usize> = match result {
                Ok(response) if m.report_batch_item_failures => {
                    let ids: Vec<&str> = response["batchItemFailures"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["itemIdentifier"].as_str())
                        .collect();
                    if ids.is_empty() {
                        None
                    } else {
                        // Resume at the lowest failed sequence number: the records before it are done.
                        Some(
                            pending
                                .iter()
                                .take(n)
                                .position(|p| ids.contains(&p.sequence.as_str()))
                                .unwrap_or(0),
                        )
                    }
                }
                Ok(_) => None,
                Err(_) => Some(0),
            };
            match failed_at {
                None => {
                    pending.drain(..n);
                    retries = 0;
                    limit = m.batch_size;
                }
                Some(done) => {
                    pending.drain(..done);
                    let left = n - done;
                    if m.bisect && left > 1 {
                        limit = left.div_ceil(2);
                        self.tracer.step(
                            &m.function.to_string(),
                            &m.source,
                            &format!("failed: batch split in {limit}-record halves"),
                        );
                        continue;
                    }
                    retries += 1;
                    if m.max_retries.is_some_and(|max| retries > max) {
                        let dropped: Vec<Pending> = pending.drain(..left).collect();
                        self.on_failure(&shard, &dropped, "RetryAttemptsExhausted", retries)
                            .await;
                        retries = 0;
                        limit = m.batch_size;
                    } else {
                        self.tracer.step(
                            &m.function.to_string(),
                            &m.source,
                            &format!("failed: retry {retries}"),
                        );
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        }
    }

    /// Skips records, describing them on the on-failure destination when there is one.
    async fn on_failure(&self, shard: &str, dropped: &[Pending], condition: &str, attempts: u64) {
        let m = &self.mapping;
        let (Some(first), Some(last)) = (dropped.first(), dropped.last()) else {
            return;
        };
        let info_key = match m.kind {
            StreamKind::DynamoDb => "DDBStreamBatchInfo",
            StreamKind::Kinesis => "KinesisBatchInfo",
        };
        let now = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let record = json!({
            "requestContext": {
                "requestId": crate::functions::request_id(),
                "functionArn": m.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": now,
            info_key: {
                "shardId": shard,
                "startSequenceNumber": first.sequence,
                "endSequenceNumber": last.sequence,
                "approximateArrivalOfFirstRecord": now,
                "approximateArrivalOfLastRecord": now,
                "batchSize": dropped.len(),
                "streamArn": m.stream_arn,
            }
        });
        let Some(dest) = &m.on_failure else {
            self.tracer.note(&format!(
                "{}: {} record(s) skipped ({condition}); the mapping has no on-failure destination",
                m.id,
                dropped.len()
            ));
            return;
        };
        self.tracer.note(&format!(
            "{}: {} record(s) skipped ({condition}), described on {dest}",
            m.id,
            dropped.len()
        ));
        let sent = if dest.starts_with("arn:aws:sns:") {
            self.moto
                .query(
                    "sns",
                    &[
                        ("Action".into(), "Publish".into()),
                        ("TopicArn".into(), dest.clone()),
                        ("Message".into(), record.to_string()),
                    ],
                )
                .await
                .map(|_| ())
        } else if let Some((_, q)) = self.app.find("AWS::SQS::Queue", dest) {
            self.moto
                .json(
                    "sqs",
                    "AmazonSQS.SendMessage",
                    &json!({"QueueUrl": q.physical_id, "MessageBody": record.to_string()}),
                )
                .await
                .map(|_| ())
        } else {
            self.tracer.note(&format!(
                "{}: on-failure destination {dest} is not a queue or topic of the app",
                m.id
            ));
            Ok(())
        };
        if let Err(e) = sent {
            self.tracer
                .note(&format!("{}: cannot send to {dest}: {e}", m.id));
        }
    }
}
