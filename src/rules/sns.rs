//! SNS: SNS2 (encryption with a KMS key), SNS3 (TLS-only topic policy).

use cfnkit_l1::sns;

use super::context::{Ctx, Res};
use super::read::{is_tls_deny, items, statements, TLS_STATEMENT};
use super::registry::{SNS2, SNS3};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for topic in ctx.of::<sns::Topic>().collect::<Vec<_>>() {
        if topic.prop("KmsMasterKeyId").is_none() {
            ctx.report(
                &SNS2,
                &topic,
                "the topic is not encrypted (no KmsMasterKeyId).",
                "cfnkit's Topic is encrypted (with TopicProps.master_key, or alias/aws/sns without one); on a raw \
                 topic set KmsMasterKeyId to a KMS key.",
            );
        }
        if !has_tls_policy(ctx, &topic) {
            ctx.report(
                &SNS3,
                &topic,
                "no topic policy denies publishing without TLS.",
                format!(
                    "cfnkit's Topic has it unless TopicProps.enforce_ssl is turned off; on a raw topic add an \
                     AWS::SNS::TopicPolicy with Topics: [Ref {}] and the statement {}.",
                    topic.id,
                    TLS_STATEMENT
                        .replace("<service>:*", "sns:Publish")
                        .replace("<the resource>", "<the topic>")
                ),
            );
        }
    }
}

fn has_tls_policy(ctx: &Ctx<'_>, topic: &Res<'_>) -> bool {
    let covers = |p: &Res<'_>, key: &str| {
        p.prop(key)
            .map(items)
            .unwrap_or_default()
            .into_iter()
            .any(|t| {
                ctx.referent(p.stack, t)
                    .is_some_and(|t| t.res.key() == topic.key())
            })
    };
    let tls = |doc| {
        statements(doc)
            .into_iter()
            .any(|s| is_tls_deny(s, &["*", "sns:*", "sns:Publish"]))
    };
    ctx.of::<sns::TopicPolicy>()
        .any(|p| covers(&p, "Topics") && tls(p.prop("PolicyDocument")))
        // The single-topic form of the policy.
        || ctx
            .of::<sns::TopicInlinePolicy>()
            .any(|p| covers(&p, "TopicArn") && tls(p.prop("PolicyDocument")))
}
