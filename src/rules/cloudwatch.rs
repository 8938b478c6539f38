//! CloudWatch and Logs: CFNKIT-LOG1 (log groups have retention), CFNKIT-CW1 (alarms have an action).

use cfnkit_l1::{cloudwatch, logs};

use super::context::{type_name, Ctx};
use super::read::is_false;
use super::registry::{CFNKIT_CW1, CFNKIT_LOG1};
use crate::synth::Node;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for group in ctx.of::<logs::LogGroup>().collect::<Vec<_>>() {
        if group.prop("RetentionInDays").is_none() {
            ctx.report(&CFNKIT_LOG1,
                &group,
                "the log group keeps its logs forever (no RetentionInDays), and they are billed forever.",
                "give cfnkit's LogGroup a LogGroupProps.retention other than Retention::Forever (a Function's \
                 log group: FunctionProps.log_retention), or suppress CFNKIT-LOG1 with why the logs are kept \
                 forever; on a raw log group set RetentionInDays (1, 3, 5, 7, 14, 30, 60, 90, ... days).",
            );
        }
    }
    for ty in [
        type_name::<cloudwatch::Alarm>(),
        type_name::<cloudwatch::CompositeAlarm>(),
    ] {
        for alarm in ctx.of_type(ty).collect::<Vec<_>>() {
            if alarm
                .prop("AlarmActions")
                .is_none_or(|a| matches!(a, Node::List(l) if l.is_empty()))
            {
                ctx.report(
                    &CFNKIT_CW1,
                    &alarm,
                    "the alarm has no AlarmActions, so nobody hears when it fires.",
                    "call `alarm.add_alarm_action(&topic)` on cfnkit's Alarm; on a raw alarm add an action to \
                     AlarmActions (e.g. the ARN of an SNS topic).",
                );
            } else if is_false(alarm.prop("ActionsEnabled")) {
                ctx.report(
                    &CFNKIT_CW1,
                    &alarm,
                    "the alarm has ActionsEnabled: false, so its actions never run.",
                    "remove ActionsEnabled or set it to true.",
                );
            }
        }
    }
}
