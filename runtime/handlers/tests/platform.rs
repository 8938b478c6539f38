//! The order platform end to end against moto's server: the harness deploys the wiring (tables,
//! queues with DLQs, topics, the bus and its rules), plays Lambda's event source mappings and
//! calls the real handlers in-process.

mod support;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderValue, Method};
use contracts::{CreateOrderResponse, ErrorBody, OrderStatus, OrderView};
use order_handlers::{inventory, order, payment, shipping};
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
