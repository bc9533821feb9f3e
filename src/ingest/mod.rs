//! Loading files into warehouse tables: `dap load`, SQL `LOAD DATA` and model sources all end in
//! [`load`].
//!
//! Guarantees:
//! - One load is one Delta commit: the table gains all accepted rows or nothing. A load with more
//!   bad records than `max_bad_records` commits nothing (delta-rs aborts the Parquet files it was
//!   writing; any file left over is unreferenced by the Delta log).
//! - Memory is bounded: files are read in newline-aligned chunks (NDJSON) or batch by batch (CSV,
//!   Parquet), decoded in parallel, and streamed into the Delta writer, which writes Parquet files
//!   as batches arrive. A JSON array or envelope file streams too: its rows are split off as the
//!   document is read ([`split`]).
//! - The schema is detected with BigQuery's autodetect rules ([`infer`], [`csv`]) as over every row
//!   of every file, in the order fields first appear, or given explicitly, or taken from Parquet
//!   files ([`parquet`]). For JSON it is detected from the first megabytes of each
//!   file and every later row is checked against it while loading ([`fits`]); a row that would
//!   change it (or a failed load) makes the load start over, uncommitted, with a full scan. Appending to an existing table may add new (NULLABLE)
//!   fields, top-level or nested; a change of an existing field's type fails and changes nothing.
//! - Bad records (malformed JSON or CSV, a row that is not an object, a value of the wrong type,
//!   the wrong number of CSV fields) are never dropped silently: each is written with its file,
//!   line and reason to `_quarantine/<dataset>/<table>/<load id>.ndjson` in the warehouse and
//!   counted in the summary.
//! - `.gz` and `.zst` files are decompressed on the fly.

pub mod csv;
mod direct;
mod evolve;
mod fits;
pub mod infer;
pub mod json;
pub mod parquet;
mod pipeline;
pub mod remote;
pub mod schema;
mod sink;
pub mod source;
mod split;
pub mod sql;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use object_store::{ObjectStoreExt, PutPayload};

use crate::engine::Engine;
use crate::error::{DapError, ObjectKind, Result};
use crate::lakehouse::Object;
use crate::lakehouse::names::{NameResolver, TableName};
use evolve::{evolve, evolve_schema};
use infer::Ty;
pub use pipeline::{BATCH_ROWS, BadLog, DecodeCtx, Emit};
use pipeline::{Unit, drive, units};

/// The format of the files to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFormat {
    /// JSON: newline-delimited (BigQuery's NEWLINE_DELIMITED_JSON), a JSON array of rows, or —
    /// with [`LoadRequest::json_path`] — a response envelope holding the rows array.
    #[default]
    Json,
    /// CSV with [`csv::CsvOptions`].
    Csv,
    /// Parquet: the schema comes from the files.
    Parquet,
    /// By file extension (`.json`/`.ndjson`/`.jsonl`, `.csv`/`.tsv`, `.parquet`, each optionally
    /// `.gz`/`.zst`).
    Auto,
}

impl SourceFormat {
    /// Parses a BigQuery `format` option (`JSON`, `NEWLINE_DELIMITED_JSON`, `CSV`, `PARQUET`) or
    /// `AUTO`.
    pub fn parse(s: &str) -> Result<SourceFormat> {
        match s.to_ascii_uppercase().as_str() {
            "JSON" | "NEWLINE_DELIMITED_JSON" | "NDJSON" => Ok(SourceFormat::Json),
            "CSV" => Ok(SourceFormat::Csv),
            "PARQUET" => Ok(SourceFormat::Parquet),
            "AUTO" => Ok(SourceFormat::Auto),
            other => Err(DapError::not_supported(format!("load format {other}"))),
        }
    }
}

/// Whether a load adds to the table or replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// `LOAD DATA INTO`: add rows (creating the table if needed); new fields are added.
    #[default]
    Append,
    /// `LOAD DATA OVERWRITE`: replace the rows and the schema.
    Replace,
}

/// What to load where.
#[derive(Debug, Clone, Default)]
pub struct LoadRequest {
    /// Destination, `dataset.table` (or `project.dataset.table`).
    pub table: String,
    /// Files, directories, globs or `file://` URLs.
    pub uris: Vec<String>,
    pub format: SourceFormat,
    pub write_mode: WriteMode,
    /// Dotted path of the rows array inside each file (a response envelope), e.g. `data`.
    pub json_path: Option<String>,
    /// Bad records tolerated before the load fails (BigQuery's `max_bad_records`, default 0).
    pub max_bad_records: u64,
    /// Add `_source_file`, `_source_line` and `_loaded_at` columns.
    pub source_columns: bool,
    /// An explicit schema instead of autodetection.
    pub schema: Option<SchemaRef>,
    /// Show a progress bar on stderr (callers pass true only on a TTY).
    pub progress: bool,
    /// Options for CSV files.
    pub csv: csv::CsvOptions,
}

impl LoadRequest {
    pub fn new(
        table: impl Into<String>,
        uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        LoadRequest {
            table: table.into(),
            uris: uris.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }
    pub fn format(mut self, format: SourceFormat) -> Self {
        self.format = format;
        self
    }
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = mode;
        self
    }
    pub fn json_path(mut self, path: impl Into<String>) -> Self {
        self.json_path = Some(path.into());
        self
    }
    pub fn max_bad_records(mut self, n: u64) -> Self {
        self.max_bad_records = n;
        self
    }
    pub fn source_columns(mut self, yes: bool) -> Self {
        self.source_columns = yes;
        self
    }
    pub fn schema(mut self, schema: SchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }
    pub fn csv(mut self, options: csv::CsvOptions) -> Self {
        self.csv = options;
        self
    }
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct LoadSummary {
    /// `dataset.table`.
    pub table: String,
    pub load_id: String,
    pub files: usize,
    pub rows: u64,
    /// Bytes read (after decompression).
    pub bytes: u64,
    pub rejected: u64,
    /// Warehouse-relative path of the quarantine file, when records were rejected.
    pub quarantine: Option<String>,
    pub seconds: f64,
    /// Delta version committed.
    pub version: Option<u64>,
}

impl std::fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mb = self.bytes as f64 / 1_000_000.0;
        write!(
            f,
            "Loaded {} rows into {} from {} file{} ({:.1} MB, {} rejected) in {:.2}s, {:.1} MB/s",
            self.rows,
            self.table,
            self.files,
            if self.files == 1 { "" } else { "s" },
            mb,
            self.rejected,
            self.seconds,
            if self.seconds > 0.0 {
                mb / self.seconds
            } else {
                0.0
            }
        )?;
        if let Some(q) = &self.quarantine {
            write!(f, "; rejected records in {q}")?;
        }
        Ok(())
    }
}

/// A load failure pinned to the input it is about.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}{}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default(), column.map(|c| format!(":{c}")).unwrap_or_default())]
pub struct LoadError {
    pub file: String,
    /// 1-based line (for a JSON array or envelope: the row's position in the array).
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub reason: String,
}

impl LoadError {
    pub fn at(file: &str, reason: impl Into<String>) -> Self {
        LoadError {
            file: file.to_string(),
            line: None,
            column: None,
            reason: reason.into(),
        }
    }
    fn io(file: &str, e: std::io::Error) -> Self {
        LoadError::at(file, e.to_string())
    }
}

/// A rejected record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRecord {
    file: String,
    line: u64,
    reason: String,
    record: String,
}

/// Loads files into a table in one commit. See the module documentation for the guarantees.
pub async fn load(engine: &Engine, req: &LoadRequest) -> Result<LoadSummary> {
    let started = Instant::now();
    let names = NameResolver::new(
        engine.project().to_string(),
        engine.default_dataset().map(str::to_string),
    );
    let parts: Vec<String> = req
        .table
        .split('.')
        .map(|s| s.trim_matches('`').to_string())
        .collect();
    let name = names.resolve_parts(&parts)?;
    let warehouse = engine.warehouse().clone();
    warehouse
        .require_dataset(&name.project, &name.dataset)
        .await?;
    let existing = match warehouse.lookup(&name).await? {
        Some(Object::Table(t)) => Some(*t),
        Some(other) => {
            return Err(DapError::WrongKind {
                name: name.qualified(),
                actual: other.kind(),
                expected: ObjectKind::Table,
            });
        }
        None => None,
    };
    let (remote_uris, local_uris): (Vec<String>, Vec<String>) =
        req.uris.iter().cloned().partition(|u| remote::is_remote(u));
    let mut files = if local_uris.is_empty() {
        Vec::new()
    } else {
        tokio::task::spawn_blocking(move || source::expand(&local_uris))
            .await
            .map_err(join_error)??
    };
    // Downloaded objects live (and are removed) with the spool, at the end of the load.
    let spool = if remote_uris.is_empty() {
        None
    } else {
        Some(remote::fetch(&remote_uris).await?)
    };
    files.extend(spool.iter().flat_map(|s| s.files().iter().cloned()));
    if files.is_empty() {
        return Err(LoadError::at(&req.uris.join(", "), "no files to load").into());
    }
    let format = file_format(req.format, &files)?;
    let mut csv_options = req.csv.clone();
    let tsv = |f: &PathBuf| {
        let name = f.to_string_lossy().to_ascii_lowercase();
        [".tsv", ".tsv.gz", ".tsv.zst"]
            .iter()
            .any(|e| name.ends_with(e))
    };
    if req.format == SourceFormat::Auto
        && csv_options.field_delimiter == b','
        && files.iter().all(tsv)
    {
        // AUTO on .tsv files: tab-separated unless a delimiter was given.
        csv_options.field_delimiter = b'\t';
    }
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let progress = req.progress.then(progress_bar);

    // Newline-delimited JSON without a schema: detect the schema from the first megabytes of
    // each file and check every later chunk against it while loading; a chunk that would change
    // it (or a failed load) makes the load start over with a full scan (pass 1 over every row),
    // before anything is committed.
    let mut sampled = req.schema.is_none() && format == SourceFormat::Json;
    let (written, ctx, failure, bytes, rows, is_new) = loop {
        // Pass 1: the schema (and, for CSV, the header rows of each file).
        let mut csv_skips = HashMap::new();
        let mut check = None;
        let detected_schema = async {
            let data_schema: SchemaRef = match &req.schema {
                Some(s) => s.clone(),
                None => {
                    let detected = match format {
                        SourceFormat::Parquet => Detected::Schema(detect_parquet(&files).await?),
                        SourceFormat::Csv => {
                            let (fields, skips) =
                                detect_csv(&files, &csv_options, parallel).await?;
                            csv_skips = skips;
                            Detected::Fields(fields)
                        }
                        _ => {
                            let (fields, cut) =
                                detect_json(&files, req.json_path.clone(), parallel, sampled)
                                    .await?;
                            if cut {
                                check = Some(Ty::Struct(fields.clone()));
                            }
                            Detected::Fields(fields)
                        }
                    };
                    let current = match (&existing, req.write_mode) {
                        (Some(table), WriteMode::Append) => Some(
                            table
                                .snapshot()
                                .map_err(|e| DapError::delta(name.to_string(), e))?
                                .snapshot()
                                .arrow_schema(),
                        ),
                        _ => None,
                    };
                    let schema = match (current, detected) {
                        (Some(current), Detected::Fields(fields)) => evolve(&current, &fields),
                        (Some(current), Detected::Schema(schema)) => {
                            evolve_schema(&current, &schema)
                        }
                        (None, Detected::Fields(fields)) => {
                            if fields.is_empty() {
                                return Err(LoadError::at(
                                    &req.uris.join(", "),
                                    "no rows to detect a schema from",
                                )
                                .into());
                            }
                            infer::schema_of(&fields)
                        }
                        (None, Detected::Schema(schema)) => Ok(schema),
                    };
                    Arc::new(schema_ok(schema, &name)?)
                }
            };
            Ok::<_, DapError>(data_schema)
        }
        .await;
        let data_schema = match detected_schema {
            Ok(s) => s,
            // A sample can hold too little to detect from (an empty object, a conflict, ...).
            Err(_) if sampled => {
                sampled = false;
                continue;
            }
            Err(e) => return Err(e),
        };
        crate::lakehouse::physical::check_storable(&data_schema)?;

        // Pass 2: decode, streaming into the Delta writer.
        let loaded_at = chrono::Utc::now().timestamp_micros();
        let out_schema = if req.source_columns {
            let mut fields: Vec<_> = data_schema.fields().iter().cloned().collect();
            fields.push(Arc::new(Field::new("_source_file", DataType::Utf8, true)));
            fields.push(Arc::new(Field::new("_source_line", DataType::Int64, true)));
            fields.push(Arc::new(Field::new(
                "_loaded_at",
                crate::dialect::types::timestamp_type(),
                true,
            )));
            Arc::new(Schema::new(fields))
        } else {
            data_schema.clone()
        };
        let ctx = Arc::new(DecodeCtx {
            format,
            schema: data_schema.clone(),
            out: out_schema.clone(),
            source_columns: req.source_columns,
            loaded_at,
            bad: BadLog::new(req.max_bad_records),
            json_path: req.json_path.clone(),
            csv: csv_options.clone(),
            csv_skips,
            direct: format == SourceFormat::Json && direct::supported(&data_schema),
            check,
            drift: Default::default(),
        });
        let bytes = Arc::new(AtomicU64::new(0));
        let rows = Arc::new(AtomicU64::new(0));
        let failure: Arc<parking_lot::Mutex<Option<LoadError>>> = Arc::default();
        let (tx, rx) =
            tokio::sync::mpsc::channel::<datafusion::error::Result<RecordBatch>>(parallel * 2);
        let driver = tokio::spawn(drive(
            units(
                files.clone(),
                format,
                req.json_path.clone(),
                bytes.clone(),
                None,
            ),
            ctx.clone(),
            tx,
            bytes.clone(),
            failure.clone(),
            progress.clone(),
            parallel,
        ));
        let counted = rows.clone();
        let stream =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
                .inspect(move |b| {
                    if let Ok(b) = b {
                        counted.fetch_add(b.num_rows() as u64, Ordering::Relaxed);
                    }
                });
        let plan = crate::lakehouse::repeated::fill_plan(sink::plan(
            out_schema.clone(),
            Box::pin(RecordBatchStreamAdapter::new(out_schema.clone(), stream)),
        )?)?;
        let (handle, is_new) = match existing.clone() {
            Some(t) => (t, false),
            None => (warehouse.delta_handle(&name)?, true),
        };
        let written = handle
            .write(Vec::<RecordBatch>::new())
            .with_input_plan(plan)
            .with_table_name(name.table.clone())
            .with_save_mode(match req.write_mode {
                WriteMode::Append => SaveMode::Append,
                WriteMode::Replace => SaveMode::Overwrite,
            })
            .with_schema_mode(match req.write_mode {
                WriteMode::Append => SchemaMode::Merge,
                WriteMode::Replace => SchemaMode::Overwrite,
            })
            .await;
        let _ = driver.await;
        if sampled {
            let bad = ctx.bad.records.lock().len() as u64;
            let redo = ctx.check.is_some()
                && (ctx.drift.load(Ordering::Relaxed)
                    || written.is_err()
                    || failure.lock().is_some()
                    || ctx.bad.over.load(Ordering::Relaxed)
                    || bad > req.max_bad_records);
            if redo {
                // The sample did not decide (or the load failed, which it may have for rows a
                // wider schema takes): nothing was committed; load again with a full scan.
                if is_new {
                    warehouse.discard_failed_create(&name);
                }
                sampled = false;
                continue;
            }
        }
        break (written, ctx, failure, bytes, rows, is_new);
    };
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let load_id = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut bad = std::mem::take(&mut *ctx.bad.records.lock());
    bad.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let quarantine = if bad.is_empty() {
        None
    } else {
        Some(write_quarantine(engine, &name, &load_id, &bad).await?)
    };
    let failure = failure.lock().take();
    let over = ctx.bad.over.load(Ordering::Relaxed) || bad.len() as u64 > req.max_bad_records;
    let table = match written {
        Ok(t) if !over && failure.is_none() => t,
        other => {
            if is_new {
                warehouse.discard_failed_create(&name);
            }
            if over && let Some(first) = bad.first() {
                return Err(LoadError {
                    file: first.file.clone(),
                    line: Some(first.line),
                    column: None,
                    reason: format!(
                        "{} ({} bad records, max_bad_records is {}; nothing was loaded; bad records are in {})",
                        first.reason,
                        bad.len(),
                        req.max_bad_records,
                        quarantine.as_deref().unwrap_or("")
                    ),
                }
                .into());
            }
            if let Some(f) = failure {
                return Err(f.into());
            }
            return Err(match other {
                Err(e) => DapError::delta(name.to_string(), e),
                Ok(_) => DapError::Invalid("load failed".into()),
            });
        }
    };
    Ok(LoadSummary {
        table: format!("{}.{}", name.dataset, name.table),
        load_id,
        files: files.len(),
        rows: rows.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        rejected: bad.len() as u64,
        quarantine,
        seconds: started.elapsed().as_secs_f64(),
        version: table.version(),
    })
}

/// The one format of all files (`AUTO` decides by file extension).
fn file_format(format: SourceFormat, files: &[PathBuf]) -> Result<SourceFormat, LoadError> {
    if format != SourceFormat::Auto {
        return Ok(format);
    }
    let mut found = None;
    for f in files {
        let name = remote::display_name(f);
        let this = source::format_of_name(f).ok_or_else(|| {
            LoadError::at(
                &name,
                "cannot tell the format from the file name; give the source format",
            )
        })?;
        match found {
            Some(prev) if prev != this => {
                return Err(LoadError::at(
                    &name,
                    format!("is {this:?} but earlier files are {prev:?}; load them separately"),
                ));
            }
            _ => found = Some(this),
        }
    }
    Ok(found.unwrap_or_default())
}

/// What pass 1 found.
enum Detected {
    /// Detected JSON / CSV fields in order.
    Fields(Vec<(String, Ty)>),
    /// A Parquet schema.
    Schema(Schema),
}

fn schema_ok(schema: std::result::Result<Schema, String>, name: &TableName) -> Result<Schema> {
    schema.map_err(|e| {
        DapError::Invalid(format!(
            "Cannot load into {}: {e}; nothing was loaded",
            name.qualified()
        ))
    })
}

/// Bytes of each newline-delimited JSON file that a sampled detection reads.
const SAMPLE_BYTES: u64 = 8 << 20;

/// The detected fields, and whether only a sample was read (`sampled` and some file was longer).
async fn detect_json(
    files: &[PathBuf],
    json_path: Option<String>,
    parallel: usize,
    sampled: bool,
) -> Result<(Vec<(String, Ty)>, bool)> {
    let sample = sampled.then(|| {
        Arc::new(pipeline::Sample {
            per_file: SAMPLE_BYTES,
            cut: Default::default(),
        })
    });
    let scans = units(
        files.to_vec(),
        SourceFormat::Json,
        json_path.clone(),
        Arc::default(),
        sample.clone(),
    )
    .map(|u| {
        tokio::task::spawn_blocking(move || -> std::result::Result<_, LoadError> {
            let u = u?;
            let mut scan = json::Scan::default();
            scan_unit(&mut scan, &u);
            Ok((u, scan))
        })
    })
    .buffered(parallel);
    futures::pin_mut!(scans);
    let mut acc = json::Scan::default();
    while let Some(r) = scans.next().await {
        let (u, scan) = r.map_err(join_error)??;
        acc.merge(scan, |acc| scan_unit(acc, &u));
    }
    if let Some(c) = acc.conflict
        && acc.rows <= 1
    {
        // Every record conflicts: nothing to detect a schema from.
        return Err(c.into());
    }
    let cut = sample.is_some_and(|s| s.cut.load(Ordering::Relaxed));
    match acc.ty {
        Ty::Struct(fields) => Ok((fields, cut)),
        _ => Ok((Vec::new(), cut)),
    }
}

fn scan_unit(acc: &mut json::Scan, u: &Unit) {
    if let Unit::Lines { file, chunk } = u {
        json::scan_lines(acc, file, chunk);
    }
}

async fn detect_csv(
    files: &[PathBuf],
    opts: &csv::CsvOptions,
    parallel: usize,
) -> Result<(Vec<(String, Ty)>, HashMap<PathBuf, u64>)> {
    let scans: Vec<_> = futures::stream::iter(files.to_vec())
        .map(|p| {
            let o = opts.clone();
            tokio::task::spawn_blocking(move || csv::scan(&p, &o).map(|s| (p, s)))
        })
        .buffered(parallel)
        .collect()
        .await;
    let mut columns = Vec::new();
    let mut skips = HashMap::new();
    for r in scans {
        let (p, s) = r.map_err(join_error)??;
        if columns.is_empty() {
            columns = s.columns;
        } else {
            csv::merge(&mut columns, s.columns);
        }
        skips.insert(p, s.skip);
    }
    Ok((columns, skips))
}

async fn detect_parquet(files: &[PathBuf]) -> Result<Schema> {
    let files = files.to_vec();
    tokio::task::spawn_blocking(move || -> Result<Schema> {
        let mut schema: Option<Schema> = None;
        for f in &files {
            let s = parquet::schema_of(f)?;
            match &schema {
                Some(first) if first != &s => {
                    return Err(LoadError::at(
                        &remote::display_name(f),
                        "its schema differs from the first Parquet file's; load them separately",
                    )
                    .into());
                }
                Some(_) => {}
                None => schema = Some(s),
            }
        }
        Ok(schema.unwrap_or_else(Schema::empty))
    })
    .await
    .map_err(join_error)?
}
fn join_error(e: tokio::task::JoinError) -> DapError {
    DapError::Invalid(format!("load task failed: {e}"))
}

impl From<LoadError> for DapError {
    fn from(e: LoadError) -> Self {
        DapError::Load(Box::new(e))
    }
}

fn progress_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} loading {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

async fn write_quarantine(
    engine: &Engine,
    name: &TableName,
    load_id: &str,
    bad: &[BadRecord],
) -> Result<String> {
    let mut body = Vec::new();
    for b in bad {
        serde_json::to_writer(&mut body, b).map_err(|source| DapError::Metadata {
            path: "quarantine".into(),
            source,
        })?;
        body.push(b'\n');
    }
    let rel = format!(
        "_quarantine/{}/{}/{load_id}.ndjson",
        name.dataset, name.table
    );
    let root = object_store::path::Path::from_url_path(engine.warehouse().root().path())
        .unwrap_or_default();
    let path = rel.split('/').fold(root, |p, part| p.join(part));
    engine
        .warehouse()
        .store()
        .put(&path, PutPayload::from(body))
        .await?;
    Ok(rel)
}
