//! JSON answers for API Gateway: REST proxy responses (v1) and HTTP API responses (v2).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{header, HeaderMap, HeaderValue};
use contracts::{ErrorBody, FieldError};
use serde::Serialize;

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers
}

fn json_body<T: Serialize>(body: &T) -> Option<Body> {
    Some(Body::Text(
        serde_json::to_string(body).expect("response bodies serialize"),
    ))
}

/// A REST (v1) proxy answer with a JSON body.
pub fn rest<T: Serialize>(status: i64, body: &T) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.headers = json_headers();
    r.body = json_body(body);
    r
}

/// An HTTP API (v2) answer with a JSON body.
pub fn v2<T: Serialize>(status: i64, body: &T) -> ApiGatewayV2httpResponse {
    let mut r = ApiGatewayV2httpResponse::default();
    r.status_code = status;
    r.headers = json_headers();
    r.body = json_body(body);
    r
}

/// The error body every 4xx answer carries.
pub fn error_body(message: impl Into<String>, field_errors: Vec<FieldError>) -> ErrorBody {
    ErrorBody {
        message: message.into(),
        field_errors,
    }
}
