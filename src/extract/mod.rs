//! `dap extract`: pull JSON from an HTTP API page by page and land every response unchanged under
//! the warehouse ([`landing`]), then optionally load the pages into a table with
//! [`crate::ingest::load`] (ELT: the raw dump is kept; cleaning happens later in SQL).
//!
//! Guarantees:
//! - Responses are written byte for byte as received; the manifest records URL (secrets
//!   redacted), status, time, size, attempts and records of each request.
//! - Pagination follows the source's rule ([`source::Paginate`]) up to `max_pages`.
//! - 429, 5xx and connection errors are retried with backoff ([`http`]); a response that is still
//!   an error, or a 2xx that is not JSON (or lacks the records array), stops the run: it is kept
//!   in the landing zone and the manifest, reported, and nothing is loaded.
//! - A re-run with the same run id reuses the good pages already landed (no request, no
//!   duplicate) and continues from the first missing or bad one; a run already loaded into a
//!   table is not loaded twice.

pub mod http;
pub mod landing;
pub mod source;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::engine::Engine;
use crate::error::{DapError, Result};
use crate::ingest::{LoadRequest, LoadSummary, WriteMode};
use landing::{LoadRecord, Manifest, PageEntry, RunDir};
pub use source::{Paginate, SourceConfig, parse_sources};

/// Why an extraction could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("source configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Http(String),
    #[error("landing zone: {0}")]
    Landing(String),
}

impl From<ExtractError> for DapError {
    fn from(e: ExtractError) -> Self {
        DapError::Extract(Box::new(e))
    }
}

/// What to extract.
#[derive(Clone)]
pub struct ExtractRequest {
    /// Source name: the `[sources.NAME]` key, and the landing folder.
    pub source: String,
    pub config: SourceConfig,
    /// Run id (a folder name); default: the UTC start time, `20241231T235959Z`.
    pub run_id: Option<String>,
    /// Load the pages into this table after a complete run.
    pub load: Option<String>,
    /// Replace the table instead of appending.
    pub replace: bool,
    /// Told about each page and each retry.
    pub notify: std::sync::Arc<dyn Fn(Event) + Send + Sync>,
}

/// Progress of a run, for the caller to show.
#[derive(Debug, Clone)]
pub enum Event {
    Page {
        page: u64,
        records: u64,
        bytes: u64,
        reused: bool,
    },
    /// A request failed and will be retried (the message says why and when).
    Retry(String),
}

/// What an extraction did.
#[derive(Debug, Clone)]
pub struct ExtractSummary {
    pub source: String,
    pub run_id: String,
    /// Warehouse-relative run folder.
    pub landing: String,
    /// Good pages in the run (fetched now or reused).
    pub pages: u64,
    /// Pages reused from an earlier attempt with the same run id.
    pub reused: u64,
    pub records: u64,
    pub bytes: u64,
    /// Requests made, retries included.
    pub requests: u64,
    pub seconds: f64,
    /// `complete` or `capped`.
    pub status: String,
    pub load: Option<LoadSummary>,
    /// Set when the run had been loaded into the table before (nothing loaded now).
    pub already_loaded: Option<String>,
}

impl std::fmt::Display for ExtractSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Extracted {} page{} ({} records, {:.1} MB, {} request{}{}) from {} in {:.2}s into {}",
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            self.records,
            self.bytes as f64 / 1_000_000.0,
            self.requests,
            if self.requests == 1 { "" } else { "s" },
            if self.reused > 0 {
                format!(", {} reused", self.reused)
            } else {
                String::new()
            },
            self.source,
            self.seconds,
            self.landing,
        )?;
        if self.status == "capped" {
            write!(f, " (stopped at max_pages)")?;
        }
        Ok(())
    }
}

/// A run that stopped at a bad page: everything up to it is landed.
#[derive(Debug, thiserror::Error)]
#[error(
    "{source_name}: page {page} ({url}): {reason}; {good} good page{s} landed in {landing}; re-run with --run-id {run_id} to resume",
    s = if *good == 1 { "" } else { "s" }
)]
pub struct IncompleteRun {
    pub source_name: String,
    pub run_id: String,
    pub landing: String,
    pub page: u64,
    pub url: String,
    pub reason: String,
    pub good: u64,
}

/// Runs an extraction (see the module documentation).
pub async fn extract(
    engine: &Engine,
    req: &ExtractRequest,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExtractSummary> {
    let started = Instant::now();
    source::validate_name("source", &req.source)?;
    let run_id = match &req.run_id {
        Some(id) => {
            source::validate_name("run id", id)?;
            id.clone()
        }
        None => chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string(),
    };
    let resolved = req.config.resolve(env)?;
    let cfg = &resolved.config;
    if req.load.is_some() && engine.warehouse().is_transient() {
        return Err(DapError::not_supported(
            "extract --load into a transient in-memory warehouse (use --warehouse DIR)",
        ));
    }
    let warehouse = engine.warehouse();
    let dir = RunDir::new(warehouse.store(), warehouse.root(), &req.source, &run_id);
    let previous = dir.read_manifest().await?;
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut manifest = Manifest {
        source: req.source.clone(),
        run_id: run_id.clone(),
        started: previous
            .as_ref()
            .map(|m| m.started.clone())
            .unwrap_or_else(now),
        finished: None,
        status: "running".into(),
        pages: Vec::new(),
        loads: previous
            .as_ref()
            .map(|m| m.loads.clone())
            .unwrap_or_default(),
    };
    let old_pages = previous.map(|m| m.pages).unwrap_or_default();

    let mut fetcher = http::Fetcher::new(
        &resolved.headers,
        Duration::from_secs_f64(cfg.timeout.unwrap_or(30.0)),
        cfg.rate_limit,
        cfg.retries.unwrap_or(5),
        Duration::from_secs_f64(cfg.backoff.unwrap_or(1.0)),
        resolved.secrets.clone(),
    )?;
    let notify = req.notify.clone();
    fetcher.on_retry = Box::new(move |m| notify(Event::Retry(m.to_string())));

    let mut pager = Pager::new(&resolved);
    let mut next = Some(pager.first_url());
    let mut seen_urls = std::collections::HashSet::new();
    let (mut pages, mut reused, mut records, mut bytes, mut requests) = (0u64, 0, 0, 0, 0);
    let mut status = "complete";
    while let Some(url) = next.take() {
        if cfg.max_pages.is_some_and(|m| pages >= m) {
            status = "capped";
            break;
        }
        if !seen_urls.insert(url.to_string()) {
            manifest.status = "failed".into();
            dir.write_manifest(&manifest).await?;
            return Err(incomplete(
                req,
                &run_id,
                &dir,
                pages + 1,
                &resolved.secrets.redact(url.as_str()),
                "the API sent back to a page already fetched (a pagination loop)",
                pages,
            ));
        }
        let page = pages + 1;
        let shown = resolved.secrets.redact(url.as_str());
        // A good page of an earlier attempt at this run, for the same request, is reused.
        let old = old_pages
            .iter()
            .find(|p| p.page == page && p.url == shown && p.is_good());
        let landed = match old {
            Some(entry) => dir.read(&entry.file).await?.map(|b| (entry.clone(), b)),
            None => None,
        };
        let was_reused = landed.is_some();
        let (entry, body) = match landed {
            Some(x) => {
                reused += 1;
                x
            }
            None => {
                let resp = fetcher.get(&url).await?;
                requests += u64::from(resp.attempts);
                let (parsed_records, error) = judge(&resp, cfg.records.as_deref());
                let good = error.is_none();
                let file = RunDir::page_file(page, good);
                dir.remove(&RunDir::page_file(page, !good)).await?;
                dir.write(&file, &resp.body).await?;
                let entry = PageEntry {
                    page,
                    file,
                    url: shown.clone(),
                    status: resp.status,
                    content_type: resp.content_type.clone(),
                    fetched_at: now(),
                    bytes: resp.body.len() as u64,
                    attempts: resp.attempts,
                    records: parsed_records,
                    link_next: resp.link_next.clone(),
                    error,
                };
                (entry, resp.body)
            }
        };
        manifest.pages.push(entry.clone());
        if let Some(reason) = &entry.error {
            manifest.status = "failed".into();
            manifest.finished = Some(now());
            dir.write_manifest(&manifest).await?;
            return Err(incomplete(req, &run_id, &dir, page, &shown, reason, pages));
        }
        dir.write_manifest(&manifest).await?;
        pages += 1;
        records += entry.records.unwrap_or(0);
        bytes += entry.bytes;
        (req.notify)(Event::Page {
            page,
            records: entry.records.unwrap_or(0),
            bytes: entry.bytes,
            reused: was_reused,
        });
        let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        next = pager
            .next(&url, &doc, &entry)
            .map_err(|reason| incomplete(req, &run_id, &dir, page, &shown, &reason, pages))?;
    }
    manifest.status = status.into();
    manifest.finished = Some(now());
    dir.write_manifest(&manifest).await?;

    let mut summary = ExtractSummary {
        source: req.source.clone(),
        run_id: run_id.clone(),
        landing: dir.rel.clone(),
        pages,
        reused,
        records,
        bytes,
        requests,
        seconds: 0.0,
        status: status.into(),
        load: None,
        already_loaded: None,
    };
    if let Some(table) = &req.load {
        if let Some(done) = manifest.loads.iter().find(|l| &l.table == table) {
            summary.already_loaded = Some(format!(
                "run {run_id} was loaded into {table} at {} ({} rows); not loading it again",
                done.loaded_at, done.rows
            ));
        } else if pages > 0 {
            // The landed pages, as paths (local warehouse) or object URLs (s3://, gs://).
            let files: Vec<String> = match warehouse.local_dir() {
                Some(local) => {
                    let run_path = local.join(&dir.rel);
                    manifest
                        .pages
                        .iter()
                        .map(|p| run_path.join(&p.file).display().to_string())
                        .collect()
                }
                None => manifest
                    .pages
                    .iter()
                    .map(|p| format!("{}{}/{}", warehouse.root(), dir.rel, p.file))
                    .collect(),
            };
            let mut load = LoadRequest::new(table.clone(), files).write_mode(if req.replace {
                WriteMode::Replace
            } else {
                WriteMode::Append
            });
            load.json_path = cfg.records.clone();
            let loaded = crate::ingest::load(engine, &load).await?;
            manifest.loads.push(LoadRecord {
                table: table.clone(),
                rows: loaded.rows,
                version: loaded.version,
                loaded_at: now(),
            });
            dir.write_manifest(&manifest).await?;
            summary.load = Some(loaded);
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn incomplete(
    req: &ExtractRequest,
    run_id: &str,
    dir: &RunDir,
    page: u64,
    url: &str,
    reason: &str,
    good: u64,
) -> DapError {
    DapError::Incomplete(Box::new(IncompleteRun {
        source_name: req.source.clone(),
        run_id: run_id.to_string(),
        landing: dir.rel.clone(),
        page,
        url: url.to_string(),
        reason: reason.to_string(),
        good,
    }))
}

/// Whether a response is a usable page: its record count, or why not.
fn judge(resp: &http::Response, records_path: Option<&str>) -> (Option<u64>, Option<String>) {
    if !(200..300).contains(&resp.status) {
        let snippet: String = String::from_utf8_lossy(&resp.body)
            .chars()
            .take(200)
            .collect();
        return (
            None,
            Some(format!("HTTP {}: {}", resp.status, snippet.trim())),
        );
    }
    let doc: Value = match serde_json::from_slice(&resp.body) {
        Ok(v) => v,
        Err(e) => return (None, Some(format!("not JSON: {e}"))),
    };
    match count_records(&doc, records_path) {
        Ok(n) => (Some(n), None),
        Err(e) => (None, Some(e)),
    }
}

fn count_records(doc: &Value, records_path: Option<&str>) -> Result<u64, String> {
    match records_path {
        Some(path) => match lookup(doc, path) {
            Some(Value::Array(a)) => Ok(a.len() as u64),
            Some(Value::Null) => Ok(0),
            Some(other) => Err(format!(
                "`{path}` is {}, not an array of records",
                json_kind(other)
            )),
            None => Err(format!("no `{path}` in the response")),
        },
        None => Ok(match doc {
            Value::Array(a) => a.len() as u64,
            _ => 1,
        }),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value at a dotted path (`meta.next`, `links.0.href`).
pub fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(doc, |v, key| match v {
            Value::Object(m) => m.get(key),
            Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
}

/// Computes each next request from the previous page.
struct Pager {
    base: url::Url,
    paginate: Paginate,
    /// Page number or offset of the current request.
    position: u64,
    last_cursor: Option<String>,
}

impl Pager {
    fn new(src: &source::ResolvedSource) -> Pager {
        let mut base = src.url.clone();
        if !src.params.is_empty() {
            base.query_pairs_mut().extend_pairs(&src.params);
        }
        let position = match &src.config.paginate {
            Paginate::Page { start, .. } => *start,
            _ => 0,
        };
        Pager {
            base,
            paginate: src.config.paginate.clone(),
            position,
            last_cursor: None,
        }
    }

    fn first_url(&self) -> url::Url {
        self.url_at(self.position)
    }

    fn url_at(&self, position: u64) -> url::Url {
        let mut u = self.base.clone();
        match &self.paginate {
            Paginate::Page {
                param,
                size_param,
                size,
                ..
            } => {
                set_param(&mut u, param, &position.to_string());
                if let (Some(p), Some(s)) = (size_param, size) {
                    set_param(&mut u, p, &s.to_string());
                }
            }
            Paginate::Offset {
                param,
                limit_param,
                limit,
            } => {
                set_param(&mut u, param, &position.to_string());
                set_param(&mut u, limit_param, &limit.to_string());
            }
            _ => {}
        }
        u
    }

    fn next(
        &mut self,
        current: &url::Url,
        doc: &Value,
        entry: &PageEntry,
    ) -> Result<Option<url::Url>, String> {
        let n = entry.records.unwrap_or(0);
        match self.paginate.clone() {
            Paginate::None => Ok(None),
            Paginate::Link => match &entry.link_next {
                Some(target) => current
                    .join(target)
                    .map(Some)
                    .map_err(|e| format!("bad Link rel=\"next\" URL `{target}`: {e}")),
                None => Ok(None),
            },
            Paginate::Page { size, .. } => {
                if n == 0 || size.is_some_and(|s| n < s) {
                    return Ok(None);
                }
                self.position += 1;
                Ok(Some(self.url_at(self.position)))
            }
            Paginate::Offset { limit, .. } => {
                if n < limit {
                    return Ok(None);
                }
                self.position += n;
                Ok(Some(self.url_at(self.position)))
            }
            Paginate::Cursor { param, path } => {
                let cursor = match lookup(doc, &path) {
                    None | Some(Value::Null) => return Ok(None),
                    Some(Value::String(s)) if s.is_empty() => return Ok(None),
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(x)) => x.to_string(),
                    Some(other) => {
                        return Err(format!(
                            "cursor `{path}` is {}, not a string or number",
                            json_kind(other)
                        ));
                    }
                };
                if self.last_cursor.as_deref() == Some(cursor.as_str()) {
                    return Err(format!(
                        "cursor `{path}` did not change ({cursor}): a pagination loop"
                    ));
                }
                self.last_cursor = Some(cursor.clone());
                let mut u = self.base.clone();
                set_param(&mut u, &param, &cursor);
                Ok(Some(u))
            }
            Paginate::NextUrl { path } => match lookup(doc, &path) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => current
                    .join(s)
                    .map(Some)
                    .map_err(|e| format!("next URL `{s}` at `{path}` is not a URL: {e}")),
                Some(other) => Err(format!(
                    "next URL `{path}` is {}, not a string",
                    json_kind(other)
                )),
            },
        }
    }
}

/// Sets a query parameter, replacing any earlier value of it.
fn set_param(u: &mut url::Url, key: &str, value: &str) {
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    u.set_query(None);
    let mut q = u.query_pairs_mut();
    q.extend_pairs(kept);
    q.append_pair(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_counts() {
        let doc: Value = serde_json::from_str(r#"{"data":[1,2],"meta":{"next":"c2"},"none":null}"#)
            .expect("test input");
        assert_eq!(lookup(&doc, "meta.next"), Some(&Value::from("c2")));
        assert_eq!(count_records(&doc, Some("data")), Ok(2));
        assert_eq!(count_records(&doc, Some("none")), Ok(0));
        assert!(count_records(&doc, Some("meta")).is_err());
        assert!(count_records(&doc, Some("missing")).is_err());
        assert_eq!(count_records(&Value::from(vec![1, 2, 3]), None), Ok(3));
    }

    #[test]
    fn params_replace() {
        let mut u = url::Url::parse("http://h/x?page=1&q=a").expect("test input");
        set_param(&mut u, "page", "2");
        assert_eq!(u.as_str(), "http://h/x?q=a&page=2");
    }
}
