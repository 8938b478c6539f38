//! Placeholder values for minimal instances: strings that satisfy a property's `format` or `pattern`, so that
//! cfn-lint's check of the generated layer sees valid values wherever it can and reports real shape errors.

/// Values for the formats the schemas use most (cfn-lint checks them with its own patterns).
const FORMATS: &[(&str, &str)] = &[
    (
        "AWS::ACM::Certificate.Arn",
        "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    ),
    ("AWS::EC2::Image.Id", "ami-12345678"),
    ("AWS::EC2::SecurityGroup.Id", "sg-12345678"),
    ("AWS::EC2::SecurityGroup.Name", "placeholder"),
    ("AWS::EC2::Subnet.Id", "subnet-12345678"),
    ("AWS::EC2::VPC.Id", "vpc-12345678"),
    (
        "AWS::IAM::Role.Arn",
        "arn:aws:iam::123456789012:role/placeholder",
    ),
    ("AWS::KMS::Alias.AliasName", "alias/placeholder"),
    (
        "AWS::KMS::Key.Arn",
        "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012",
    ),
    ("AWS::KMS::Key.Id", "12345678-1234-1234-1234-123456789012"),
    (
        "AWS::Lambda::Function.Arn",
        "arn:aws:lambda:us-east-1:123456789012:function:placeholder",
    ),
    ("AWS::Lambda::Function.Name", "placeholder"),
    ("AWS::Logs::LogGroup.Name", "placeholder"),
    ("AWS::S3::Bucket.Name", "placeholder-bucket"),
    (
        "AWS::SNS::Topic.Arn",
        "arn:aws:sns:us-east-1:123456789012:placeholder",
    ),
    (
        "AWS::SQS::Queue.Arn",
        "arn:aws:sqs:us-east-1:123456789012:placeholder",
    ),
    ("date-time", "2024-01-01T00:00:00Z"),
    ("ipv4-network", "10.0.0.0/16"),
    ("ipv6-network", "2001:db8::/56"),
    ("uri", "https://example.com"),
];

/// A value for `format`; list formats (`AWS::EC2::Subnet.Ids`) give an item's value.
pub fn for_format(format: &str) -> Option<&'static str> {
    let single = format
        .strip_suffix('s')
        .filter(|f| f.ends_with(".Id") || f.ends_with(".Name"));
    FORMATS
        .iter()
        .find(|(f, _)| *f == format || Some(*f) == single)
        .map(|(_, v)| *v)
}

/// A string matching `pattern`, for the regex subset the schemas use; `None` for what it does not handle
/// (backreferences, lookarounds with content that matters).
pub fn for_pattern(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut p = Parser { chars, i: 0 };
    let out = p.alternation()?;
    (p.i == p.chars.len()).then_some(out)
}

struct Parser {
    chars: Vec<char>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn alternation(&mut self) -> Option<String> {
        let first = self.sequence()?;
        while self.peek() == Some('|') {
            self.i += 1;
            self.sequence()?;
        }
        Some(first)
    }

    fn sequence(&mut self) -> Option<String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            let (min, _) = self.quantifier()?;
            for _ in 0..min {
                out.push_str(&atom);
            }
        }
        Some(out)
    }

    /// Repetitions to use: the minimum, but at least one for `*` so values are not empty.
    fn quantifier(&mut self) -> Option<(usize, ())> {
        let n = match self.peek() {
            Some('*') | Some('+') => {
                self.i += 1;
                1
            }
            Some('?') => {
                self.i += 1;
                0
            }
            Some('{') => {
                let close = self.chars[self.i..].iter().position(|c| *c == '}')? + self.i;
                let body: String = self.chars[self.i + 1..close].iter().collect();
                let min = body.split(',').next()?.trim();
                let n = if min.is_empty() { 0 } else { min.parse().ok()? };
                self.i = close + 1;
                n
            }
            _ => return Some((1, ())),
        };
        if matches!(self.peek(), Some('?') | Some('+')) {
            self.i += 1;
        }
        Some((n, ()))
    }

    fn atom(&mut self) -> Option<String> {
        let c = self.peek()?;
        self.i += 1;
        match c {
            '^' | '$' => Some(String::new()),
            '.' => Some("a".into()),
            '(' => {
                let mut lookaround = false;
                if self.peek() == Some('?') {
                    self.i += 1;
                    match self.peek()? {
                        ':' => self.i += 1,
                        '=' | '!' => {
                            self.i += 1;
                            lookaround = true;
                        }
                        '<' if matches!(self.chars.get(self.i + 1), Some('=') | Some('!')) => {
                            self.i += 2;
                            lookaround = true;
                        }
                        '<' | 'P' => {
                            let close =
                                self.chars[self.i..].iter().position(|c| *c == '>')? + self.i;
                            self.i = close + 1;
                        }
                        _ => return None,
                    }
                }
                let inner = self.alternation()?;
                if self.peek() != Some(')') {
                    return None;
                }
                self.i += 1;
                Some(if lookaround { String::new() } else { inner })
            }
            '[' => self.class().map(String::from),
            '\\' => {
                let e = self.peek()?;
                self.i += 1;
                Some(match e {
                    'd' => "0".into(),
                    'w' | 'D' | 'S' => "a".into(),
                    's' => " ".into(),
                    'W' => "-".into(),
                    'b' | 'B' | 'A' | 'z' | 'Z' => String::new(),
                    'n' => "\n".into(),
                    't' => "\t".into(),
                    'p' | 'P' => {
                        if self.peek() == Some('{') {
                            let close =
                                self.chars[self.i..].iter().position(|c| *c == '}')? + self.i;
                            self.i = close + 1;
                        }
                        "a".into()
                    }
                    'u' => {
                        let hex: String = self.chars.get(self.i..self.i + 4)?.iter().collect();
                        self.i += 4;
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?.to_string()
                    }
                    c if c.is_ascii_digit() => return None,
                    c => c.to_string(),
                })
            }
            c => Some(c.to_string()),
        }
    }

    /// A character class: its first member, or for a negated class a common character it excludes.
    fn class(&mut self) -> Option<char> {
        let negated = self.peek() == Some('^');
        if negated {
            self.i += 1;
        }
        let mut members: Vec<(char, char)> = vec![];
        let mut first = true;
        loop {
            let c = self.peek()?;
            self.i += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = if c == '\\' {
                let e = self.peek()?;
                self.i += 1;
                match e {
                    'd' => {
                        members.push(('0', '9'));
                        continue;
                    }
                    'w' => {
                        members.extend([('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]);
                        continue;
                    }
                    's' => {
                        members.push((' ', ' '));
                        continue;
                    }
                    'n' => '\n',
                    't' => '\t',
                    'u' => {
                        let hex: String = self.chars.get(self.i..self.i + 4)?.iter().collect();
                        self.i += 4;
                        char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                    }
                    'p' | 'P' => {
                        if self.peek() == Some('{') {
                            let close =
                                self.chars[self.i..].iter().position(|c| *c == '}')? + self.i;
                            self.i = close + 1;
                        }
                        members.push(('a', 'z'));
                        continue;
                    }
                    e => e,
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.i + 1).is_some_and(|c| *c != ']') {
                self.i += 1;
                let mut hi = self.peek()?;
                self.i += 1;
                if hi == '\\' {
                    hi = self.peek()?;
                    self.i += 1;
                }
                members.push((lo, hi));
            } else {
                members.push((lo, lo));
            }
        }
        if negated {
            return "a0A-_x "
                .chars()
                .find(|c| !members.iter().any(|(lo, hi)| lo <= c && c <= hi));
        }
        // Prefer a letter or digit when the class has one, as values like names usually start with one.
        members
            .iter()
            .find(|(lo, _)| lo.is_ascii_alphanumeric())
            .or(members.first())
            .map(|(lo, _)| *lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let cases = [
            ("^[a-zA-Z0-9-]+$", "a"),
            ("^vpc-[0-9a-f]{8}$", "vpc-00000000"),
            (
                "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$",
                "arn:awsa:iam::000000000000:role/a",
            ),
            ("^(alias/)?[a-z]{3,}$", "aaa"),
            ("^(?!aws:)[a-z]+$", "a"),
            ("[^/]+", "a"),
        ];
        for (p, want) in cases {
            assert_eq!(for_pattern(p).as_deref(), Some(want), "{p}");
        }
        assert_eq!(for_pattern("(a)\\1"), None);
        assert_eq!(for_format("AWS::EC2::Subnet.Ids"), Some("subnet-12345678"));
    }
}
