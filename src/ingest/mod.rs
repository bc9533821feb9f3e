//! Loading files into warehouse tables: `dap load`, SQL `LOAD DATA` and model sources all end in
//! [`load`].
//!
//! Guarantees:
//! - One load is one Delta commit: the table gains all accepted rows or nothing. A load with more
//!   bad records than `max_bad_records` commits nothing.
//! - The schema is detected with BigQuery's autodetect rules ([`infer`]) over every row of every
//!   file (not a sample), or given explicitly. Appending to an existing table may add new
//!   (NULLABLE) fields, top-level or nested; a change of an existing field's type fails and
//!   changes nothing.
//! - Bad records (malformed JSON, a row that is not an object, a value of the wrong type under
//!   an explicit schema) are never dropped silently: each is written with its file, line and
//!   reason to `_quarantine/<dataset>/<table>/<load id>.ndjson` in the warehouse and counted in
//!   the summary.
//! - Files are parsed in parallel (one task per file); newline-delimited JSON is streamed.

pub mod infer;
pub mod source;
pub mod sql;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::arrow::json::ReaderBuilder;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use serde_json::{Map, Value};

use crate::engine::Engine;
use crate::error::{DapError, ObjectKind, Result};
use crate::lakehouse::Object;
use crate::lakehouse::names::{NameResolver, TableName};
use infer::Ty;
use source::Record;

/// The format of the files to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFormat {
    /// JSON: newline-delimited (BigQuery's NEWLINE_DELIMITED_JSON), a JSON array of rows, or —
    /// with [`LoadRequest::json_path`] — a response envelope holding the rows array.
    #[default]
    Json,
}

impl SourceFormat {
    /// Parses a BigQuery `format` option (`JSON`, `NEWLINE_DELIMITED_JSON`).
    pub fn parse(s: &str) -> Result<SourceFormat> {
        match s.to_ascii_uppercase().as_str() {
            "JSON" | "NEWLINE_DELIMITED_JSON" | "NDJSON" => Ok(SourceFormat::Json),
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
#[derive(Debug, thiserror::Error)]
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
struct BadRecord {
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
    let SourceFormat::Json = req.format;
    let files = tokio::task::spawn_blocking({
        let uris = req.uris.clone();
        move || source::expand(&uris)
    })
    .await
    .map_err(join_error)??;
    if files.is_empty() {
        return Err(LoadError::at(&req.uris.join(", "), "no files to load").into());
    }
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let progress = req.progress.then(|| progress_bar(&files));

    // Pass 1: the schema.
    let data_schema: SchemaRef = match &req.schema {
        Some(s) => s.clone(),
        None => {
            let scans: Vec<_> = futures::stream::iter(files.clone())
                .map(|path| {
                    let json_path = req.json_path.clone();
                    tokio::task::spawn_blocking(move || infer_file(&path, json_path.as_deref()))
                })
                .buffered(parallel)
                .collect()
                .await;
            let mut ty = Ty::Struct(Vec::new());
            for (scan, path) in scans.into_iter().zip(&files) {
                let file_ty = scan.map_err(join_error)??;
                ty = ty
                    .merge(file_ty, "")
                    .map_err(|e| LoadError::at(&path.to_string_lossy(), e))?;
            }
            let Ty::Struct(fields) = &ty else {
                unreachable!("rows are objects")
            };
            let detected =
                infer::schema_of(fields).map_err(|e| LoadError::at(&req.uris.join(", "), e))?;
            match (&existing, req.write_mode) {
                (Some(table), WriteMode::Append) => {
                    let current = table
                        .snapshot()
                        .map_err(|e| DapError::delta(name.to_string(), e))?
                        .snapshot()
                        .arrow_schema();
                    Arc::new(evolve(&current, fields).map_err(|e| {
                        DapError::Invalid(format!(
                            "Cannot load into {}: {e}; nothing was loaded",
                            name.qualified()
                        ))
                    })?)
                }
                _ => {
                    if detected.fields().is_empty() {
                        return Err(LoadError::at(
                            &req.uris.join(", "),
                            "no rows to detect a schema from",
                        )
                        .into());
                    }
                    Arc::new(detected)
                }
            }
        }
    };
    crate::lakehouse::physical::check_storable(&data_schema)?;

    // Pass 2: decode.
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
    let decoded: Vec<_> = futures::stream::iter(files.clone())
        .map(|path| {
            let json_path = req.json_path.clone();
            let schema = data_schema.clone();
            let out = out_schema.clone();
            let source_columns = req.source_columns;
            let bar = progress.clone();
            tokio::task::spawn_blocking(move || {
                let r = decode_file(
                    &path,
                    json_path.as_deref(),
                    &schema,
                    &out,
                    source_columns,
                    loaded_at,
                );
                if let Some(bar) = bar {
                    bar.inc(1);
                }
                r
            })
        })
        .buffered(parallel)
        .collect()
        .await;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let mut batches = Vec::new();
    let mut bad = Vec::new();
    let mut bytes = 0;
    for d in decoded {
        let d = d.map_err(join_error)??;
        batches.extend(d.batches);
        bad.extend(d.bad);
        bytes += d.bytes;
    }
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let load_id = format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let quarantine = if bad.is_empty() {
        None
    } else {
        Some(write_quarantine(engine, &name, &load_id, &bad).await?)
    };
    if bad.len() as u64 > req.max_bad_records {
        let first = &bad[0];
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
    if batches.is_empty() {
        batches.push(RecordBatch::new_empty(out_schema.clone()));
    }
    let (handle, is_new) = match existing {
        Some(t) => (t, false),
        None => (warehouse.delta_handle(&name)?, true),
    };
    let mut builder = handle
        .write(batches)
        .with_table_name(name.table.clone())
        .with_save_mode(match req.write_mode {
            WriteMode::Append => SaveMode::Append,
            WriteMode::Replace => SaveMode::Overwrite,
        });
    builder = builder.with_schema_mode(match req.write_mode {
        WriteMode::Append => SchemaMode::Merge,
        WriteMode::Replace => SchemaMode::Overwrite,
    });
    let table = match builder.await {
        Ok(t) => t,
        Err(e) => {
            if is_new {
                warehouse.discard_failed_create(&name);
            }
            return Err(DapError::delta(name.to_string(), e));
        }
    };
    Ok(LoadSummary {
        table: format!("{}.{}", name.dataset, name.table),
        load_id,
        files: files.len(),
        rows,
        bytes,
        rejected: bad.len() as u64,
        quarantine,
        seconds: started.elapsed().as_secs_f64(),
        version: table.version(),
    })
}

fn join_error(e: tokio::task::JoinError) -> DapError {
    DapError::Invalid(format!("load task failed: {e}"))
}

impl From<LoadError> for DapError {
    fn from(e: LoadError) -> Self {
        DapError::Load(Box::new(e))
    }
}

fn progress_bar(files: &[PathBuf]) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} loading {pos}/{len} files [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

/// Detects the schema of one file.
fn infer_file(path: &Path, json_path: Option<&str>) -> Result<Ty, LoadError> {
    let file = path.to_string_lossy().to_string();
    let mut ty = Ty::Struct(Vec::new());
    // A record whose types conflict with the records before it does not shape the schema: it is
    // rejected when the rows are decoded (a bad record, within `max_bad_records` or failing the
    // load with its file, line and reason), as BigQuery's autodetect does with rows that do not
    // match the detected schema.
    let mut first_conflict: Option<LoadError> = None;
    let mut rows = 0usize;
    source::for_each_record(path, json_path, |line, rec| {
        if let Record::Row(m) = rec {
            rows += 1;
            let row = Ty::of(&Value::Object(m), "").and_then(|t| ty.clone().merge(t, ""));
            match row {
                Ok(t) => ty = t,
                Err(reason) => {
                    first_conflict.get_or_insert(LoadError {
                        file: file.clone(),
                        line: Some(line),
                        column: None,
                        reason,
                    });
                }
            }
        }
        Ok(())
    })?;
    match first_conflict {
        // Every record conflicts: nothing to detect a schema from.
        Some(e) if rows <= 1 => Err(e),
        _ => Ok(ty),
    }
}

/// The table schema after appending rows of the detected `fields` to a table with `current`.
fn evolve(current: &Schema, fields: &[(String, Ty)]) -> Result<Schema, String> {
    let merged = evolve_fields(current.fields(), fields, "")?;
    Ok(Schema::new(merged))
}

fn evolve_fields(
    current: &Fields,
    incoming: &[(String, Ty)],
    path: &str,
) -> Result<Fields, String> {
    let mut out: Vec<Field> = current.iter().map(|f| f.as_ref().clone()).collect();
    for (name, ty) in incoming {
        let child = format!("{path}{}{name}", if path.is_empty() { "" } else { "." });
        match out.iter_mut().find(|f| f.name().eq_ignore_ascii_case(name)) {
            Some(f) => {
                let dt = evolve_type(f.data_type(), ty, &child)?;
                *f = f.clone().with_data_type(dt);
            }
            None => out.push(Field::new(
                name,
                ty.data_type()
                    .map_err(|e| format!("field `{child}`: {e}"))?,
                true,
            )),
        }
    }
    Ok(out.into())
}

fn evolve_type(current: &DataType, ty: &Ty, path: &str) -> Result<DataType, String> {
    let ok = match (current, ty) {
        (_, Ty::Null) => true,
        (DataType::Int64 | DataType::Float64 | DataType::Decimal128(..), Ty::Int) => true,
        (DataType::Float64, Ty::Float) => true,
        (DataType::Boolean, Ty::Bool) => true,
        (DataType::Date32, Ty::Date) => true,
        (
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View,
            Ty::String | Ty::Date | Ty::Timestamp,
        ) => true,
        (DataType::Timestamp(_, Some(_)), Ty::Timestamp) => true,
        (DataType::List(f) | DataType::LargeList(f), Ty::Array(t)) => {
            let inner = evolve_type(f.data_type(), t, path)?;
            let f = Arc::new(f.as_ref().clone().with_data_type(inner));
            return Ok(match current {
                DataType::LargeList(_) => DataType::LargeList(f),
                _ => DataType::List(f),
            });
        }
        (DataType::Struct(fields), Ty::Struct(incoming)) => {
            return Ok(DataType::Struct(evolve_fields(fields, incoming, path)?));
        }
        _ => false,
    };
    if ok {
        Ok(current.clone())
    } else {
        Err(format!(
            "field `{path}` is {} in the table but {} in the data",
            crate::dialect::types::bq_type_name(&Field::new(path, current.clone(), true)),
            ty.data_type()
                .map(|dt| crate::dialect::types::bq_type_name(&Field::new(path, dt, true)))
                .unwrap_or_else(|e| e)
        ))
    }
}

struct Decoded {
    batches: Vec<RecordBatch>,
    bad: Vec<BadRecord>,
    bytes: u64,
}

const BATCH_ROWS: usize = 8192;

/// Decodes one file into batches of `out` (the data schema plus, optionally, source columns).
fn decode_file(
    path: &Path,
    json_path: Option<&str>,
    schema: &SchemaRef,
    out: &SchemaRef,
    source_columns: bool,
    loaded_at: i64,
) -> Result<Decoded, LoadError> {
    let file = path.to_string_lossy().to_string();
    let mut batches = Vec::new();
    let mut bad = Vec::new();
    let mut rows: Vec<Value> = Vec::with_capacity(BATCH_ROWS);
    let mut lines: Vec<u64> = Vec::with_capacity(BATCH_ROWS);
    let mut flush = |rows: &mut Vec<Value>,
                     lines: &mut Vec<u64>,
                     bad: &mut Vec<BadRecord>|
     -> Result<(), LoadError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (batch, kept) = decode_rows(schema, rows, lines, &file, bad)?;
        if batch.num_rows() > 0 {
            batches.push(if source_columns {
                with_source_columns(batch, out, &file, &kept, loaded_at)?
            } else {
                batch
            });
        }
        rows.clear();
        lines.clear();
        Ok(())
    };
    let bytes = source::for_each_record(path, json_path, |line, rec| {
        match rec {
            Record::Row(m) => match normalize(m, schema.fields()) {
                Ok(v) => {
                    rows.push(Value::Object(v));
                    lines.push(line);
                }
                Err(reason) => bad.push(BadRecord {
                    file: file.clone(),
                    line,
                    reason,
                    record: String::new(),
                }),
            },
            Record::Bad { reason, text } => bad.push(BadRecord {
                file: file.clone(),
                line,
                reason,
                record: text,
            }),
        }
        if rows.len() >= BATCH_ROWS {
            flush(&mut rows, &mut lines, &mut bad)?;
        }
        Ok(())
    })?;
    flush(&mut rows, &mut lines, &mut bad)?;
    Ok(Decoded {
        batches,
        bad,
        bytes,
    })
}

/// Decodes rows; when a chunk fails, decodes row by row and rejects the rows that fail.
fn decode_rows(
    schema: &SchemaRef,
    rows: &[Value],
    lines: &[u64],
    file: &str,
    bad: &mut Vec<BadRecord>,
) -> Result<(RecordBatch, Vec<u64>), LoadError> {
    let decoder = || {
        ReaderBuilder::new(schema.clone())
            .with_batch_size(BATCH_ROWS)
            .build_decoder()
            .map_err(|e| LoadError::at(file, e.to_string()))
    };
    let mut d = decoder()?;
    let whole = d.serialize(rows).and_then(|()| d.flush());
    if let Ok(batch) = whole {
        return Ok((
            batch.unwrap_or_else(|| RecordBatch::new_empty(schema.clone())),
            lines.to_vec(),
        ));
    }
    let mut parts = Vec::new();
    let mut kept = Vec::new();
    for (row, line) in rows.iter().zip(lines) {
        let mut d = decoder()?;
        match d
            .serialize(std::slice::from_ref(row))
            .and_then(|()| d.flush())
        {
            Ok(Some(b)) => {
                parts.push(b);
                kept.push(*line);
            }
            Ok(None) => {}
            Err(e) => bad.push(BadRecord {
                file: file.to_string(),
                line: *line,
                reason: e.to_string(),
                record: row.to_string(),
            }),
        }
    }
    let batch = datafusion::arrow::compute::concat_batches(schema, &parts)
        .map_err(|e| LoadError::at(file, e.to_string()))?;
    Ok((batch, kept))
}

fn with_source_columns(
    batch: RecordBatch,
    out: &SchemaRef,
    file: &str,
    lines: &[u64],
    loaded_at: i64,
) -> Result<RecordBatch, LoadError> {
    let n = batch.num_rows();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    cols.push(Arc::new(StringArray::from(vec![file; n])));
    cols.push(Arc::new(Int64Array::from_iter_values(
        lines.iter().map(|l| *l as i64),
    )));
    cols.push(Arc::new(
        TimestampMicrosecondArray::from(vec![loaded_at; n])
            .with_timezone(crate::dialect::types::UTC),
    ));
    RecordBatch::try_new(out.clone(), cols).map_err(|e| LoadError::at(file, e.to_string()))
}

/// Renames a row's keys to the schema's field names (sanitized, case-insensitive match), at every
/// level. A key with no field is an error (the record is rejected).
fn normalize(row: Map<String, Value>, fields: &Fields) -> Result<Map<String, Value>, String> {
    let mut out = Map::with_capacity(row.len());
    for (key, value) in row {
        let field = fields
            .iter()
            .find(|f| f.name() == &key)
            .or_else(|| {
                let s = infer::sanitize(&key);
                fields.iter().find(|f| f.name().eq_ignore_ascii_case(&s))
            })
            .ok_or_else(|| format!("no such field: {key}"))?;
        let value = normalize_value(value, field.data_type())?;
        out.insert(field.name().clone(), value);
    }
    Ok(out)
}

fn normalize_value(value: Value, dt: &DataType) -> Result<Value, String> {
    Ok(match (value, dt) {
        (Value::Object(m), DataType::Struct(fields)) => Value::Object(normalize(m, fields)?),
        (Value::Array(items), DataType::List(f) | DataType::LargeList(f))
            if matches!(f.data_type(), DataType::Struct(_)) =>
        {
            Value::Array(
                items
                    .into_iter()
                    .map(|v| normalize_value(v, f.data_type()))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::String(s), DataType::Timestamp(..)) => {
            // Parse exactly as detection did (a zone-less date-time is UTC).
            match infer::parse_timestamp_micros(&s) {
                Some(_) => Value::String(s),
                None => return Err(format!("invalid TIMESTAMP value `{s}`")),
            }
        }
        (v, _) => v,
    })
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
