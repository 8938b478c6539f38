//! Path templates (`/orders/{id}`, `/files/{proxy+}`) against request paths, with API Gateway's precedence:
//! a literal segment beats a parameter, a parameter beats a greedy `{proxy+}`.

use std::collections::HashMap;

/// How well a template matched: compared lexicographically, higher is more specific.
pub(crate) type Specificity = Vec<u8>;

/// The path parameters when `template` matches `path` (both starting with `/`), and how specific the match is.
pub(crate) fn match_path(
    template: &str,
    path: &str,
) -> Option<(HashMap<String, String>, Specificity)> {
    let t: Vec<&str> = segments(template);
    let p: Vec<&str> = segments(path);
    let mut params = HashMap::new();
    let mut score = Vec::new();
    for (i, seg) in t.iter().enumerate() {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            // A greedy parameter takes the rest, at least one segment.
            if p.len() <= i {
                return None;
            }
            params.insert(name.to_owned(), decode(&p[i..].join("/")));
            score.push(1);
            return Some((params, score));
        }
        let actual = p.get(i)?;
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if actual.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), decode(actual));
            score.push(2);
        } else if seg == actual {
            score.push(3);
        } else {
            return None;
        }
    }
    (t.len() == p.len()).then_some((params, score))
}

fn segments(path: &str) -> Vec<&str> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
