//! Makes the schemas' descriptions (markdown written for AWS's and CDK's docs) safe as rustdoc comments.
//!
//! rustdoc reads doc comments as markdown too, but it also treats `[Name]` as an intra-doc link, `<name>` as
//! HTML, a bare URL as a lint, and every code block (fenced or indented) as a doctest to compile. So:
//! - fenced code blocks become ```` ```text ```` blocks (closed if the description forgot to);
//! - indentation is clamped to 3 spaces, so no line becomes an indented code block;
//! - outside code spans: `[`, `]` and `<` are escaped, except in links to `http(s)` URLs, which are kept
//!   (links to anything else, relative pages or anchors, keep their text only); bare URLs become `<url>`;
//!   a backtick run without its closing run is escaped;
//! - long lines are wrapped at `width`, never so that a line would start like a list item, heading, quote or
//!   fence, and a list item's continuation lines are indented under its text.

/// The description as doc-comment lines (without `///`), blank lines between paragraphs.
pub fn doc_lines(text: &str, width: usize) -> Vec<String> {
    let text: String = text
        .replace("\r\n", "\n")
        .replace('\t', "    ")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let mut out: Vec<String> = vec![];
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = (line.len() - trimmed.len()).min(3);
        if let Some(marker) = &fence {
            if trimmed.starts_with(marker.as_str()) && trimmed.trim_end() == marker.as_str() {
                out.push(format!("{}{marker}", " ".repeat(indent)));
                fence = None;
            } else {
                out.push(line.trim_end().to_owned());
            }
            continue;
        }
        if let Some(marker) = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m)) {
            let run: String = trimmed
                .chars()
                .take_while(|c| marker.starts_with(*c))
                .collect();
            out.push(format!("{}{run}text", " ".repeat(indent)));
            fence = Some(run);
            continue;
        }
        let body = escape_inline(trimmed.trim_end());
        if body.is_empty() {
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            continue;
        }
        wrap(&" ".repeat(indent), &body, width, &mut out);
    }
    if let Some(marker) = fence {
        out.push(marker);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    while out.first().is_some_and(String::is_empty) {
        out.remove(0);
    }
    out
}

/// Width of a list marker (`- `, `* `, `+ `, `12. `, `3) `) at the start of `s`, if it is one.
fn list_marker(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'-' | b'*' | b'+') && b[1] == b' ' {
        return Some(2);
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if (1..=9).contains(&digits)
        && b.len() > digits + 1
        && matches!(b[digits], b'.' | b')')
        && b[digits + 1] == b' '
    {
        return Some(digits + 2);
    }
    None
}

/// Whether a line starting with `word` would open a block (list item, heading, quote, fence, rule, table).
fn starts_block(word: &str) -> bool {
    let first = word.chars().next().unwrap_or(' ');
    matches!(first, '-' | '+' | '*' | '#' | '>' | '=' | '|' | '~' | '_')
        || word.starts_with("```")
        || first.is_ascii_digit()
}

fn wrap(indent: &str, body: &str, width: usize, out: &mut Vec<String>) {
    let cont = format!("{indent}{}", " ".repeat(list_marker(body).unwrap_or(0)));
    let mut line = indent.to_owned();
    let mut has_word = false;
    for word in body.split(' ') {
        if has_word
            && line.len() + 1 + word.len() > width
            && !word.is_empty()
            && !starts_block(word)
        {
            out.push(line.trim_end().to_owned());
            line = format!("{cont}{word}");
            continue;
        }
        if has_word {
            line.push(' ');
        }
        line.push_str(word);
        has_word = true;
    }
    out.push(line.trim_end().to_owned());
}

/// Escapes one line outside code spans; see the module docs.
fn escape_inline(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while !rest.is_empty() {
        if rest.starts_with('`') {
            let run = rest.chars().take_while(|c| *c == '`').count();
            let ticks = &rest[..run];
            // The closing run: the same number of backticks, not part of a longer run.
            let after = &rest[run..];
            let mut close = None;
            let mut i = 0;
            while let Some(p) = after[i..].find(ticks) {
                let at = i + p;
                let len = after[at..].chars().take_while(|c| *c == '`').count();
                if len == run {
                    close = Some(at);
                    break;
                }
                i = at + len;
            }
            match close {
                Some(c) => {
                    out.push_str(&rest[..run + c + run]);
                    rest = &after[c + run..];
                }
                None => {
                    out.push_str(&"\\`".repeat(run));
                    rest = after;
                }
            }
            continue;
        }
        if rest.starts_with('[') {
            if let Some((text, url, len)) = link(rest) {
                if url.starts_with("https://") || url.starts_with("http://") {
                    out.push_str(&format!("[{}]({url})", escape_inline(text)));
                } else {
                    out.push_str(&escape_inline(text));
                }
                rest = &rest[len..];
                continue;
            }
        }
        // Plain text up to the next code span or link.
        let next = next_special(rest);
        out.push_str(&escape_text(&rest[..next]));
        rest = &rest[next..];
    }
    out
}

/// Where the next backtick or `[` after the first character is, not counting escaped ones (`\\[`).
fn next_special(s: &str) -> usize {
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '`' | '[' if i > 0 => return i,
            _ => {}
        }
    }
    s.len()
}

/// Escapes text that holds no code span nor link.
fn escape_text(s: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    let b = s.as_bytes();
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with('<') {
            // An autolink is kept.
            if let Some(end) = rest.find('>') {
                let inner = &rest[1..end];
                if (inner.starts_with("https://") || inner.starts_with("http://"))
                    && !inner.contains(char::is_whitespace)
                {
                    out.push_str(&rest[..=end]);
                    i += end + 1;
                    continue;
                }
            }
        }
        if (rest.starts_with("https://") || rest.starts_with("http://"))
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
        {
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`' | '[' | ']'))
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', ')', '\'', '*', '_']);
            out.push_str(&format!("<{url}>"));
            i += url.len();
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        match c {
            '\\' => {
                // `\` before punctuation is already an escape in markdown: both are kept.
                out.push(c);
                if let Some(n) = rest[1..].chars().next().filter(char::is_ascii_punctuation) {
                    out.push(n);
                    i += n.len_utf8();
                }
            }
            '[' | ']' | '<' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += c.len_utf8();
    }
    out
}

/// `[text](url)` at the start of `s`: the text, the URL and the length of the whole link.
fn link(s: &str) -> Option<(&str, &str, usize)> {
    let mut depth = 0;
    let mut close = None;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let after = s[close + 1..].strip_prefix('(')?;
    let end = after.find(')')?;
    let url = after[..end].trim();
    if url.contains(char::is_whitespace) {
        return None;
    }
    Some((&s[1..close], url, close + 1 + 1 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> String {
        doc_lines(s, 100).join("\n")
    }

    #[test]
    fn brackets_and_angle_brackets_are_escaped_outside_code() {
        assert_eq!(
            one("Use [Name] or <region>."),
            "Use \\[Name\\] or \\<region>."
        );
        assert_eq!(one("Code `[x] <y>` stays."), "Code `[x] <y>` stays.");
        assert_eq!(one("Two ``a ` b`` ticks."), "Two ``a ` b`` ticks.");
        assert_eq!(one("Unclosed ` tick [x]"), "Unclosed \\` tick \\[x\\]");
    }

    #[test]
    fn http_links_are_kept_others_keep_their_text() {
        assert_eq!(
            one("See [the guide](https://docs.aws.amazon.com/x.html) and [Foo](Bar) or [here](#anchor)."),
            "See [the guide](https://docs.aws.amazon.com/x.html) and Foo or here."
        );
        assert_eq!(
            one("A [`code` link](https://a.b/c)."),
            "A [`code` link](https://a.b/c)."
        );
    }

    #[test]
    fn bare_urls_become_autolinks() {
        assert_eq!(
            one("Go to https://aws.amazon.com/s3/."),
            "Go to <https://aws.amazon.com/s3/>."
        );
        assert_eq!(
            one("Kept <https://a.b/c> as is."),
            "Kept <https://a.b/c> as is."
        );
    }

    #[test]
    fn code_blocks_are_text_and_closed_and_indents_are_clamped() {
        assert_eq!(
            one("x\n\n```json\n{\"a\": [1]}\n"),
            "x\n\n```text\n{\"a\": [1]}\n```"
        );
        assert_eq!(one("x\n\n        indented <b>"), "x\n\n   indented \\<b>");
        assert_eq!(one("x\n\n\tTab"), "x\n\n   Tab");
    }

    #[test]
    fn wrapping_never_starts_a_block_and_indents_list_continuations() {
        let lines = doc_lines(&format!("- {} - 1. # > end", "word ".repeat(30)), 40);
        assert!(lines.len() > 3, "{lines:?}");
        assert!(lines[0].starts_with("- "));
        for l in &lines[1..] {
            assert!(l.starts_with("  ") && !l[2..].starts_with(' '), "{l:?}");
            assert!(!starts_block(l.trim_start()), "{l:?}");
        }
        assert!(
            lines.iter().all(|l| l.len() <= 40 || !l.contains(' ')),
            "{lines:?}"
        );
    }

    #[test]
    fn existing_escapes_and_blank_runs_are_kept_tidy() {
        assert_eq!(one("a \\* b \\[x\n\n\n\nc \\d"), "a \\* b \\[x\n\nc \\d");
        assert_eq!(one("\\[x] `c`\\[y]"), "\\[x\\] `c`\\[y\\]");
    }
}
