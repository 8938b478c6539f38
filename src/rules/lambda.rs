//! Lambda: L1 (functions use the latest runtime of their language).

use cfnkit_l1::lambda;

use super::context::Ctx;
use super::read::as_str;
use super::registry::L1;

/// The latest runtime of each language family Lambda supports, as of this release of cfnkit. A newer version
/// than listed passes too, so the table only needs updating to catch more outdated runtimes.
const LATEST: &[(&str, &str)] = &[
    ("nodejs", "nodejs22.x"),
    ("python", "python3.13"),
    ("java", "java21"),
    ("dotnet", "dotnet8"),
    ("ruby", "ruby3.4"),
    ("provided", "provided.al2023"),
];

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for f in ctx.of::<lambda::Function>().collect::<Vec<_>>() {
        // Container images have no runtime; a runtime from a parameter is only known at deploy time.
        let Some(runtime) = f.prop("Runtime").and_then(as_str) else {
            continue;
        };
        if let Some(latest) = outdated(runtime) {
            ctx.report(&L1,
                &f,
                format!("the function uses runtime {runtime}, and the latest of its language is {latest}."),
                format!("set FunctionProps.runtime (Runtime on a raw function) to {latest}."),
            );
        }
    }
}

/// The latest runtime when `runtime` is older than it.
fn outdated(runtime: &str) -> Option<&'static str> {
    if runtime == "go1.x" {
        // Retired: Go functions now run on the OS-only runtime.
        return Some("provided.al2023");
    }
    let (family, latest) = LATEST
        .iter()
        .find(|(family, _)| runtime.starts_with(family))?;
    (version(&runtime[family.len()..]) < version(&latest[family.len()..])).then_some(*latest)
}

/// `3.13` -> [3, 13], `22.x` -> [22], `.al2023` -> [2023], `` (plain `provided`) -> [].
fn version(s: &str) -> Vec<u32> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::outdated;

    #[test]
    fn versions_compare_by_number() {
        assert_eq!(outdated("python3.9"), Some("python3.13"));
        assert_eq!(outdated("python3.13"), None);
        assert_eq!(outdated("python3.14"), None);
        assert_eq!(outdated("nodejs18.x"), Some("nodejs22.x"));
        assert_eq!(outdated("nodejs24.x"), None);
        assert_eq!(outdated("provided"), Some("provided.al2023"));
        assert_eq!(outdated("provided.al2"), Some("provided.al2023"));
        assert_eq!(outdated("provided.al2023"), None);
        assert_eq!(outdated("java8.al2"), Some("java21"));
        assert_eq!(outdated("go1.x"), Some("provided.al2023"));
        assert_eq!(outdated("somethingnew1"), None);
    }
}
