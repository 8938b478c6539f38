//! KMS: KMS5 (symmetric keys rotate).

use cfnkit_l1::kms;

use super::context::Ctx;
use super::read::{as_str, is_true};
use super::registry::KMS5;

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for key in ctx.of::<kms::Key>().collect::<Vec<_>>() {
        // Only symmetric keys can rotate automatically; an asymmetric or HMAC key is out of scope.
        let symmetric = key
            .prop("KeySpec")
            .and_then(as_str)
            .is_none_or(|spec| spec == "SYMMETRIC_DEFAULT");
        if symmetric && !is_true(key.prop("EnableKeyRotation")) {
            ctx.report(
                &KMS5,
                &key,
                "the symmetric KMS key does not rotate automatically.",
                "cfnkit's Key rotates unless KeyProps.enable_key_rotation is turned off; on a raw key set \
                 EnableKeyRotation: true.",
            );
        }
    }
}
