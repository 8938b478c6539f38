//! Every rule that turns a schema name into a Rust name, in one place.
//!
//! - Fields, setters, modules: snake case, with acronyms kept whole (`KMSMasterKeyId` -> `kms_master_key_id`) and
//!   plural acronyms kept whole (`VPCs` -> `vpcs`). Keywords get a trailing `_` (`Type` -> `type_`), the way
//!   cfnkit-core's `ref_()` does. Names starting with a digit get an `n` prefix (`3DES` -> `n3_des`).
//! - Types and enum variants: the same words, each capitalised (`SSESpecification` -> `SseSpecification`,
//!   `aws:kms` -> `AwsKms`), as aws-sdk-rust does. Digit-led names get a `V` prefix (`1.0` -> `V1_0`).
//! - Service modules and features: the service's name lowercased, no separator (`ApiGatewayV2` -> `apigatewayv2`).
//! - Collisions inside one scope are resolved by [`Scope`], in schema order (sorted), by appending a suffix.
//!
//! [`EXCEPTIONS`] overrides the word splitting for names the rules get wrong.

use std::collections::BTreeSet;

/// Names whose word splitting the rules get wrong: (schema name, snake-case words).
pub const EXCEPTIONS: &[(&str, &str)] = &[
    // "MACsec" is one word (IEEE 802.1AE), not "MA" + "Csec".
    ("MACsec", "macsec"),
    ("MacSec", "macsec"),
    // "IPv4"/"IPv6" are one word each, not "I" + "Pv4".
    ("IPv4", "ipv4"),
    ("IPv6", "ipv6"),
    ("IPv4s", "ipv4s"),
    ("IPv6s", "ipv6s"),
    // "OAuth" is one word.
    ("OAuth", "oauth"),
    ("iOS", "ios"),
    ("macOS", "macos"),
];

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Type names generated code refers to (from the prelude, std or cfnkit-core) or generates itself: a schema
/// type with one of these names gets a `Property` suffix so that it does not shadow them.
pub const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Default",
    "From",
    "Into",
    "Clone",
    "Copy",
    "Debug",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "AsRef",
    "AsMut",
    "Eq",
    "PartialEq",
    "Ord",
    "PartialOrd",
    "Hash",
    "Iterator",
    "IntoIterator",
    "Extend",
    "ToString",
    "ToOwned",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "Unpin",
    "Self",
    "BTreeMap",
    "Ref",
    "RefMut",
    "Deref",
    "Json",
    "Literal",
    "Resource",
    "ResourceHandle",
    "TagFormat",
    "TagStyle",
    "ToValue",
    "Val",
    "Value",
    "BuildError",
];

/// Splits a schema name into lowercase words.
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        if let Some((_, w)) = EXCEPTIONS.iter().find(|(n, _)| *n == part) {
            out.extend(w.split('_').map(str::to_owned));
            continue;
        }
        split_camel(part, &mut out);
    }
    out
}

fn split_camel(part: &str, out: &mut Vec<String>) {
    // Exception words may also appear inside a longer name (`EnableIPv6Prefix`).
    for (n, w) in EXCEPTIONS {
        if let Some(i) = part.find(n) {
            let (before, rest) = part.split_at(i);
            let after = &rest[n.len()..];
            // Only at word boundaries: the exception must be followed by an uppercase letter, a digit or the end.
            if after.is_empty()
                || after.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                if !before.is_empty() {
                    split_camel(before, out);
                }
                out.extend(w.split('_').map(str::to_owned));
                if !after.is_empty() {
                    split_camel(after, out);
                }
                return;
            }
        }
    }
    let chars: Vec<char> = part.chars().collect();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            None => false,
            Some(p) => {
                (c.is_ascii_uppercase() && (p.is_ascii_lowercase() || p.is_ascii_digit()))
                    // The last capital of an acronym starts the next word (`KMSMaster` -> `KMS`, `Master`)...
                    || (c.is_ascii_uppercase()
                        && p.is_ascii_uppercase()
                        && next.is_some_and(|n| n.is_ascii_lowercase())
                        // ...unless it is a plural acronym (`VPCs`, `ARNsList`).
                        && !(next == Some('s') && is_plural_acronym_end(&chars, i + 1)))
            }
        };
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        word.push(c.to_ascii_lowercase());
        i += 1;
    }
    if !word.is_empty() {
        out.push(word);
    }
}

/// Whether the `s` at `i` closes a plural acronym: it follows at least two capitals (including the one before it)
/// and is followed by the end, a capital or a digit.
fn is_plural_acronym_end(chars: &[char], i: usize) -> bool {
    let caps = chars[..i]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    caps >= 2
        && chars
            .get(i + 1)
            .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn escape_snake(s: String) -> String {
    if s.is_empty() {
        return "value".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("n{s}");
    }
    if KEYWORDS.contains(&s.as_str()) {
        return format!("{s}_");
    }
    s
}

/// A field, setter or module name: `KMSMasterKeyId` -> `kms_master_key_id`, `Type` -> `type_`.
pub fn snake(name: &str) -> String {
    escape_snake(words(name).join("_"))
}

/// A type or enum variant name: `SSESpecification` -> `SseSpecification`, `aws:kms` -> `AwsKms`.
pub fn pascal(name: &str) -> String {
    let ws = words(name);
    let mut s = String::new();
    for (i, w) in ws.iter().enumerate() {
        // Digits between words stay readable: `1.0` -> `V1_0`, `t2.micro` -> `T2Micro`.
        if i > 0
            && w.starts_with(|c: char| c.is_ascii_digit())
            && s.ends_with(|c: char| c.is_ascii_digit())
        {
            s.push('_');
        }
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            s.push(f.to_ascii_uppercase());
            s.extend(cs);
        }
    }
    if s.is_empty() {
        return "Empty".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// A service's module and cargo feature: `AWS::ApiGatewayV2` -> `apigatewayv2`, `Alexa::ASK` -> `alexa_ask`.
pub fn service_module(namespace: &str, service: &str) -> String {
    let s = service.to_ascii_lowercase();
    let s = if namespace == "AWS" {
        s
    } else {
        format!("{}_{s}", namespace.to_ascii_lowercase())
    };
    escape_snake(s)
}

/// The builder method setting a field. Builders have a `build` method; nothing else is taken.
pub fn setter(field: &str) -> String {
    if field == "build" {
        "build_".into()
    } else {
        field.to_owned()
    }
}

/// A set of names in one Rust scope; [`Scope::claim`] returns a free name, appending `suffix` (then a number)
/// when the wanted one is taken. Claims are made in schema order, so the result is deterministic.
#[derive(Clone, Default)]
pub struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    pub fn with_reserved(names: &[&str]) -> Self {
        Scope {
            taken: names.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
    pub fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_owned());
    }
    /// Claims `wanted`, or `wanted` + `suffix`, or `wanted` + `suffix` + 2, 3...
    pub fn claim(&mut self, wanted: &str, suffix: &str) -> String {
        self.claim_with(wanted, suffix, |_| true)
    }
    /// Like [`Scope::claim`], also requiring `extra(name)` (for a type that needs `<name>Builder` free as well).
    pub fn claim_with(
        &mut self,
        wanted: &str,
        suffix: &str,
        extra: impl Fn(&str) -> bool,
    ) -> String {
        let free = |s: &Scope, n: &str| !s.taken.contains(n) && extra(n);
        let mut name = wanted.to_owned();
        if !free(self, &name) {
            name = format!("{wanted}{suffix}");
            let mut n = 2;
            while !free(self, &name) {
                name = format!("{wanted}{suffix}{n}");
                n += 1;
            }
        }
        self.taken.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_odd_cases() {
        let cases = [
            ("KMSMasterKeyId", "kms_master_key_id"),
            ("SSESpecification", "sse_specification"),
            ("Type", "type_"),
            ("VPCs", "vpcs"),
            ("SubnetIds", "subnet_ids"),
            ("VPCSecurityGroups", "vpc_security_groups"),
            ("ARNsList", "arns_list"),
            ("DNSServers", "dns_servers"),
            ("Ipv6CidrBlock", "ipv6_cidr_block"),
            ("EnableIPv6", "enable_ipv6"),
            ("IPv6Address", "ipv6_address"),
            ("EC2InstanceId", "ec2_instance_id"),
            ("S3Bucket", "s3_bucket"),
            ("MACsecKeys", "macsec_keys"),
            ("OAuthScopes", "oauth_scopes"),
            ("X509CertificateData", "x509_certificate_data"),
            ("deadLetterTargetArn", "dead_letter_target_arn"),
            ("Match", "match_"),
            ("Ref", "ref_"),
            ("Self", "self_"),
            ("3DES", "n3_des"),
            ("3", "n3"),
            ("http-header", "http_header"),
            ("", "value"),
        ];
        for (input, want) in cases {
            assert_eq!(snake(input), want, "snake({input:?})");
        }
    }

    #[test]
    fn pascal_case_odd_cases() {
        let cases = [
            ("SSESpecification", "SseSpecification"),
            ("aws:kms", "AwsKms"),
            ("ENABLED", "Enabled"),
            ("t2.micro", "T2Micro"),
            ("1.0", "V1_0"),
            ("AES256", "Aes256"),
            ("VPC", "Vpc"),
            ("", "Empty"),
            ("*", "Empty"),
            ("Self", "Self_"),
        ];
        for (input, want) in cases {
            assert_eq!(pascal(input), want, "pascal({input:?})");
        }
    }

    #[test]
    fn service_modules() {
        assert_eq!(service_module("AWS", "ApiGatewayV2"), "apigatewayv2");
        assert_eq!(service_module("AWS", "SQS"), "sqs");
        assert_eq!(service_module("Alexa", "ASK"), "alexa_ask");
    }

    #[test]
    fn collisions_get_a_suffix() {
        let mut s = Scope::with_reserved(RESERVED_TYPES);
        assert_eq!(s.claim("Value", "Property"), "ValueProperty");
        assert_eq!(s.claim("Tag", "Property"), "Tag");
        assert_eq!(s.claim("Tag", "Property"), "TagProperty");
        assert_eq!(s.claim("Tag", "Property"), "TagProperty2");
        // `VPCs` and `Vpcs` are the same snake name: the second gets a suffix.
        let mut f = Scope::default();
        assert_eq!(f.claim(&snake("VPCs"), "_2"), "vpcs");
        assert_eq!(f.claim(&snake("Vpcs"), "_2"), "vpcs_2");
        assert_eq!(setter("build"), "build_");
    }
}
