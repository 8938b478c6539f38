//! EventBridge: EVB1 (an event bus policy does not let anyone put events).

use cfnkit_l1::events;

use super::context::{Ctx, Res};
use super::read::{as_str, principal_is_anyone, statements};
use super::registry::EVB1;
use crate::synth::Node;

const FIX: &str = "for a role of this account, grant it instead of opening the bus: \
    `bus.grant_put_events(&role)` on cfnkit's EventBus; for other accounts, name them or their organization \
    (Principal: <account id>), or add a Condition (e.g. aws:PrincipalOrgID).";

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut open: Vec<Res<'_>> = Vec::new();
    for policy in ctx.of::<events::EventBusPolicy>() {
        let everyone = policy.prop("Principal").and_then(as_str) == Some("*");
        let condition = policy.prop("Condition");
        let conditioned = ["Key", "Type", "Value"]
            .iter()
            .all(|k| condition.and_then(|c| c.get(k)).is_some());
        if (everyone && !conditioned) || policy.prop("Statement").is_some_and(open_statement) {
            open.push(policy);
        }
    }
    for bus in ctx.of::<events::EventBus>() {
        if statements(bus.prop("Policy"))
            .into_iter()
            .any(open_statement)
        {
            open.push(bus);
        }
    }
    for r in open {
        ctx.report(
            &EVB1,
            &r,
            "the event bus policy allows any principal (*) without a condition.",
            FIX,
        );
    }
}

fn open_statement(s: &Node) -> bool {
    let unconditioned = match s.get("Condition") {
        None => true,
        Some(c) => matches!(c, Node::Map(m) if m.is_empty()),
    };
    s.get("Effect").and_then(as_str) == Some("Allow")
        && principal_is_anyone(s.get("Principal"))
        && unconditioned
}
