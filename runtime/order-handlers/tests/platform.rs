//! The order platform end to end on `cfnkit-local`, the product `cargo cfn local` runs: the order-flow stacks
//! synthesized from `stacks::app()`, their resources created in moto, the handlers' real binaries behind the
//! local Lambda Runtime API, event sources, rules and the REST API served as AWS runs them, and every call a
//! handler makes checked against its role. Orders go in through the API over HTTP; the tests read the tables
//! and queues through the run's AWS endpoint.
//!
//! Knobs of the tests, not of the wiring, are applied to the synthesized templates before the run starts: the
//! simulated payment provider's decline rate (`PAYMENT_FAILURE_PERCENT`) and, for the poison message, short
//! visibility timeouts (nine receives of a minute each would take nine minutes).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderValue, Method};
use aws_sdk_dynamodb::types::AttributeValue;
use cfnkit_local::apigw::{serve, LocalApis, LocalIdentity, ServeOptions};
use cfnkit_local::invoke::{FunctionRef, Invoke, InvokeFuture};
use cfnkit_local::model::{LocalApp, Templates, DEFAULT_ACCOUNT};
use cfnkit_local::run::{LocalError, LocalOptions, LocalRun};
use cfnkit_local::{pattern, sources};
use contracts::env::{self, Handler};
use contracts::tables::{self, TableSpec};
use contracts::{
    CreateOrderResponse, DomainEvent, ErrorBody, OrderPlaced, OrderStatus, OrderView,
    PaymentConfirmation, PaymentFailed, ShipmentCreated, StockConfirmation,
};
use handler_support::clients;
use order_handlers::{dlq, inventory, order, payment, shipping};
use serde_json::{json, Value};

/// The stacks of the order flow; the run adds the stacks they import from.
const STACKS: [&str; 4] = ["Order", "Inventory", "Payment", "Shipping"];

/// The signed-in user requests to the order API are made as (its Cognito authorizer takes the local identity).
const CUSTOMER: &str = "local-customer";

#[derive(Clone, Copy, Default)]
struct Knobs {
    payment_failure_percent: u32,
    /// Every SQS batch and asynchronous invocation delivered twice, concurrently.
    deliver_twice: bool,
    /// Queues' visibility timeouts of 1 s, so that a message failed nine times is through in seconds.
    short_visibility: bool,
}

/// The order-flow stacks as synthesized, resolved by cfnkit-local's model.
fn templates() -> Templates {
    let app = stacks::app().expect("the platform app builds");
    Templates::from_app(&app).expect("the platform synthesizes")
}

/// Every resource of `templates` for which `select(type, resource)` holds, mutably.
fn resources_mut<'a>(
    templates: &'a mut Templates,
    type_name: &'a str,
) -> impl Iterator<Item = (&'a str, &'a mut Value)> + 'a {
    templates.stacks.iter_mut().flat_map(move |s| {
        let stack = s.name.as_str();
        s.template["Resources"]
            .as_object_mut()
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r["Type"] == type_name)
            .map(move |(_, r)| (stack, r))
    })
}

/// The binary a function resource runs, from the asset metadata `Code::cargo_bin` writes.
fn bin_of(metadata: &Value) -> &str {
    let asset = &metadata["cfnkit:asset"];
    asset
        .as_str()
        .or_else(|| asset["bin"].as_str())
        .unwrap_or_default()
}

/// The function resource running `handler`'s binary.
fn function_mut(templates: &mut Templates, handler: Handler) -> &mut Value {
    resources_mut(templates, "AWS::Lambda::Function")
        .map(|(_, r)| r)
        .find(|r| bin_of(&r["Metadata"]) == handler.binary_name())
        .unwrap_or_else(|| panic!("no function runs {}", handler.binary_name()))
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The platform running locally, with the handlers' services built from the functions' resolved environments
/// (for setup and for reading state), talking to the run's AWS endpoint with credentials of no function.
struct Platform {
    run: LocalRun,
    /// The REST API's URL with its stage.
    api: String,
    sdk: SdkConfig,
    sqs: aws_sdk_sqs::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    envs: BTreeMap<Handler, BTreeMap<String, String>>,
    /// Queues the tests subscribe to topics to see notifications, and those the run created, by logical ID.
    queues: BTreeMap<String, String>,
    logs: Arc<Mutex<Vec<String>>>,
    inventory: inventory::InventoryService,
    payment: payment::PaymentService,
    shipping: shipping::ShippingService,
}

impl Platform {
    async fn start(knobs: Knobs) -> Platform {
        let mut t = templates();
        function_mut(&mut t, Handler::Payment)["Properties"]["Environment"]["Variables"]
            [env::PAYMENT_FAILURE_PERCENT] = json!(knobs.payment_failure_percent.to_string());
        if knobs.short_visibility {
            for (_, q) in resources_mut(&mut t, "AWS::SQS::Queue") {
                q["Properties"]["VisibilityTimeout"] = json!(1);
            }
        }
        let logs: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = logs.clone();
        let mut options = LocalOptions {
            stacks: STACKS.map(str::to_owned).to_vec(),
            workspace: workspace(),
            deliver_twice: knobs.deliver_twice,
            logs: Some(Arc::new(move |name: &str, line: &str| {
                sink.lock().unwrap().push(format!("{name} | {line}"))
            })),
            apis: Some(Arc::new(LocalApis {
                options: ServeOptions {
                    base_port: 0,
                    identity: Some(LocalIdentity::user(DEFAULT_ACCOUNT, CUSTOMER)),
                },
            })),
            ..LocalOptions::default()
        };
        // Lambda retries a failed asynchronous invocation after a minute and two; the scenarios wait for a
        // third attempt.
        options.async_config.retry_delays = vec![Duration::from_millis(200)];
        let run = LocalRun::start(&t, options)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let api = run
            .apis
            .iter()
            .find(|(label, _)| label.starts_with("Order/"))
            .unwrap_or_else(|| panic!("the order API is not served: {:?}", run.apis))
            .1
            .clone();
        let sdk = clients::local_sdk_config(run.endpoint()).await;
        let envs: BTreeMap<Handler, BTreeMap<String, String>> = run
            .runner()
            .functions()
            .filter_map(|spec| {
                let handler = Handler::ALL
                    .into_iter()
                    .find(|h| h.binary_name() == spec.bin)?;
                Some((handler, spec.environment.clone()))
            })
            .collect();
        let mut queues: BTreeMap<String, String> = run
            .app
            .of_type("AWS::SQS::Queue")
            .map(|(_, q)| (q.logical_id.clone(), q.physical_id.clone()))
            .collect();
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let sns = aws_sdk_sns::Client::new(&sdk);
        // How the tests see notifications: a queue subscribed to each topic the handlers publish to.
        for (inbox, handler, var) in [
            (
                "CustomerInbox",
                Handler::Payment,
                env::CUSTOMER_NOTIFICATION_TOPIC_ARN,
            ),
            ("OpsInbox", Handler::DlqProcessor, env::OPS_ALERT_TOPIC_ARN),
        ] {
            let url = sqs
                .create_queue()
                .queue_name(inbox)
                .send()
                .await
                .unwrap()
                .queue_url
                .unwrap();
            let arn = format!("arn:aws:sqs:us-east-1:{DEFAULT_ACCOUNT}:{inbox}");
            sns.subscribe()
                .topic_arn(&envs[&handler][var])
                .protocol("sqs")
                .endpoint(arn)
                .send()
                .await
                .unwrap();
            queues.insert(inbox.to_owned(), url);
        }
        Platform {
            inventory: inventory::InventoryService::from_env(&sdk, &envs[&Handler::Inventory])
                .unwrap(),
            payment: payment::PaymentService::from_env(&sdk, &envs[&Handler::Payment]).unwrap(),
            shipping: shipping::ShippingService::from_env(&sdk, &envs[&Handler::Shipping]).unwrap(),
            dynamodb: aws_sdk_dynamodb::Client::new(&sdk),
            sqs,
            sdk,
            envs,
            queues,
            api,
            logs,
            run,
        }
    }

    /// The order service with its own environment, but publishing to a bus no rule listens on: for tests of
    /// the service's logic that must not start the saga.
    fn order_service_without_saga(&self) -> order::OrderService {
        let mut env = self.envs[&Handler::OrderApi].clone();
        env.insert(env::EVENT_BUS_NAME.to_owned(), "default".to_owned());
        order::OrderService::from_env(&self.sdk, &env).unwrap()
    }

    /// One request to the order API over HTTP.
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        use http_body_util::BodyExt;
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.api))
            .header("content-type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let response = client
            .request(
                request
                    .body(http_body_util::Full::new(body.into()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn place_order(&self, customer: &str, lines: Value, key: Option<&str>) -> String {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        let (status, body) = self
            .request(
                "POST",
                "/orders",
                &headers,
                Some(json!({"customerId": customer, "lines": lines})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let created: CreateOrderResponse = serde_json::from_value(body).unwrap();
        assert_eq!(created.status, OrderStatus::Pending);
        created.order_id
    }

    async fn get_order(&self, id: &str) -> OrderView {
        let (status, body) = self
            .request("GET", &format!("/orders/{id}"), &[], None)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// Waits until the order is shipped or cancelled.
    async fn final_state(&self, id: &str) -> OrderView {
        self.eventually(60, &format!("order {id} shipped or cancelled"), || async {
            let view = self.get_order(id).await;
            matches!(view.status, OrderStatus::Shipped | OrderStatus::Cancelled).then_some(view)
        })
        .await
    }

    /// Polls `f` every 100 ms for at most `seconds`; a timeout panics with the handlers' last lines.
    async fn eventually<T, F, Fut>(&self, seconds: u64, what: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            if Instant::now() > deadline {
                let logs = self.logs.lock().unwrap();
                let tail = &logs[logs.len().saturating_sub(40)..];
                panic!(
                    "timed out after {seconds} s waiting for {what}\nnotes: {:#?}\nlast lines:\n{}",
                    self.run.notes(),
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until nothing moves: no invocation for a second and no message on a queue a function consumes.
    async fn quiescent(&self) {
        let (mappings, _) = sources::sqs::mappings(&self.run.app);
        let deadline = Instant::now() + Duration::from_secs(90);
        let (mut last, mut still) = (None, 0);
        while still < 10 {
            assert!(
                Instant::now() < deadline,
                "the platform did not become quiescent in 90 s: {:#?}",
                self.run.notes()
            );
            let counts: Vec<u64> = self
                .run
                .summary()
                .await
                .functions
                .values()
                .map(|c| c.invocations)
                .collect();
            let mut waiting = 0;
            for m in &mappings {
                waiting += self.messages_on(&m.queue_url).await;
            }
            still = if waiting == 0 && last.as_ref() == Some(&counts) {
                still + 1
            } else {
                0
            };
            last = Some(counts);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn messages_on(&self, url: &str) -> u64 {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap();
        let attributes = out.attributes.unwrap_or_default();
        [
            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
            aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|k| attributes.get(k)?.parse::<u64>().ok())
        .sum()
    }

    /// Every message now on a queue (by logical ID, or an inbox), removed.
    async fn drain(&self, queue: &str) -> Vec<String> {
        self.drain_url(&self.queues[queue]).await
    }

    async fn drain_url(&self, url: &str) -> Vec<String> {
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

    /// All items of the table the handlers know by `spec`.
    async fn scan(&self, spec: &TableSpec) -> Vec<HashMap<String, AttributeValue>> {
        let table = self
            .envs
            .values()
            .find_map(|e| e.get(spec.env_var))
            .unwrap_or_else(|| panic!("no function has {}", spec.env_var));
        self.dynamodb
            .scan()
            .table_name(table)
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default()
    }
}

/// Invocations of the function running `handler`'s binary, in a run's summary.
fn invocations(
    app: &LocalApp,
    summary: &cfnkit_local::trace::Summary,
    handler: Handler,
) -> (u64, u64) {
    summary
        .functions
        .iter()
        .filter(|(f, _)| handler_of(app, f) == handler)
        .fold((0, 0), |(i, f), (_, c)| (i + c.invocations, f + c.failures))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_order_ends_shipped() {
    let p = Platform::start(Knobs::default()).await;
    inventory::put_stock(&p.inventory, "widget", 10)
        .await
        .unwrap();
    inventory::put_stock(&p.inventory, "gadget", 3)
        .await
        .unwrap();
    let id = p
        .place_order(
            "cust-1",
            json!([
                {"productId": "widget", "quantity": 2, "unitPriceCents": 500},
                {"productId": "gadget", "quantity": 1, "unitPriceCents": 1250},
                {"productId": "widget", "quantity": 1, "unitPriceCents": 500}
            ]),
            None,
        )
        .await;
    let view = p.final_state(&id).await;
    assert_eq!(view.status, OrderStatus::Shipped, "{view:?}");
    assert_eq!(view.total_cents, 2 * 500 + 1250 + 500);
    assert!(
        view.payment_id.is_some() && view.shipment_id.is_some(),
        "{view:?}"
    );
    p.quiescent().await;
    assert_eq!(
        inventory::stock_of(&p.inventory, "widget").await.unwrap(),
        Some(7)
    );
    assert_eq!(
        inventory::stock_of(&p.inventory, "gadget").await.unwrap(),
        Some(2)
    );
    assert_eq!(
        inventory::reservation_status(&p.inventory, &id)
            .await
            .unwrap()
            .as_deref(),
        Some(inventory::RESERVED)
    );
    let pay = payment::load_payment(&p.payment, &id)
        .await
        .unwrap()
        .expect("payment recorded");
    assert_eq!(pay.status, payment::CONFIRMED);
    assert_eq!(pay.amount_cents, view.total_cents);
    assert_eq!(Some(pay.payment_id), view.payment_id);
    let ship = shipping::load_shipment(&p.shipping, &id)
        .await
        .unwrap()
        .expect("shipment recorded");
    assert_eq!(Some(ship.shipment_id), view.shipment_id);
    assert!(
        p.drain("CustomerInbox").await.is_empty(),
        "no customer notification on success"
    );
    let summary = p.run.stop().await;
    assert!(
        summary.functions.values().all(|c| c.failures == 0),
        "{summary}"
    );
    assert!(summary.dead_letters.is_empty(), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_failure_releases_stock_cancels_and_notifies() {
    let p = Platform::start(Knobs {
        payment_failure_percent: 100,
        ..Knobs::default()
    })
    .await;
    inventory::put_stock(&p.inventory, "widget", 4)
        .await
        .unwrap();
    let id = p
        .place_order(
            "cust-2",
            json!([{"productId": "widget", "quantity": 3, "unitPriceCents": 100}]),
            None,
        )
        .await;
    let view = p.final_state(&id).await;
    assert_eq!(view.status, OrderStatus::Cancelled, "{view:?}");
    assert!(
        view.reason
            .as_deref()
            .unwrap_or("")
            .contains("payment failed"),
        "{view:?}"
    );
    assert!(view.shipment_id.is_none());
    p.quiescent().await;
    assert_eq!(
        inventory::stock_of(&p.inventory, "widget").await.unwrap(),
        Some(4),
        "stock released"
    );
    assert_eq!(
        inventory::reservation_status(&p.inventory, &id)
            .await
            .unwrap()
            .as_deref(),
        Some(inventory::RELEASED)
    );
    let pay = payment::load_payment(&p.payment, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pay.status, payment::FAILED);
    assert!(pay.customer_notified);
    assert!(shipping::load_shipment(&p.shipping, &id)
        .await
        .unwrap()
        .is_none());

    // The customer topic delivered one notification to its SQS subscriber.
    let inbox = p.drain("CustomerInbox").await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let envelope: Value = serde_json::from_str(&inbox[0]).unwrap();
    assert_eq!(envelope["Type"], json!("Notification"));
    assert_eq!(
        envelope["TopicArn"],
        json!(p.envs[&Handler::Payment][env::CUSTOMER_NOTIFICATION_TOPIC_ARN])
    );
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["orderId"], json!(id));
    assert_eq!(message["customerId"], json!("cust-2"));
    p.run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_orders_for_five_items() {
    let p = Platform::start(Knobs::default()).await;
    inventory::put_stock(&p.inventory, "limited", 5)
        .await
        .unwrap();
    let placing = (0..20).map(|i| {
        let p = &p;
        async move {
            p.place_order(
                &format!("cust-{i}"),
                json!([{"productId": "limited", "quantity": 1, "unitPriceCents": 999}]),
                None,
            )
            .await
        }
    });
    let ids = futures_util::future::join_all(placing).await;
    let mut shipped = 0;
    let mut cancelled = 0;
    for id in &ids {
        let view = p.final_state(id).await;
        match view.status {
            OrderStatus::Shipped => shipped += 1,
            OrderStatus::Cancelled => {
                assert!(
                    view.reason
                        .as_deref()
                        .unwrap_or("")
                        .contains("insufficient stock"),
                    "{view:?}"
                );
                cancelled += 1
            }
            other => panic!("order {id} ended {other:?}"),
        }
    }
    assert_eq!((shipped, cancelled), (5, 15));
    p.quiescent().await;
    assert_eq!(
        inventory::stock_of(&p.inventory, "limited").await.unwrap(),
        Some(0)
    );
    let reserved = p
        .scan(&tables::INVENTORY)
        .await
        .iter()
        .filter(|i| {
            i.get("status")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(inventory::RESERVED)
        })
        .count();
    assert_eq!(reserved, 5);
    assert_eq!(p.scan(&tables::PAYMENTS).await.len(), 5);
    assert_eq!(p.scan(&tables::SHIPMENTS).await.len(), 5);
    p.run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_delivered_twice_has_no_doubled_effect() {
    let p = Platform::start(Knobs {
        payment_failure_percent: 50,
        deliver_twice: true,
        ..Knobs::default()
    })
    .await;
    inventory::put_stock(&p.inventory, "widget", 100)
        .await
        .unwrap();
    // Idempotency keys chosen so that three payments succeed and three are declined.
    let (mut ok, mut declined) = (Vec::new(), Vec::new());
    for k in 0.. {
        let key = format!("key-{k}");
        let id = order::idempotent_order_id("cust", &key);
        let bucket = if payment::simulated_provider_declines(&id, 50) {
            &mut declined
        } else {
            &mut ok
        };
        if bucket.len() < 3 {
            bucket.push(key);
        }
        if ok.len() == 3 && declined.len() == 3 {
            break;
        }
    }
    let mut ids = Vec::new();
    let lines = json!([{"productId": "widget", "quantity": 2, "unitPriceCents": 10}]);
    for key in ok.iter().chain(&declined) {
        // The client retries too: the same key twice is one order.
        for _ in 0..2 {
            let id = p.place_order("cust", lines.clone(), Some(key)).await;
            assert_eq!(id, order::idempotent_order_id("cust", key));
        }
        ids.push(order::idempotent_order_id("cust", key));
    }
    let mut shipped = 0;
    for id in &ids {
        let view = p.final_state(id).await;
        let declined = payment::simulated_provider_declines(id, 50);
        let expected = if declined {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Shipped
        };
        assert_eq!(view.status, expected, "{view:?}");
        if !declined {
            shipped += 1;
        }
    }
    p.quiescent().await;
    // Stock is reduced once per shipped order; cancelled orders' reservations released once.
    assert_eq!(
        inventory::stock_of(&p.inventory, "widget").await.unwrap(),
        Some(100 - 2 * shipped)
    );
    assert_eq!(p.scan(&tables::PAYMENTS).await.len(), ids.len());
    assert_eq!(p.scan(&tables::SHIPMENTS).await.len(), shipped as usize);
    // One notification per failed payment, although every message came twice.
    let notified = p.drain("CustomerInbox").await;
    assert_eq!(notified.len(), ids.len() - shipped as usize, "{notified:?}");
    let app = p.run.app.clone();
    let summary = p.run.stop().await;
    // Each of the six orders' payment requests reached the payment function twice.
    assert!(
        invocations(&app, &summary, Handler::Payment).0 >= 12,
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_goes_to_the_dlq_and_is_parked() {
    let p = Platform::start(Knobs {
        short_visibility: true,
        ..Knobs::default()
    })
    .await;
    // A PaymentConfirmation whose detail does not fit the contract: the shipping rule routes it,
    // the shipping function can never process it.
    let events = aws_sdk_eventbridge::Client::new(&p.sdk);
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(&p.envs[&Handler::Payment][env::EVENT_BUS_NAME])
        .source(PaymentConfirmation::SOURCE)
        .detail_type(PaymentConfirmation::DETAIL_TYPE)
        .detail(json!({"orderId": 42, "note": "poison"}).to_string())
        .build();
    let out = events.put_events().entries(entry).send().await.unwrap();
    assert_eq!(out.failed_entry_count, 0);

    // maxReceiveCount 3 on the shipping queue, re-driven twice by the DLQ processor: three trips
    // through the DLQ, the last one parks it.
    let parked = p
        .eventually(120, "the poison message parked", || async {
            let parked: Vec<_> = p
                .scan(&tables::SHIPMENTS)
                .await
                .into_iter()
                .filter(|i| i["pk"].as_s().unwrap().starts_with("PARKED#"))
                .collect();
            (!parked.is_empty()).then_some(parked)
        })
        .await;
    // The order function (a direct rule target) gives up on it after three attempts, and Lambda puts it in
    // the function's dead-letter queue.
    let dead = p
        .eventually(60, "the order function's dead letter", || async {
            let dead = p.drain("OrderEventsDlq").await;
            (!dead.is_empty()).then_some(dead)
        })
        .await;
    p.quiescent().await;
    assert_eq!(parked.len(), 1, "{parked:?}");
    let body = parked[0]["body"].as_s().unwrap();
    assert!(body.contains("poison"), "{body}");
    assert_eq!(parked[0]["redriveCount"].as_n().unwrap(), "2");
    let alerts = p.drain("OpsInbox").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("parked"), "{}", alerts[0]);
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].contains("poison"), "{}", dead[0]);
    assert!(p.drain("OrderEventsDlq").await.is_empty());
    assert!(p.drain("ShippingQueue").await.is_empty());
    assert!(p.drain("ShippingDlq").await.is_empty());
    let app = p.run.app.clone();
    let summary = p.run.stop().await;
    // Three deliveries per trip, three trips; the DLQ processor saw it three times.
    assert!(
        invocations(&app, &summary, Handler::Shipping).0 >= 9,
        "{summary}"
    );
    assert!(
        invocations(&app, &summary, Handler::DlqProcessor).0 >= 3,
        "{summary}"
    );
    assert_eq!(
        invocations(&app, &summary, Handler::OrderEvents),
        (3, 3),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_processor_counts_redrives_in_a_message_attribute() {
    let p = Platform::start(Knobs::default()).await;
    // The processor's logic called directly, redriving to a queue of the test's own: the shipping queue has
    // the shipping function polling it.
    let redrive = p
        .sqs
        .create_queue()
        .queue_name("RedriveInbox")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let mut env = p.envs[&Handler::DlqProcessor].clone();
    env.insert(env::REDRIVE_QUEUE_URL.to_owned(), redrive.clone());
    let processor = dlq::DlqProcessor::from_env(&p.sdk, &env).unwrap();
    let mut record = aws_lambda_events::sqs::SqsMessage::default();
    record.message_id = Some("m-1".into());
    record.body = Some("{}".into());
    assert_eq!(dlq::redrive_count(&record), 0);
    let outcome = dlq::process_dead_letter(&processor, &record).await.unwrap();
    assert_eq!(outcome, dlq::DeadLetter::Redriven { attempt: 1 });
    let mut attr = aws_lambda_events::sqs::SqsMessageAttribute::default();
    attr.data_type = Some("Number".into());
    attr.string_value = Some("2".into());
    record
        .message_attributes
        .insert(env::REDRIVE_COUNT_ATTRIBUTE.into(), attr);
    assert_eq!(
        dlq::process_dead_letter(&processor, &record).await.unwrap(),
        dlq::DeadLetter::Parked
    );
    // The same dead letter delivered again: parked once, alerted once.
    assert_eq!(
        dlq::process_dead_letter(&processor, &record).await.unwrap(),
        dlq::DeadLetter::AlreadyParked
    );
    let alerts = p
        .eventually(10, "the ops alert", || async {
            let a = p.drain("OpsInbox").await;
            (!a.is_empty()).then_some(a)
        })
        .await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(p.drain_url(&redrive).await, vec!["{}".to_string()]);
    assert!(p.drain("OpsInbox").await.is_empty());
    p.run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_order_is_rejected_with_field_errors_and_nothing_written() {
    let p = Platform::start(Knobs::default()).await;
    let bad = json!({
        "customerId": "",
        "lines": [{"productId": "p", "quantity": 0, "unitPriceCents": 1, "colour": "red"}]
    });
    // The gateway validates the body against the model from the contracts before the function runs.
    for body in [Some(bad.clone()), None, Some(json!({"lines": []}))] {
        let (status, answer) = p.request("POST", "/orders", &[], body).await;
        assert_eq!(
            (status, answer),
            (400, json!({"message": "Invalid request body"}))
        );
    }
    // The function refuses the same bodies with field errors, should anything else invoke it.
    let service = p.order_service_without_saga();
    let resp = order::handle_api(&service, api_request(Method::POST, "/orders", Some(bad)))
        .await
        .unwrap();
    assert_eq!(resp.status_code, 400);
    let body: ErrorBody = serde_json::from_value(body_json(&resp)).unwrap();
    let fields: Vec<&str> = body.field_errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec!["/customerId", "/lines/0/colour", "/lines/0/quantity"],
        "{body:?}"
    );
    let resp = order::handle_api(&service, api_request(Method::POST, "/orders", None))
        .await
        .unwrap();
    assert_eq!(resp.status_code, 400);
    let resp = order::handle_api(
        &service,
        api_request(Method::POST, "/orders", Some(json!({"lines": []}))),
    )
    .await
    .unwrap();
    assert_eq!(resp.status_code, 400);

    p.quiescent().await;
    assert!(p.scan(&tables::ORDERS).await.is_empty(), "nothing written");
    let summary = p.run.stop().await;
    assert!(summary.functions.is_empty(), "nothing invoked: {summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_unknown_order_is_404_and_idempotency_key_names_one_order() {
    let p = Platform::start(Knobs::default()).await;
    let (status, body) = p.request("GET", "/orders/ord-nope", &[], None).await;
    assert_eq!(status, 404);
    let body: ErrorBody = serde_json::from_value(body).unwrap();
    assert!(body.message.contains("ord-nope"));

    let lines = json!([{"productId": "p", "quantity": 1, "unitPriceCents": 1}]);
    let first = p.place_order("c", lines.clone(), Some("key-1")).await;
    let again = p.place_order("c", lines, Some("key-1")).await;
    assert_eq!(first, again);
    assert_eq!(p.scan(&tables::ORDERS).await.len(), 1);
    let (status, body) = p
        .request(
            "POST",
            "/orders",
            &[("Idempotency-Key", "key-1")],
            Some(
                json!({"customerId": "c", "lines": [{"productId": "p", "quantity": 2, "unitPriceCents": 1}]}),
            ),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // The API has no DELETE method: the gateway answers as API Gateway does, and the function would refuse it.
    let (status, body) = p.request("DELETE", "/orders", &[], None).await;
    assert_eq!(
        (status, body),
        (403, json!({"message": "Missing Authentication Token"}))
    );
    let resp = order::handle_api(
        &p.order_service_without_saga(),
        api_request(Method::DELETE, "/orders", None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status_code, 405);
    p.run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_state_never_moves_backwards() {
    let p = Platform::start(Knobs::default()).await;
    // Placed without starting the saga, so that only the test moves its state.
    let service = p.order_service_without_saga();
    let resp = order::handle_api(
        &service,
        api_request(
            Method::POST,
            "/orders",
            Some(
                json!({"customerId": "c", "lines": [{"productId": "p", "quantity": 1, "unitPriceCents": 1}]}),
            ),
        ),
    )
    .await
    .unwrap();
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    let id = body_json(&resp)["orderId"].as_str().unwrap().to_owned();
    let t = |to| order::transition(&service, &id, to, &[]);
    assert_eq!(
        t(OrderStatus::Paid).await.unwrap(),
        order::Transition::Applied(OrderStatus::Paid)
    );
    assert_eq!(
        t(OrderStatus::StockReserved).await.unwrap(),
        order::Transition::Ignored {
            current: OrderStatus::Paid
        }
    );
    assert_eq!(
        t(OrderStatus::Cancelled).await.unwrap(),
        order::Transition::Ignored {
            current: OrderStatus::Paid
        }
    );
    assert_eq!(
        t(OrderStatus::Shipped).await.unwrap(),
        order::Transition::Applied(OrderStatus::Shipped)
    );
    assert_eq!(
        t(OrderStatus::Shipped).await.unwrap(),
        order::Transition::Ignored {
            current: OrderStatus::Shipped
        }
    );
    assert!(
        order::transition(&service, "ord-missing", OrderStatus::Paid, &[])
            .await
            .is_err()
    );
    // What the API serves is what the transitions left.
    assert_eq!(p.get_order(&id).await.status, OrderStatus::Shipped);
    p.run.stop().await;
}

fn api_request(method: Method, path: &str, body: Option<Value>) -> ApiGatewayProxyRequest {
    let mut r = ApiGatewayProxyRequest::default();
    r.http_method = method;
    r.path = Some(path.to_string());
    r.body = body.map(|b| b.to_string());
    r.headers
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn body_json(r: &ApiGatewayProxyResponse) -> Value {
    match &r.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("unexpected body {other:?}"),
    }
}

// The wiring: what used to be checked on a hand-written reading of the templates is checked on cfnkit-local's
// model of them (the one the run uses) and its API server, without starting anything.

/// The order-flow app as the run resolves it, from `templates`.
fn resolved(templates: &Templates) -> LocalApp {
    templates
        .select(&STACKS.map(str::to_owned))
        .and_then(|t| t.resolve(&Default::default()))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn handler_of(app: &LocalApp, f: &FunctionRef) -> Handler {
    let r = app.resource(&f.stack, &f.logical_id).unwrap();
    let bin = bin_of(&r.metadata);
    Handler::ALL
        .into_iter()
        .find(|h| h.binary_name() == bin)
        .unwrap_or_else(|| panic!("{f} runs {bin:?}, not a binary of order-handlers"))
}

/// The handlers an event put on the platform's bus reaches: the bus's rules whose pattern matches it (with
/// EventBridge's matching, as the run applies it), their function targets, and the functions polling their
/// queue targets.
fn route(app: &LocalApp, event: &Value) -> Vec<Handler> {
    let (mappings, _) = sources::sqs::mappings(app);
    let mut reached = Vec::new();
    for (_, rule) in app.of_type("AWS::Events::Rule") {
        if !pattern::matches(&rule.properties["EventPattern"], event) {
            continue;
        }
        for target in rule.properties["Targets"].as_array().into_iter().flatten() {
            let arn = target["Arn"].as_str().unwrap_or_default();
            if let Some(f) = sources::function_named(app, arn) {
                reached.push(handler_of(app, &f));
            }
            reached.extend(
                mappings
                    .iter()
                    .filter(|m| m.queue_arn == arn)
                    .map(|m| handler_of(app, &m.function)),
            );
        }
    }
    reached.sort();
    reached
}

fn sample<E: DomainEvent>(detail: Value) -> (String, Value) {
    let name = format!("{} {detail}", E::DETAIL_TYPE);
    let event = json!({"source": E::SOURCE, "detail-type": E::DETAIL_TYPE, "detail": detail});
    (name, event)
}

/// Each event of the order flow and the handlers that handle it (the table in runtime/README.md).
fn expected_routes() -> Vec<((String, Value), Vec<Handler>)> {
    use Handler::*;
    vec![
        (sample::<OrderPlaced>(json!({})), vec![Inventory]),
        (
            sample::<StockConfirmation>(json!({"stockConfirmed": true})),
            vec![OrderEvents, Payment],
        ),
        (
            sample::<StockConfirmation>(json!({"stockConfirmed": false})),
            vec![OrderEvents],
        ),
        (
            sample::<PaymentConfirmation>(json!({})),
            vec![OrderEvents, Shipping],
        ),
        (
            sample::<PaymentFailed>(json!({})),
            vec![InventoryCompensation, OrderEvents],
        ),
        (sample::<ShipmentCreated>(json!({})), vec![OrderEvents]),
    ]
}

/// What is routed differently from [`expected_routes`], one line per event.
fn wrong_routes(app: &LocalApp) -> Vec<String> {
    expected_routes()
        .into_iter()
        .filter_map(|((name, event), mut want)| {
            want.sort();
            let got = route(app, &event);
            (got != want).then(|| format!("{name} reaches {got:?}, the handlers expect {want:?}"))
        })
        .collect()
}

/// Records which function each API request reached.
#[derive(Default)]
struct Recorder(Mutex<Vec<FunctionRef>>);

impl Invoke for Recorder {
    fn invoke<'a>(&'a self, function: &'a FunctionRef, _: Value) -> InvokeFuture<'a> {
        self.0.lock().unwrap().push(function.clone());
        Box::pin(async { Ok(json!({"statusCode": 200, "body": "{}"})) })
    }
}

/// `(method, path, status, handler reached)` for the order API's routes, served by cfnkit-local's API server.
async fn api_routes(app: &LocalApp) -> Vec<(&'static str, &'static str, u16, Option<Handler>)> {
    let recorder = Arc::new(Recorder::default());
    let apis = serve(
        app,
        recorder.clone(),
        ServeOptions {
            base_port: 0,
            identity: Some(LocalIdentity::user(DEFAULT_ACCOUNT, CUSTOMER)),
        },
    )
    .await
    .unwrap();
    let api = apis
        .iter()
        .find(|a| a.stack == "Order")
        .unwrap()
        .url
        .clone();
    let valid = json!({"customerId": "c", "lines": [{"productId": "p", "quantity": 1, "unitPriceCents": 1}]});
    let mut out = Vec::new();
    for (method, path, body) in [
        ("POST", "/orders", valid.to_string()),
        ("POST", "/orders", "{}".to_owned()),
        ("GET", "/orders/o-1", String::new()),
    ] {
        recorder.0.lock().unwrap().clear();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let request = http::Request::builder()
            .method(method)
            .uri(format!("{api}{path}"))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(body.into()))
            .unwrap();
        let status = client.request(request).await.unwrap().status().as_u16();
        let reached = recorder
            .0
            .lock()
            .unwrap()
            .first()
            .map(|f| handler_of(app, f));
        out.push((method, path, status, reached));
    }
    for a in apis {
        a.shutdown().await;
    }
    out
}

#[tokio::test]
async fn the_synthesized_platform_routes_every_event_and_request_to_its_handlers() {
    let app = resolved(&templates());
    assert_eq!(wrong_routes(&app), Vec::<String>::new());
    let (mappings, problems) = sources::sqs::mappings(&app);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(mappings.iter().all(|m| m.report_batch_item_failures));
    assert_eq!(
        api_routes(&app).await,
        [
            ("POST", "/orders", 200, Some(Handler::OrderApi)),
            ("POST", "/orders", 400, None),
            ("GET", "/orders/o-1", 200, Some(Handler::OrderApi)),
        ]
    );
}

/// The synthesized templates without the first resource of `stack` that `matching` selects, nor the
/// resources that refer to it (a rule's queue policy names the rule), as if the stack had never made it.
fn without(stack: &str, matching: impl Fn(&Value) -> bool) -> Templates {
    let mut templates = templates();
    let resources = templates
        .stacks
        .iter_mut()
        .find(|s| s.name == stack)
        .unwrap()
        .template["Resources"]
        .as_object_mut()
        .unwrap();
    let id = resources
        .iter()
        .find(|(_, r)| matching(r))
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no such resource in {stack}"));
    let mut gone = vec![id];
    while let Some(id) = gone.pop() {
        resources.remove(&id);
        let refs = [
            json!({"Ref": id}).to_string(),
            format!("{{\"Fn::GetAtt\":[\"{id}\","),
        ];
        gone.extend(
            resources
                .iter()
                .filter(|(_, r)| {
                    let text = r.to_string();
                    refs.iter().any(|x| text.contains(x.as_str()))
                })
                .map(|(k, _)| k.clone()),
        );
    }
    templates
}

#[test]
fn a_missing_rule_is_detected() {
    let app = resolved(&without("Payment", |r| r["Type"] == "AWS::Events::Rule"));
    let wrong = wrong_routes(&app).join("\n");
    assert!(
        wrong.contains("StockConfirmation {\"stockConfirmed\":true} reaches [OrderEvents], the handlers expect [OrderEvents, Payment]"),
        "{wrong}"
    );
}

#[tokio::test]
async fn a_missing_api_method_is_detected() {
    let app = resolved(&without("Order", |r| {
        r["Type"] == "AWS::ApiGateway::Method" && r["Properties"]["HttpMethod"] == "GET"
    }));
    let routes = api_routes(&app).await;
    // API Gateway's answer to a method it does not have.
    assert_eq!(routes[2], ("GET", "/orders/o-1", 403, None), "{routes:?}");
}

#[test]
fn a_wrong_pattern_is_detected() {
    let mut t = templates();
    for (stack, r) in resources_mut(&mut t, "AWS::Events::Rule") {
        if stack == "Payment" {
            r["Properties"]["EventPattern"]["detail"] = json!({"stockConfirmed": [false]});
        }
    }
    let wrong = wrong_routes(&resolved(&t)).join("\n");
    assert!(
        wrong.contains("{\"stockConfirmed\":false} reaches [OrderEvents, Payment]"),
        "{wrong}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_its_variables_stops_the_run_naming_the_variable_and_leaves_nothing_running(
) {
    let mut t = templates();
    let vars =
        &mut function_mut(&mut t, Handler::DlqProcessor)["Properties"]["Environment"]["Variables"];
    vars.as_object_mut().unwrap().remove(env::REDRIVE_QUEUE_URL);
    let options = LocalOptions {
        stacks: STACKS.map(str::to_owned).to_vec(),
        workspace: workspace(),
        logs: Some(Arc::new(|_: &str, _: &str| {})),
        ..LocalOptions::default()
    };
    let Err(e) = LocalRun::start(&t, options).await else {
        panic!("the platform started without the DLQ processor's REDRIVE_QUEUE_URL");
    };
    assert!(matches!(e, LocalError::HandlerStart(_)), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("could not start"), "{text}");
    assert!(text.contains(env::REDRIVE_QUEUE_URL), "{text}");
    assert!(
        text.contains("fix the handler or its environment"),
        "{text}"
    );
}

#[test]
fn the_platform_rules_match_like_eventbridge() {
    let app = resolved(&templates());
    // The payment rule: StockConfirmations whose stock was confirmed, nothing else.
    let (_, rule) = app
        .of_type("AWS::Events::Rule")
        .find(|(s, r)| {
            *s == "Payment"
                && r.properties["EventPattern"]["detail-type"]
                    == json!([StockConfirmation::DETAIL_TYPE])
        })
        .expect("the payment stack's rule");
    let p = &rule.properties["EventPattern"];
    let event = |detail: Value| json!({"source": StockConfirmation::SOURCE, "detail-type": StockConfirmation::DETAIL_TYPE, "detail": detail});
    assert!(pattern::matches(
        p,
        &event(json!({"stockConfirmed": true, "orderId": "o-1"}))
    ));
    assert!(!pattern::matches(
        p,
        &event(json!({"stockConfirmed": false}))
    ));
    assert!(!pattern::matches(p, &event(json!({}))));
    let mut other_source = event(json!({"stockConfirmed": true}));
    other_source["source"] = json!("someone.else");
    assert!(!pattern::matches(p, &other_source));
}
