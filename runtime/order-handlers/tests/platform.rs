//! The order platform end to end against moto's server: the harness deploys the wiring (tables,
//! queues with DLQs, topics, the bus and its rules), plays Lambda's event source mappings and
//! calls the real handlers in-process.

mod support;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderValue, Method};
use contracts::env::{self, Handler};
use contracts::{tables, CreateOrderResponse, ErrorBody, OrderStatus, OrderView};
use order_handlers::{dlq, inventory, order, payment, shipping};
use serde_json::{json, Value};
use support::harness::Platform;
use support::wiring;

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

async fn place_order(p: &Platform, customer: &str, lines: Value) -> String {
    let req = api_request(
        Method::POST,
        "/orders",
        Some(json!({"customerId": customer, "lines": lines})),
    );
    let resp = order::handle_api(&p.order, req).await.unwrap();
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    let created: CreateOrderResponse = serde_json::from_value(body_json(&resp)).unwrap();
    assert_eq!(created.status, OrderStatus::Pending);
    created.order_id
}

async fn get_order(p: &Platform, id: &str) -> OrderView {
    let resp = order::handle_api(
        &p.order,
        api_request(Method::GET, &format!("/orders/{id}"), None),
    )
    .await
    .unwrap();
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    serde_json::from_value(body_json(&resp)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_order_ends_shipped() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    inventory::put_stock(&p.inventory, "widget", 10)
        .await
        .unwrap();
    inventory::put_stock(&p.inventory, "gadget", 3)
        .await
        .unwrap();
    let id = place_order(
        &p,
        "cust-1",
        json!([
            {"productId": "widget", "quantity": 2, "unitPriceCents": 500},
            {"productId": "gadget", "quantity": 1, "unitPriceCents": 1250},
            {"productId": "widget", "quantity": 1, "unitPriceCents": 500}
        ]),
    )
    .await;
    let stats = p.run_until_quiescent(50).await;
    eprintln!("{stats:?}");

    let view = get_order(&p, &id).await;
    assert_eq!(view.status, OrderStatus::Shipped, "{view:?}");
    assert_eq!(view.total_cents, 2 * 500 + 1250 + 500);
    assert!(
        view.payment_id.is_some() && view.shipment_id.is_some(),
        "{view:?}"
    );
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
    assert_eq!(stats.failures, 0);
    assert!(
        p.drain("CustomerInbox").await.is_empty(),
        "no customer notification on success"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_failure_releases_stock_cancels_and_notifies() {
    let p = Platform::deploy(&wiring::platform(100)).await;
    inventory::put_stock(&p.inventory, "widget", 4)
        .await
        .unwrap();
    let id = place_order(
        &p,
        "cust-2",
        json!([{"productId": "widget", "quantity": 3, "unitPriceCents": 100}]),
    )
    .await;
    let stats = p.run_until_quiescent(50).await;
    eprintln!("{stats:?}");

    let view = get_order(&p, &id).await;
    assert_eq!(view.status, OrderStatus::Cancelled, "{view:?}");
    assert!(
        view.reason
            .as_deref()
            .unwrap_or("")
            .contains("payment failed"),
        "{view:?}"
    );
    assert!(view.shipment_id.is_none());
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_orders_for_five_items() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    inventory::put_stock(&p.inventory, "limited", 5)
        .await
        .unwrap();
    let placing = (0..20).map(|i| {
        let p = &p;
        async move {
            place_order(
                p,
                &format!("cust-{i}"),
                json!([{"productId": "limited", "quantity": 1, "unitPriceCents": 999}]),
            )
            .await
        }
    });
    let ids = futures_util::future::join_all(placing).await;
    let stats = p.run_until_quiescent(100).await;
    eprintln!("{stats:?}");

    let mut shipped = 0;
    let mut cancelled = 0;
    for id in &ids {
        let view = get_order(&p, id).await;
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_delivered_twice_has_no_doubled_effect() {
    let mut p = Platform::deploy(&wiring::platform(50)).await;
    p.duplicate_delivery = true;
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
    for key in ok.iter().chain(&declined) {
        let mut req = api_request(
            Method::POST,
            "/orders",
            Some(
                json!({"customerId": "cust", "lines": [{"productId": "widget", "quantity": 2, "unitPriceCents": 10}]}),
            ),
        );
        req.headers
            .insert("Idempotency-Key", HeaderValue::from_str(key).unwrap());
        // The client retries too: the same key twice is one order.
        for _ in 0..2 {
            let resp = order::handle_api(&p.order, req.clone()).await.unwrap();
            assert_eq!(resp.status_code, 201);
        }
        ids.push(order::idempotent_order_id("cust", key));
    }
    let stats = p.run_until_quiescent(100).await;
    eprintln!("{stats:?}");

    let mut shipped = 0;
    for id in &ids {
        let view = get_order(&p, id).await;
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_goes_to_the_dlq_and_is_parked() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    // A PaymentConfirmation whose detail does not fit the contract: the shipping rule routes it,
    // the shipping function can never process it.
    let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
        .event_bus_name(&p.bus)
        .source("ecommerce.payment")
        .detail_type("PaymentConfirmation")
        .detail(json!({"orderId": 42, "note": "poison"}).to_string())
        .build();
    let out = p.events.put_events().entries(entry).send().await.unwrap();
    assert_eq!(out.failed_entry_count, 0);
    let stats = p.run_until_quiescent(100).await;
    eprintln!("{stats:?}");

    // maxReceiveCount 3 on the shipping queue, re-driven twice by the DLQ processor: three trips
    // through the DLQ, the last one parks it.
    let parked: Vec<_> = p
        .scan(&tables::SHIPMENTS)
        .await
        .into_iter()
        .filter(|i| i["pk"].as_s().unwrap().starts_with("PARKED#"))
        .collect();
    assert_eq!(parked.len(), 1, "{parked:?}");
    let body = parked[0]["body"].as_s().unwrap();
    assert!(body.contains("poison"), "{body}");
    assert_eq!(parked[0]["redriveCount"].as_n().unwrap(), "2");
    assert!(
        stats.failures >= 9,
        "three deliveries per trip, three trips: {stats:?}"
    );
    let alerts = p.drain("OpsInbox").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("parked"), "{}", alerts[0]);
    // The order function (a direct rule target) gave up on it after three attempts, and Lambda put it
    // in the function's dead-letter queue.
    assert_eq!(p.discarded.load(std::sync::atomic::Ordering::Relaxed), 1);
    let dead = p.drain("OrderEventsDlq").await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].contains("poison"), "{}", dead[0]);
    assert!(p.drain("ShippingQueue").await.is_empty());
    assert!(p.drain("ShippingDlq").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_processor_counts_redrives_in_a_message_attribute() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    let mut record = aws_lambda_events::sqs::SqsMessage::default();
    record.message_id = Some("m-1".into());
    record.body = Some("{}".into());
    assert_eq!(dlq::redrive_count(&record), 0);
    let outcome = dlq::process_dead_letter(&p.dlq, &record).await.unwrap();
    assert_eq!(outcome, dlq::DeadLetter::Redriven { attempt: 1 });
    let mut attr = aws_lambda_events::sqs::SqsMessageAttribute::default();
    attr.data_type = Some("Number".into());
    attr.string_value = Some("2".into());
    record
        .message_attributes
        .insert(contracts::env::REDRIVE_COUNT_ATTRIBUTE.into(), attr);
    assert_eq!(
        dlq::process_dead_letter(&p.dlq, &record).await.unwrap(),
        dlq::DeadLetter::Parked
    );
    // The same dead letter delivered again: parked once, alerted once.
    assert_eq!(
        dlq::process_dead_letter(&p.dlq, &record).await.unwrap(),
        dlq::DeadLetter::AlreadyParked
    );
    assert_eq!(p.drain("OpsInbox").await.len(), 1);
    let redriven = p.drain("ShippingQueue").await;
    assert_eq!(redriven, vec!["{}".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_order_is_rejected_with_field_errors_and_nothing_written() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    let bad = json!({
        "customerId": "",
        "lines": [{"productId": "p", "quantity": 0, "unitPriceCents": 1, "colour": "red"}]
    });
    let resp = order::handle_api(&p.order, api_request(Method::POST, "/orders", Some(bad)))
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

    let resp = order::handle_api(&p.order, api_request(Method::POST, "/orders", None))
        .await
        .unwrap();
    assert_eq!(resp.status_code, 400);
    let resp = order::handle_api(
        &p.order,
        api_request(Method::POST, "/orders", Some(json!({"lines": []}))),
    )
    .await
    .unwrap();
    assert_eq!(resp.status_code, 400);

    assert!(p.scan(&tables::ORDERS).await.is_empty(), "nothing written");
    let stats = p.run_until_quiescent(10).await;
    assert_eq!(stats.deliveries, 0, "nothing published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_unknown_order_is_404_and_idempotency_key_names_one_order() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    let resp = order::handle_api(&p.order, api_request(Method::GET, "/orders/ord-nope", None))
        .await
        .unwrap();
    assert_eq!(resp.status_code, 404);
    let body: ErrorBody = serde_json::from_value(body_json(&resp)).unwrap();
    assert!(body.message.contains("ord-nope"));

    let order_body = json!({"customerId": "c", "lines": [{"productId": "p", "quantity": 1, "unitPriceCents": 1}]});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut req = api_request(Method::POST, "/orders", Some(order_body.clone()));
        req.headers
            .insert("Idempotency-Key", HeaderValue::from_static("key-1"));
        let resp = order::handle_api(&p.order, req).await.unwrap();
        assert_eq!(resp.status_code, 201);
        ids.push(body_json(&resp)["orderId"].as_str().unwrap().to_string());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(p.scan(&tables::ORDERS).await.len(), 1);
    let mut req = api_request(
        Method::POST,
        "/orders",
        Some(
            json!({"customerId": "c", "lines": [{"productId": "p", "quantity": 2, "unitPriceCents": 1}]}),
        ),
    );
    req.headers
        .insert("Idempotency-Key", HeaderValue::from_static("key-1"));
    assert_eq!(
        order::handle_api(&p.order, req).await.unwrap().status_code,
        409
    );
    let resp = order::handle_api(&p.order, api_request(Method::DELETE, "/orders", None))
        .await
        .unwrap();
    assert_eq!(resp.status_code, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_state_never_moves_backwards() {
    let p = Platform::deploy(&wiring::platform(0)).await;
    let id = place_order(
        &p,
        "c",
        json!([{"productId": "p", "quantity": 1, "unitPriceCents": 1}]),
    )
    .await;
    let t = |to| order::transition(&p.order, &id, to, &[]);
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
        order::transition(&p.order, "ord-missing", OrderStatus::Paid, &[])
            .await
            .is_err()
    );
}
