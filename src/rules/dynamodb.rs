//! DynamoDB: DDB3 (point-in-time recovery).

use super::{is_true, Ctx};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for table in ctx.of_type("AWS::DynamoDB::Table").collect::<Vec<_>>() {
        let pitr = table.prop_at(&[
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ]);
        if !is_true(pitr) {
            ctx.report(
                "DDB3",
                &table,
                "the table does not have point-in-time recovery.",
                "set PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}.",
            );
        }
    }
    for table in ctx
        .of_type("AWS::DynamoDB::GlobalTable")
        .collect::<Vec<_>>()
    {
        let replicas = table.prop("Replicas").map(super::items).unwrap_or_default();
        let missing = replicas.iter().any(|r| {
            !is_true(
                r.get("PointInTimeRecoverySpecification")
                    .and_then(|p| p.get("PointInTimeRecoveryEnabled")),
            )
        });
        if missing {
            ctx.report(
                "DDB3",
                &table,
                "a replica of the global table does not have point-in-time recovery.",
                "set PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true} on every replica.",
            );
        }
    }
}
