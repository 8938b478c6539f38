//! DynamoDB: DDB3 (point-in-time recovery).

use cfnkit_l1::dynamodb;

use super::context::Ctx;
use super::read::{is_true, items};
use super::registry::DDB3;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for table in ctx.of::<dynamodb::Table>().collect::<Vec<_>>() {
        let pitr = table.prop_at(&[
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ]);
        if !is_true(pitr) {
            ctx.report(
                &DDB3,
                &table,
                "the table does not have point-in-time recovery.",
                "cfnkit's Table has it unless TableProps.point_in_time_recovery is turned off; on a raw table set \
                 PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}.",
            );
        }
    }
    for table in ctx.of::<dynamodb::GlobalTable>().collect::<Vec<_>>() {
        let replicas = table.prop("Replicas").map(items).unwrap_or_default();
        let missing = replicas.iter().any(|r| {
            !is_true(
                r.get("PointInTimeRecoverySpecification")
                    .and_then(|p| p.get("PointInTimeRecoveryEnabled")),
            )
        });
        if missing {
            ctx.report(&DDB3,
                &table,
                "a replica of the global table does not have point-in-time recovery.",
                "set PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true} on every replica.",
            );
        }
    }
}
