//! Deploys a [`Wiring`] into moto and plays Lambda's part: polls every queue an event source
//! mapping names (and, for rules that target a function, a capture queue standing in for the
//! asynchronous invocation), calls the handler in-process, deletes what did not fail.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use contracts::env::Handler;
use contracts::tables::TableSpec;
use handler_support::clients;
use order_handlers::{dlq, inventory, order, payment, shipping};
use serde_json::{json, Value};

use super::moto::MotoServer;
use super::wiring::{EnvValue, Target, Wiring};

/// Attempts of an asynchronous Lambda invocation (the first and two retries).
const ASYNC_INVOKE_ATTEMPTS: u32 = 3;
const ACCOUNT: &str = "123456789012";

/// A deployed platform with the handlers' services built from their resolved environments.
pub struct Platform {
    pub _moto: MotoServer,
    pub sdk: SdkConfig,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub events: aws_sdk_eventbridge::Client,
    pub queue_urls: BTreeMap<String, String>,
    pub queue_arns: BTreeMap<String, String>,
    pub tables: BTreeMap<String, String>,
    pub topics: BTreeMap<String, String>,
    /// The name of the platform's event bus in moto.
    pub bus: String,
    pub envs: BTreeMap<Handler, BTreeMap<String, String>>,
    sources: Vec<Source>,
    /// Where each function's failed asynchronous invocations go (its `DeadLetterConfig`), by queue id.
    dead_letter_queues: BTreeMap<Handler, String>,
    pub order: order::OrderService,
    pub inventory: inventory::InventoryService,
    pub payment: payment::PaymentService,
    pub shipping: shipping::ShippingService,
    pub dlq: dlq::DlqProcessor,
    /// Deliver every message twice (concurrently) to its handler.
    pub duplicate_delivery: bool,
    pub invocations: AtomicUsize,
    /// Asynchronous invocations dropped after their last attempt failed.
    pub discarded: AtomicUsize,
}

/// A queue Lambda polls for a function.
struct Source {
    queue: String,
    function: Handler,
    batch_size: usize,
    /// Delivers EventBridge events one by one (a rule targeting the function), not SQS batches.
    eventbridge: bool,
    /// Partial batch responses are on; without them one failed record fails its whole batch.
    report_batch_item_failures: bool,
}

/// What a run until quiescence did.
#[derive(Debug, Default)]
pub struct RunStats {
    pub rounds: usize,
    pub deliveries: usize,
    pub failures: usize,
}

fn capture_queue(f: Handler) -> String {
    format!("invoke-{}", f.binary_name().replace('_', "-"))
}

impl Platform {
    pub async fn deploy(wiring: &Wiring) -> Platform {
        let moto = MotoServer::start();
        let sdk = clients::local_sdk_config(&moto.endpoint).await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let sns = aws_sdk_sns::Client::new(&sdk);
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let events = aws_sdk_eventbridge::Client::new(&sdk);

        let mut tables = BTreeMap::new();
        for t in &wiring.tables {
            let name = t.id.clone();
            dynamodb
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(&t.partition_key)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap(),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(&t.partition_key)
                        .key_type(KeyType::Hash)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .expect("create table");
            tables.insert(t.id.clone(), name);
        }

        // Queues: DLQs first (declaration order), then capture queues for function targets.
        let mut queue_urls = BTreeMap::new();
        let mut queue_arns = BTreeMap::new();
        let mut queue_decls: Vec<(String, Option<(String, u32)>)> = wiring
            .queues
            .iter()
            .map(|q| (q.id.clone(), q.redrive.clone()))
            .collect();
        for r in &wiring.rules {
            for t in &r.targets {
                if let Target::Function(f) = t {
                    let id = capture_queue(*f);
                    if !queue_decls.iter().any(|(q, _)| *q == id) {
                        queue_decls.push((id, None));
                    }
                }
            }
        }
        for (id, redrive) in &queue_decls {
            let mut req = sqs.create_queue().queue_name(id);
            if let Some((dlq, max)) = redrive {
                let policy =
                    json!({"deadLetterTargetArn": queue_arns[dlq], "maxReceiveCount": max});
                req = req.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
            }
            let url = req.send().await.expect("create queue").queue_url.unwrap();
            let arn = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap()[&QueueAttributeName::QueueArn]
                .clone();
            queue_urls.insert(id.clone(), url);
            queue_arns.insert(id.clone(), arn);
        }

        let mut topics = BTreeMap::new();
        for t in &wiring.topics {
            let arn = sns
                .create_topic()
                .name(t)
                .send()
                .await
                .unwrap()
                .topic_arn
                .unwrap();
            topics.insert(t.clone(), arn);
        }
        for (topic, queue) in &wiring.subscriptions {
            sns.subscribe()
                .topic_arn(&topics[topic])
                .protocol("sqs")
                .endpoint(&queue_arns[queue])
                .send()
                .await
                .unwrap();
        }

        // Buses are named by their logical IDs; a rule without a bus is on the default bus, where the
        // handlers publish nothing.
        for b in &wiring.buses {
            events
                .create_event_bus()
                .name(b)
                .send()
                .await
                .expect("create bus");
        }
        let [bus] = wiring.buses.as_slice() else {
            panic!("one event bus expected, got {:?}", wiring.buses)
        };
        for r in &wiring.rules {
            let bus_name = r.bus.as_deref().unwrap_or("default");
            events
                .put_rule()
                .name(&r.id)
                .event_bus_name(bus_name)
                .event_pattern(r.pattern.to_string())
                .send()
                .await
                .expect("put rule");
            for (i, t) in r.targets.iter().enumerate() {
                let queue = match t {
                    Target::Queue(q) => q.clone(),
                    Target::Function(f) => capture_queue(*f),
                };
                let target = aws_sdk_eventbridge::types::Target::builder()
                    .id(format!("Target{i}"))
                    .arn(&queue_arns[&queue])
                    .build()
                    .unwrap();
                let out = events
                    .put_targets()
                    .rule(&r.id)
                    .event_bus_name(bus_name)
                    .targets(target)
                    .send()
                    .await
                    .expect("put targets");
                assert_eq!(out.failed_entry_count, 0, "targets of {}", r.id);
            }
        }

        let mut envs = BTreeMap::new();
        for f in &wiring.functions {
            let resolved: BTreeMap<String, String> = f
                .env
                .iter()
                .map(|(k, v)| {
                    let value = match v {
                        EnvValue::TableName(t) => tables[t].clone(),
                        EnvValue::QueueUrl(q) => queue_urls[q].clone(),
                        EnvValue::TopicArn(t) => topics[t].clone(),
                        EnvValue::BusName(b) => b.clone(),
                        EnvValue::Literal(l) => l.clone(),
                    };
                    (k.clone(), value)
                })
                .collect();
            envs.insert(f.function, resolved);
        }
        let mut sources: Vec<Source> = wiring
            .event_sources
            .iter()
            .map(|m| Source {
                queue: m.queue.clone(),
                function: m.function,
                batch_size: m.batch_size,
                eventbridge: false,
                report_batch_item_failures: m.report_batch_item_failures,
            })
            .collect();
        for r in &wiring.rules {
            for t in &r.targets {
                if let Target::Function(f) = t {
                    let id = capture_queue(*f);
                    if !sources.iter().any(|s| s.queue == id) {
                        sources.push(Source {
                            queue: id,
                            function: *f,
                            batch_size: 1,
                            eventbridge: true,
                            report_batch_item_failures: true,
                        });
                    }
                }
            }
        }
        let dead_letter_queues = wiring
            .functions
            .iter()
            .filter_map(|f| Some((f.function, f.dead_letter_queue.clone()?)))
            .collect();
        let env_of = |f: Handler| {
            envs.get(&f)
                .unwrap_or_else(|| panic!("no environment for {f:?}"))
        };
        Platform {
            order: order::OrderService::from_env(&sdk, env_of(Handler::OrderApi)).unwrap(),
            inventory: inventory::InventoryService::from_env(&sdk, env_of(Handler::Inventory))
                .unwrap(),
            payment: payment::PaymentService::from_env(&sdk, env_of(Handler::Payment)).unwrap(),
            shipping: shipping::ShippingService::from_env(&sdk, env_of(Handler::Shipping)).unwrap(),
            dlq: dlq::DlqProcessor::from_env(&sdk, env_of(Handler::DlqProcessor)).unwrap(),
            _moto: moto,
            sqs,
            dynamodb,
            events,
            queue_urls,
            queue_arns,
            tables,
            topics,
            bus: bus.clone(),
            envs,
            sources,
            dead_letter_queues,
            sdk,
            duplicate_delivery: false,
            invocations: AtomicUsize::new(0),
            discarded: AtomicUsize::new(0),
        }
    }

    /// The order_events function's service, built from its own environment.
    fn order_events(&self) -> order::OrderService {
        order::OrderService::from_env(&self.sdk, &self.envs[&Handler::OrderEvents]).unwrap()
    }

    /// Invokes `f` with an SQS batch; returns the ids of the failed records.
    async fn invoke_sqs(&self, f: Handler, event: SqsEvent) -> Vec<String> {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let response = match f {
            Handler::Inventory => inventory::handle_reservations(&self.inventory, event).await,
            Handler::InventoryCompensation => {
                let svc = inventory::InventoryService::from_env(
                    &self.sdk,
                    &self.envs[&Handler::InventoryCompensation],
                )
                .unwrap();
                inventory::handle_compensations(&svc, event).await
            }
            Handler::Payment => payment::handle(&self.payment, event).await,
            Handler::Shipping => shipping::handle(&self.shipping, event).await,
            Handler::DlqProcessor => dlq::handle(&self.dlq, event).await,
            Handler::OrderEvents => order::handle_sqs(&self.order_events(), event).await,
            Handler::OrderApi => panic!("the API function has no queue"),
        };
        response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    /// Invokes `f` asynchronously with one EventBridge event (a rule targeting the function).
    async fn invoke_event(&self, f: Handler, body: &str) -> bool {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        assert_eq!(
            f,
            Handler::OrderEvents,
            "only order_events is a rule target"
        );
        let event: EventBridgeEvent<Value> = match serde_json::from_str(body) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("not an EventBridge event: {e}: {body}");
                return false;
            }
        };
        match order::handle_event(&self.order_events(), event).await {
            Ok(_) => true,
            Err(e) => {
                eprintln!("order_events failed: {e}");
                false
            }
        }
    }

    async fn poll_source(&self, source: &Source) -> (usize, usize) {
        let Source {
            queue,
            function: f,
            batch_size,
            eventbridge,
            report_batch_item_failures,
        } = source;
        let (queue, f, batch_size, eventbridge) = (queue.as_str(), *f, *batch_size, *eventbridge);
        let url = &self.queue_urls[queue];
        let out = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .wait_time_seconds(0)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return (0, 0);
        }
        let records: Vec<SqsMessage> = messages
            .iter()
            .map(|m| {
                let mut r = SqsMessage::default();
                r.message_id = m.message_id.clone();
                r.receipt_handle = m.receipt_handle.clone();
                r.body = m.body.clone();
                r.md5_of_body = m.md5_of_body.clone();
                r.attributes = m
                    .attributes
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_string(), v))
                    .collect();
                r.message_attributes = m
                    .message_attributes
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| {
                        let mut a = SqsMessageAttribute::default();
                        a.data_type = Some(v.data_type);
                        a.string_value = v.string_value;
                        (k, a)
                    })
                    .collect();
                r.event_source = Some("aws:sqs".into());
                r.event_source_arn = Some(self.queue_arns[queue].clone());
                r.aws_region = Some("us-east-1".into());
                r
            })
            .collect();
        let deliveries = if self.duplicate_delivery { 2 } else { 1 };
        let mut failed: HashMap<String, ()> = HashMap::new();
        if eventbridge {
            let runs = records.iter().flat_map(|r| {
                (0..deliveries).map(move |_| async move {
                    let ok = self.invoke_event(f, r.body.as_deref().unwrap_or("")).await;
                    (r.message_id.clone().unwrap_or_default(), ok)
                })
            });
            for (id, ok) in futures_util::future::join_all(runs).await {
                if !ok {
                    failed.insert(id, ());
                }
            }
        } else {
            let runs = records.chunks(batch_size).flat_map(|chunk| {
                (0..deliveries).map(move |_| {
                    let mut event = SqsEvent::default();
                    event.records = chunk.to_vec();
                    self.invoke_sqs(f, event)
                })
            });
            let chunks: Vec<&[SqsMessage]> = records
                .chunks(batch_size)
                .flat_map(|c| std::iter::repeat_n(c, deliveries))
                .collect();
            for (ids, chunk) in futures_util::future::join_all(runs)
                .await
                .into_iter()
                .zip(chunks)
            {
                // Without ReportBatchItemFailures Lambda treats any failure as the whole batch's.
                let ids = if ids.is_empty() || *report_batch_item_failures {
                    ids
                } else {
                    chunk.iter().filter_map(|r| r.message_id.clone()).collect()
                };
                for id in ids {
                    failed.insert(id, ());
                }
            }
        }
        for m in &messages {
            let id = m.message_id.clone().unwrap_or_default();
            let handle = m.receipt_handle.clone().unwrap_or_default();
            let receives: u32 = m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            if failed.contains_key(&id) && eventbridge && receives >= ASYNC_INVOKE_ATTEMPTS {
                // Lambda's asynchronous invocation gives up after 3 attempts: the event goes to the
                // function's dead-letter queue, or is dropped when it has none.
                self.discarded.fetch_add(1, Ordering::Relaxed);
                if let Some(dlq) = self.dead_letter_queues.get(&f) {
                    self.sqs
                        .send_message()
                        .queue_url(&self.queue_urls[dlq])
                        .message_body(m.body.clone().unwrap_or_default())
                        .send()
                        .await
                        .expect("send to the function's dead-letter queue");
                }
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete");
            } else if failed.contains_key(&id) {
                // Lambda leaves a failed record invisible until its visibility timeout; the
                // harness shortens that wait to nothing.
                self.sqs
                    .change_message_visibility()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("change visibility");
            } else {
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .expect("delete");
            }
        }
        (messages.len(), failed.len())
    }

    /// Polls every source and calls the handlers until two consecutive rounds find nothing
    /// (bounded: at most `max_rounds` rounds and 90 s).
    pub async fn run_until_quiescent(&self, max_rounds: usize) -> RunStats {
        let started = Instant::now();
        let mut stats = RunStats::default();
        let mut idle_rounds = 0;
        while stats.rounds < max_rounds && started.elapsed() < Duration::from_secs(90) {
            stats.rounds += 1;
            let polls = self.sources.iter().map(|s| self.poll_source(s));
            let results = futures_util::future::join_all(polls).await;
            let received: usize = results.iter().map(|r| r.0).sum();
            stats.deliveries += received;
            stats.failures += results.iter().map(|r| r.1).sum::<usize>();
            if received == 0 {
                idle_rounds += 1;
                if idle_rounds >= 2 {
                    return stats;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            } else {
                idle_rounds = 0;
            }
        }
        panic!(
            "the platform did not become quiescent: {stats:?} after {:?}",
            started.elapsed()
        );
    }

    /// Every message now on a queue that no function consumes (an inbox or a DLQ), removed.
    pub async fn drain(&self, queue: &str) -> Vec<String> {
        let url = &self.queue_urls[queue];
        let mut bodies = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for m in messages {
                bodies.push(m.body.unwrap_or_default());
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// The name of the table the handlers know by `spec` (through its environment variable).
    pub fn table_name(&self, spec: &TableSpec) -> &str {
        self.envs
            .values()
            .find_map(|e| e.get(spec.env_var))
            .unwrap_or_else(|| panic!("no function has {}", spec.env_var))
    }

    /// All items of a table.
    pub async fn scan(
        &self,
        spec: &TableSpec,
    ) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let out = self
            .dynamodb
            .scan()
            .table_name(self.table_name(spec))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        out.items.unwrap_or_default()
    }

    pub fn account(&self) -> &'static str {
        ACCOUNT
    }
}
