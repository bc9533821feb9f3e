//! What to extract: a source declared in `dap.toml` (`[sources.NAME]`) or on the command line.
//!
//! ```toml
//! [sources.issues]
//! url = "https://api.example.com/v1/issues"
//! params = { state = "all", per_page = "100" }
//! headers = { Authorization = "Bearer ${EXAMPLE_TOKEN}" }   # ${VAR} comes from the environment
//! records = "data"            # where the rows sit in each page (used to stop paging and to load)
//! paginate = { type = "cursor", param = "cursor", path = "meta.next_cursor" }
//! max_pages = 500
//! rate_limit = 5.0            # requests per second
//! timeout = 30                # seconds per request
//! retries = 5
//! load = "raw.issues"         # load the landed pages into this table after extracting
//! ```
//!
//! Values that come from `${VAR}` are secrets: they are sent, but never printed, logged or written
//! to the manifest ([`Secrets::redact`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ExtractError;

/// How the pages of a source follow each other.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Paginate {
    /// Follow a `Link: <...>; rel="next"` header when the server sends one; otherwise one page.
    #[default]
    Link,
    /// Exactly one request.
    None,
    /// `?page=1`, `?page=2`, ... until a page has no records (or fewer than `size`).
    Page {
        #[serde(default = "default_page_param")]
        param: String,
        #[serde(default = "default_page_start")]
        start: u64,
        /// Query parameter carrying the page size, with `size`.
        size_param: Option<String>,
        size: Option<u64>,
    },
    /// `?offset=0&limit=100`, `?offset=100&limit=100`, ... until a page has fewer than `limit`
    /// records.
    Offset {
        #[serde(default = "default_offset_param")]
        param: String,
        #[serde(default = "default_limit_param")]
        limit_param: String,
        limit: u64,
    },
    /// The next request carries `?<param>=<value at path>` from the previous body; stops when the
    /// value is missing, null or empty.
    Cursor {
        #[serde(default = "default_cursor_param")]
        param: String,
        path: String,
    },
    /// The next URL is the value at `path` in the body (absolute or relative to the current URL).
    NextUrl { path: String },
}

fn default_page_param() -> String {
    "page".into()
}
fn default_page_start() -> u64 {
    1
}
fn default_offset_param() -> String {
    "offset".into()
}
fn default_limit_param() -> String {
    "limit".into()
}
fn default_cursor_param() -> String {
    "cursor".into()
}

/// A `[sources.NAME]` table as written in `dap.toml` (before `${VAR}` interpolation).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub url: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Dotted path of the records array in each page (`data`, `result.items`); none = the body
    /// is the array (or one record per page).
    pub records: Option<String>,
    #[serde(default)]
    pub paginate: Paginate,
    pub max_pages: Option<u64>,
    /// Requests per second.
    pub rate_limit: Option<f64>,
    /// Seconds per request (default 30).
    pub timeout: Option<f64>,
    /// Retries after the first attempt on 429, 5xx and connection errors (default 5).
    pub retries: Option<u32>,
    /// First backoff in seconds, doubled each retry with full jitter (default 1).
    pub backoff: Option<f64>,
    /// Table to load the landed pages into.
    pub load: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SourcesFile {
    #[serde(default)]
    sources: BTreeMap<String, SourceConfig>,
}

/// The `[sources.*]` tables of a `dap.toml` text.
pub fn parse_sources(toml_text: &str) -> Result<BTreeMap<String, SourceConfig>, ExtractError> {
    let f: SourcesFile =
        toml::from_str(toml_text).map_err(|e| ExtractError::Config(e.to_string()))?;
    for name in f.sources.keys() {
        validate_name("source", name)?;
    }
    Ok(f.sources)
}

/// Source names and run ids become folder names under the warehouse: letters, digits, `_`, `-`
/// and `.` (not leading), at most 128 characters.
pub fn validate_name(kind: &str, name: &str) -> Result<(), ExtractError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ExtractError::Config(format!(
            "invalid {kind} name `{name}`: use letters, digits, `_`, `-` and `.` (not leading)"
        )))
    }
}

/// Values taken from the environment, to be hidden wherever text leaves the process.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Replaces every secret value (and its URL-encoded form) in `text` with `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.0 {
            out = out.replace(s.as_str(), "***");
            let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
            if encoded != *s {
                out = out.replace(encoded.as_str(), "***");
            }
        }
        out
    }
}

/// Replaces `${VAR}` with the environment's value; every substituted value is recorded as a
/// secret. `$${` is a literal `${`.
pub fn interpolate(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
) -> Result<String, ExtractError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(lit) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = lit;
        } else if let Some(body) = after.strip_prefix("${") {
            let Some(end) = body.find('}') else {
                return Err(ExtractError::Config(format!(
                    "unterminated `${{` in `{text}`"
                )));
            };
            let var = &body[..end];
            let value = env(var).ok_or_else(|| {
                ExtractError::Config(format!("environment variable {var} is not set"))
            })?;
            if !value.is_empty() && !secrets.0.contains(&value) {
                secrets.0.push(value.clone());
            }
            out.push_str(&value);
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A source with `${VAR}`s substituted, ready to fetch.
#[derive(Debug, Clone)]
pub struct ResolvedSource {
    pub url: url::Url,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub config: SourceConfig,
    pub secrets: Secrets,
}

impl SourceConfig {
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResolvedSource, ExtractError> {
        let mut secrets = Secrets::default();
        let url_text = interpolate(&self.url, env, &mut secrets)?;
        let url = url::Url::parse(&url_text).map_err(|e| {
            ExtractError::Config(format!("invalid url `{}`: {e}", secrets.redact(&url_text)))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ExtractError::Config(format!(
                "url `{}` must be http:// or https://",
                secrets.redact(&url_text)
            )));
        }
        let mut params = Vec::new();
        for (k, v) in &self.params {
            params.push((k.clone(), interpolate(v, env, &mut secrets)?));
        }
        let mut headers = Vec::new();
        for (k, v) in &self.headers {
            headers.push((k.clone(), interpolate(v, env, &mut secrets)?));
        }
        if let Some(r) = self.rate_limit
            && !(r > 0.0 && r.is_finite())
        {
            return Err(ExtractError::Config(format!(
                "rate_limit must be a positive number of requests per second, not {r}"
            )));
        }
        for (what, v) in [("timeout", self.timeout), ("backoff", self.backoff)] {
            if let Some(v) = v
                && !(v >= 0.0 && v.is_finite())
            {
                return Err(ExtractError::Config(format!(
                    "{what} must be a non-negative number of seconds, not {v}"
                )));
            }
        }
        match &self.paginate {
            Paginate::Page {
                size_param, size, ..
            } if size_param.is_some() != size.is_some() => {
                return Err(ExtractError::Config(
                    "page pagination: give both size_param and size, or neither".into(),
                ));
            }
            Paginate::Offset { limit: 0, .. } => {
                return Err(ExtractError::Config(
                    "offset pagination: limit must be at least 1".into(),
                ));
            }
            _ => {}
        }
        Ok(ResolvedSource {
            url,
            params,
            headers,
            config: self.clone(),
            secrets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> Option<String> {
        (var == "TOKEN").then(|| "s3cr3t/+".to_string())
    }

    #[test]
    fn interpolation_records_secrets() {
        let mut secrets = Secrets::default();
        let v =
            interpolate("Bearer ${TOKEN} $${TOKEN} $5", &env, &mut secrets).expect("test input");
        assert_eq!(v, "Bearer s3cr3t/+ ${TOKEN} $5");
        assert_eq!(
            secrets.redact("url?t=s3cr3t%2F%2B and s3cr3t/+"),
            "url?t=*** and ***"
        );
        assert!(interpolate("${NOPE}", &env, &mut secrets).is_err());
        assert!(interpolate("${TOKEN", &env, &mut secrets).is_err());
    }

    #[test]
    fn parses_sources() {
        let s = parse_sources(
            r#"
            project = "p"
            [sources.items]
            url = "http://127.0.0.1:1/items"
            records = "data"
            paginate = { type = "cursor", path = "next" }
            "#,
        )
        .expect("test input");
        assert_eq!(
            s["items"].paginate,
            Paginate::Cursor {
                param: "cursor".into(),
                path: "next".into()
            }
        );
        assert!(parse_sources("[sources.\"../x\"]\nurl = \"http://a\"").is_err());
        assert!(parse_sources("[sources.a]\nurl = \"http://a\"\nbogus = 1").is_err());
    }
}
