//! awsQuery: a form body `Action=Publish&Version=...&TopicArn=...` (SNS, STS).

use super::{arn, Check, Classified, ClassifyError};
use crate::iam::request::ApiRequest;

pub(super) fn classify(request: &ApiRequest) -> Result<Classified, ClassifyError> {
    let service = request.service.as_str();
    let mut form: Vec<(String, String)> =
        form_urlencoded::parse(&request.body).into_owned().collect();
    // A query request may also carry its parameters in the query string.
    form.extend(request.query_pairs());
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let operation = get("Action")
        .ok_or_else(|| {
            ClassifyError::new(
                service,
                "(no Action)",
                "the form body has no Action parameter",
            )
        })?
        .to_owned();
    let missing = |fields: &str| {
        ClassifyError::new(
            service,
            &operation,
            format!("the operation names no resource cfnkit-local knows ({fields} absent)"),
        )
    };
    let one = |action: &str, resource: String| {
        Ok(Classified::new(&operation).with(Check::new(action, resource)))
    };
    let action = format!("{service}:{operation}");
    match (service, operation.as_str()) {
        // Needs no permission: IAM cannot deny it.
        ("sts", "GetCallerIdentity") => Ok(Classified::new(&operation)),
        ("sts", "AssumeRole") => one(
            &action,
            get("RoleArn").ok_or_else(|| missing("RoleArn"))?.to_owned(),
        ),
        (
            "sns",
            "ListTopics"
            | "ListSubscriptions"
            | "CreatePlatformApplication"
            | "ListPlatformApplications",
        ) => one(&action, "*".into()),
        // Publishing to a phone number has no topic; a batch is authorized as Publish.
        ("sns", "Publish" | "PublishBatch") => {
            let resource = get("TopicArn")
                .or_else(|| get("TargetArn"))
                .map(str::to_owned)
                .unwrap_or_else(|| "*".into());
            one("sns:Publish", resource)
        }
        ("sns", "CreateTopic") => {
            let name = get("Name").ok_or_else(|| missing("Name"))?;
            one(&action, arn("sns", &request.region, &request.account, name))
        }
        // A subscription's ARN is its topic's ARN and an id: the topic is what IAM authorizes.
        ("sns", "Unsubscribe" | "GetSubscriptionAttributes" | "SetSubscriptionAttributes") => {
            let subscription = get("SubscriptionArn").ok_or_else(|| missing("SubscriptionArn"))?;
            let topic = subscription
                .rsplit_once(':')
                .map_or(subscription, |(t, _)| t);
            one(&action, topic.to_owned())
        }
        ("sns", _) => {
            let topic = get("TopicArn")
                .or_else(|| get("ResourceArn"))
                .ok_or_else(|| missing("TopicArn and ResourceArn"))?;
            one(&action, topic.to_owned())
        }
        _ => Err(ClassifyError::new(
            service,
            &operation,
            "an awsQuery operation cfnkit-local does not classify",
        )),
    }
}
