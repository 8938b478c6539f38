//! CloudWatch and Logs: CFNKIT-LOG1 (log groups have retention), CFNKIT-CW1 (alarms have an action).

use super::{is_false, Ctx};
use crate::synth::Node;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for group in ctx.of_type("AWS::Logs::LogGroup").collect::<Vec<_>>() {
        if group.prop("RetentionInDays").is_none() {
            ctx.report(
                "CFNKIT-LOG1",
                &group,
                "the log group keeps its logs forever (no RetentionInDays), and they are billed forever.",
                "set RetentionInDays (1, 3, 5, 7, 14, 30, 60, 90, ... days).",
            );
        }
    }
    for ty in ["AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"] {
        for alarm in ctx.of_type(ty).collect::<Vec<_>>() {
            if alarm
                .prop("AlarmActions")
                .is_none_or(|a| matches!(a, Node::List(l) if l.is_empty()))
            {
                ctx.report(
                    "CFNKIT-CW1",
                    &alarm,
                    "the alarm has no AlarmActions, so nobody hears when it fires.",
                    "add an action to AlarmActions (e.g. the ARN of an SNS topic).",
                );
            } else if is_false(alarm.prop("ActionsEnabled")) {
                ctx.report(
                    "CFNKIT-CW1",
                    &alarm,
                    "the alarm has ActionsEnabled: false, so its actions never run.",
                    "remove ActionsEnabled or set it to true.",
                );
            }
        }
    }
}
