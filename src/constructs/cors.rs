//! Cross-origin resource sharing options shared by the REST API ([`super::apigateway`]) and the HTTP API
//! ([`super::apigatewayv2`]) constructs: one typed [`Cors`], checked the same way for both.
//!
//! ```
//! use std::time::Duration;
//! use cfnkit::constructs::cors::Cors;
//! let cors = Cors {
//!     allow_credentials: true,
//!     max_age: Some(Duration::from_secs(600)),
//!     ..Cors::new(["https://shop.example.com"])
//! };
//! ```

use std::time::Duration;

use super::{seconds_in, ConstructError};

/// The request headers allowed when [`Cors::allow_headers`] is left as [`Cors::new`] sets it: AWS CDK's
/// `Cors.DEFAULT_HEADERS`, what browsers send to an API called with a token, an API key or SigV4.
pub const DEFAULT_HEADERS: &[&str] = &[
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
];

/// The methods allowed when [`Cors::allow_methods`] is left as [`Cors::new`] sets it: AWS CDK's
/// `Cors.ALL_METHODS`.
pub const ALL_METHODS: &[&str] = &["OPTIONS", "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"];

/// The longest [`Cors::max_age`]: HTTP APIs accept no more, and browsers cap it lower anyway (Chromium at 2 hours).
pub const MAX_AGE_LIMIT: Duration = Duration::from_secs(86_400);

/// Which browser origins may call an API, with which methods and headers.
///
/// There is no `Default`: the allowed origins are a choice (`*` lets every web page call the API with its
/// visitors' browsers), so [`Cors::new`] takes them and sets the rest to CDK's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Cors {
    /// Origins allowed to call: `https://shop.example.com` (scheme, host and optional port, no path), or `*`
    /// alone for every origin.
    pub allow_origins: Vec<String>,
    /// Methods allowed (`GET`, `POST`..., or `*`). [`Cors::new`] sets every method ([`ALL_METHODS`]).
    pub allow_methods: Vec<String>,
    /// Request headers allowed. [`Cors::new`] sets CDK's list ([`DEFAULT_HEADERS`]).
    pub allow_headers: Vec<String>,
    /// Response headers the browser's script may read beyond the simple ones. Without any, only the simple ones.
    pub expose_headers: Vec<String>,
    /// Whether the browser sends cookies and credentials and lets the script read the answer. Not with the `*`
    /// origin (browsers refuse it). Off unless turned on.
    pub allow_credentials: bool,
    /// How long a browser caches a preflight answer (0 to 24 hours). Without it the browser's default (5
    /// seconds in Chromium and Firefox).
    pub max_age: Option<Duration>,
}

impl Cors {
    /// CORS for `allow_origins`, with every method ([`ALL_METHODS`]), CDK's default headers
    /// ([`DEFAULT_HEADERS`]), no exposed headers, no credentials and the browser's preflight cache time.
    pub fn new<S: Into<String>>(allow_origins: impl IntoIterator<Item = S>) -> Cors {
        Cors {
            allow_origins: allow_origins.into_iter().map(Into::into).collect(),
            allow_methods: ALL_METHODS.iter().map(|m| (*m).to_owned()).collect(),
            allow_headers: DEFAULT_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            expose_headers: Vec::new(),
            allow_credentials: false,
            max_age: None,
        }
    }

    /// Whether every origin may call (`*`).
    pub fn any_origin(&self) -> bool {
        self.allow_origins.iter().any(|o| o == "*")
    }

    /// Checks the options; the error names the construct (`path`), the bad value and the fix. Returns
    /// `max_age` in seconds.
    pub(crate) fn check(&self, path: &str) -> Result<Option<i64>, ConstructError> {
        if self.allow_origins.is_empty() {
            return Err(ConstructError::invalid(
                path,
                "cors.allow_origins needs at least one origin: list the origins of the web pages that call the \
                 API (`https://shop.example.com`), or `*` to let every origin call",
            ));
        }
        if self.any_origin() && self.allow_origins.len() > 1 {
            return Err(ConstructError::conflict(
                path,
                format!(
                    "cors.allow_origins {:?} lists `*` with other origins: `*` already allows every origin, so \
                     give either `*` alone or only the origins",
                    self.allow_origins
                ),
            ));
        }
        for o in self.allow_origins.iter().filter(|o| *o != "*") {
            if !is_origin(o) {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "cors.allow_origins: {o:?} is not an origin: write `https://host` or `https://host:port` \
                         (no path, no trailing `/`), or `*` alone"
                    ),
                ));
            }
        }
        if self.allow_credentials && self.any_origin() {
            return Err(ConstructError::conflict(
                path,
                "cors.allow_credentials cannot be used with the `*` origin in cors.allow_origins (browsers refuse \
                 credentials for a wildcard origin): list the origins allowed instead of `*`, or turn \
                 allow_credentials off",
            ));
        }
        if self.allow_methods.is_empty() {
            return Err(ConstructError::invalid(
                path,
                format!(
                    "cors.allow_methods is empty, so browsers could call no method: list methods ({}) or `*`",
                    ALL_METHODS.join(", ")
                ),
            ));
        }
        for m in &self.allow_methods {
            if m != "*" && !ALL_METHODS.contains(&m.as_str()) {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "cors.allow_methods: {m:?} is not a method: use {} (upper case) or `*`",
                        ALL_METHODS.join(", ")
                    ),
                ));
            }
        }
        for (prop, headers) in [
            ("allow_headers", &self.allow_headers),
            ("expose_headers", &self.expose_headers),
        ] {
            if let Some(h) = headers.iter().find(|h| *h != "*" && !is_token(h)) {
                return Err(ConstructError::invalid(
                    path,
                    format!(
                        "cors.{prop}: {h:?} is not a header name: use letters, digits and `-` (`X-Request-Id`)"
                    ),
                ));
            }
        }
        if self.allow_credentials {
            // With credentials, browsers read `*` in these lists as a header or method literally named `*`.
            for (prop, list) in [
                ("allow_methods", &self.allow_methods),
                ("allow_headers", &self.allow_headers),
                ("expose_headers", &self.expose_headers),
            ] {
                if list.iter().any(|v| v == "*") {
                    return Err(ConstructError::conflict(
                        path,
                        format!(
                            "cors.{prop} has `*` with cors.allow_credentials: browsers do not read `*` as a wildcard \
                             when credentials are allowed, so list the names"
                        ),
                    ));
                }
            }
        }
        self.max_age
            .map(|d| seconds_in(path, "cors.max_age", d, Duration::ZERO, MAX_AGE_LIMIT))
            .transpose()
    }
}

/// `https://host[:port]`: a scheme, then letters, digits, `.`, `-` and one optional `:port`, no path.
fn is_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
}

/// An HTTP header name as CORS lists carry them.
fn is_token(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(c: Cors) -> String {
        c.check("S/Api").unwrap_err().to_string()
    }

    #[test]
    fn new_sets_cdk_defaults_and_checks() {
        let c = Cors::new(["https://shop.example.com", "http://localhost:3000"]);
        assert_eq!(c.allow_methods.len(), 7);
        assert_eq!(c.allow_headers[0], "Content-Type");
        assert_eq!(c.check("S/Api").unwrap(), None);
        let c = Cors {
            max_age: Some(Duration::from_secs(600)),
            ..Cors::new(["*"])
        };
        assert_eq!(c.check("S/Api").unwrap(), Some(600));
    }

    #[test]
    fn no_origin_is_refused_with_the_fix() {
        assert_eq!(
            err(Cors::new(Vec::<String>::new())),
            "S/Api: cors.allow_origins needs at least one origin: list the origins of the web pages that call \
             the API (`https://shop.example.com`), or `*` to let every origin call"
        );
    }

    #[test]
    fn wildcard_with_credentials_names_both_and_the_fix() {
        let e = err(Cors {
            allow_credentials: true,
            ..Cors::new(["*"])
        });
        assert!(e.contains("cors.allow_credentials"), "{e}");
        assert!(e.contains("`*` origin in cors.allow_origins"), "{e}");
        assert!(e.contains("list the origins allowed instead of `*`"), "{e}");
    }

    #[test]
    fn malformed_values_are_named() {
        assert_eq!(
            err(Cors::new(["https://shop.example.com/"])),
            "S/Api: cors.allow_origins: \"https://shop.example.com/\" is not an origin: write `https://host` or \
             `https://host:port` (no path, no trailing `/`), or `*` alone"
        );
        assert!(
            err(Cors::new(["shop.example.com"])).contains("\"shop.example.com\" is not an origin")
        );
        assert!(err(Cors::new(["*", "https://a.example"])).contains("lists `*` with other origins"));
        assert!(err(Cors {
            allow_methods: vec!["get".into()],
            ..Cors::new(["*"])
        })
        .contains("cors.allow_methods: \"get\" is not a method"));
        assert!(err(Cors {
            allow_methods: vec![],
            ..Cors::new(["*"])
        })
        .contains("cors.allow_methods is empty"));
        assert!(err(Cors {
            allow_headers: vec!["X Id".into()],
            ..Cors::new(["*"])
        })
        .contains("cors.allow_headers: \"X Id\" is not a header name"));
        assert!(err(Cors {
            expose_headers: vec!["*".into()],
            allow_credentials: true,
            ..Cors::new(["https://a.example"])
        })
        .contains("cors.expose_headers has `*` with cors.allow_credentials"));
        assert_eq!(
            err(Cors {
                max_age: Some(Duration::from_secs(2 * 86_400)),
                ..Cors::new(["*"])
            }),
            "S/Api: cors.max_age must be a whole number of seconds between 0 seconds and 1 day, got 2 days"
        );
    }
}
