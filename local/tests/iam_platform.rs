//! IAM enforced with the platform's own policies: `stacks::app()` synthesized in-process, its order API
//! function's role read from the app, and its calls decided as IAM would.

mod apigw_iam_support;

use apigw_iam_support::{local_app, ACCOUNT, REGION};
use bytes::Bytes;
use cfnkit_local::iam::{ApiRequest, AuthorizeError, Authorizer, DenyReason, RolePolicies};
use cfnkit_local::invoke::FunctionRef;
use cfnkit_local::model::LocalApp;
use http::{HeaderMap, HeaderValue, Method};

fn platform() -> LocalApp {
    local_app(&stacks::app().expect("the platform app builds"))
}

fn table_arn(app: &LocalApp, stack: &str) -> String {
    let (_, table) = app
        .of_type("AWS::DynamoDB::Table")
        .find(|(s, _)| *s == stack)
        .unwrap_or_else(|| panic!("no table in {stack}"));
    table.arn.clone().unwrap()
}

fn put_item(table: &str) -> ApiRequest {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amz-target",
        HeaderValue::from_static("DynamoDB_20120810.PutItem"),
    );
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    ApiRequest {
        service: "dynamodb".into(),
        method: Method::POST,
        path: "/".into(),
        query: String::new(),
        headers,
        body: Bytes::from(
            serde_json::json!({"TableName": table, "Item": {"pk": {"S": "o-1"}}}).to_string(),
        ),
        account: ACCOUNT.into(),
        region: REGION.into(),
    }
}

fn order_api() -> FunctionRef {
    FunctionRef {
        stack: "Order".into(),
        logical_id: "OrderApi".into(),
    }
}

#[test]
fn the_order_api_may_put_items_in_its_own_table_and_not_in_another() {
    let app = platform();
    let role = RolePolicies::for_function(&app, &order_api()).unwrap();
    let authorizer = Authorizer::new(&app);
    let orders = table_arn(&app, "Order");
    let inventory = table_arn(&app, "Inventory");
    let orders_name = orders.rsplit('/').next().unwrap();
    let inventory_name = inventory.rsplit('/').next().unwrap();

    let allowed = authorizer.authorize(&role, &put_item(orders_name)).unwrap();
    assert_eq!(allowed.classified.checks[0].action, "dynamodb:PutItem");
    assert_eq!(allowed.classified.checks[0].resource, orders);

    let err = authorizer
        .authorize(&role, &put_item(inventory_name))
        .unwrap_err();
    let AuthorizeError::Denied(denied) = &err else {
        panic!("expected a denial, got {err}")
    };
    assert_eq!(denied.reason, DenyReason::NoAllow);
    assert_eq!(denied.resource, inventory);
    assert_eq!(
        err.to_string(),
        format!(
            "AccessDenied: Order/OrderApi's role may not dynamodb:PutItem on {inventory} (no statement allows it; \
             grant it in the stack, e.g. table.grant_write_data(&function))"
        )
    );
    // The handler's SDK sees DynamoDB's own error.
    let response = err.response(&put_item(inventory_name));
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#AccessDeniedException"
    );
    assert!(body["Message"].as_str().unwrap().contains(&format!(
        "is not authorized to perform: dynamodb:PutItem on resource: {inventory}"
    )));
}

#[test]
fn the_order_api_role_is_read_whole_from_the_app() {
    let app = platform();
    let role = RolePolicies::for_function(&app, &order_api()).unwrap();
    assert!(role
        .role_arn
        .starts_with(&format!("arn:aws:iam::{ACCOUNT}:role/")));
    assert!(role
        .session_arn
        .starts_with(&format!("arn:aws:sts::{ACCOUNT}:assumed-role/")));
    assert!(!role.policies.is_empty());
    assert!(role.unreadable.is_empty(), "{:?}", role.unreadable);
    // The grants the stack gives it: the bus and the table's key, through the same evaluation.
    let bus = app
        .of_type("AWS::Events::EventBus")
        .next()
        .map(|(_, b)| b.arn.clone().unwrap())
        .unwrap();
    let check = cfnkit_local::iam::Check::new("events:PutEvents", bus);
    assert!(role.evaluate("PutEvents", &check).is_ok());
    let other =
        cfnkit_local::iam::Check::new("sns:Publish", format!("arn:aws:sns:{REGION}:{ACCOUNT}:Ops"));
    assert!(role.evaluate("Publish", &other).is_err());
}

#[test]
fn a_function_that_is_not_in_the_app_is_a_clear_error() {
    let app = platform();
    let missing = FunctionRef {
        stack: "Order".into(),
        logical_id: "Nope".into(),
    };
    let err = RolePolicies::for_function(&app, &missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no AWS::Lambda::Function Order/Nope in the app: name it as <stack>/<logical id>, as `cargo cfn local` \
         lists them"
    );
}
