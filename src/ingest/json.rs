//! JSON rows: schema detection and decoding of newline-delimited chunks and whole documents
//! (a JSON array of rows, or a response envelope holding one at `json_path`).
//!
//! Detection reads each row straight from its text with [`infer::Scanned`] (no
//! `serde_json::Value`), keeping the order in which fields first appear. Decoding feeds a whole
//! chunk to arrow-json's decoder with the target schema; only when that fails (a malformed
//! row, a wrong type, a key that needs its name sanitized) is the chunk decoded row by row, so that
//! each bad record is found and kept with its line and reason.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Fields, SchemaRef};
use datafusion::arrow::json::ReaderBuilder;
use serde_json::{Map, Value};

use super::infer::{self, Path, Scanned, Ty};
use super::source::{self, Chunk, Record};
use super::{BATCH_ROWS, BadRecord, DecodeCtx, Emit, LoadError};

/// What detection found in part of the data.
#[derive(Debug)]
pub struct Scan {
    /// Always a [`Ty::Struct`].
    pub ty: Ty,
    pub rows: u64,
    /// The first row whose types conflict with the rows before it (it is rejected when the rows
    /// are decoded).
    pub conflict: Option<LoadError>,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            ty: Ty::Struct(Vec::new()),
            rows: 0,
            conflict: None,
        }
    }
}

impl Scan {
    fn add(&mut self, row: Result<Ty, String>, file: &str, line: u64) {
        let conflict = match row {
            Ok(t) => match self.ty.conflict(&t, &Path::root("")) {
                None => {
                    self.ty.absorb(t);
                    None
                }
                Some(reason) => Some(reason),
            },
            Err(reason) => Some(reason),
        };
        if let Some(reason) = conflict {
            self.conflict.get_or_insert(LoadError {
                file: file.to_string(),
                line: Some(line),
                column: None,
                reason,
            });
        }
    }

    /// Folds a later scan in. When the two conflict, `redo` rescans the later part row by row
    /// (so only the conflicting rows are left out).
    pub fn merge(&mut self, later: Scan, redo: impl FnOnce(&mut Scan)) {
        match self.ty.conflict(&later.ty, &Path::root("")) {
            None => {
                self.ty.absorb(later.ty);
                self.rows += later.rows;
                if self.conflict.is_none() {
                    self.conflict = later.conflict;
                }
            }
            Some(_) => redo(self),
        }
    }
}

/// Detects the types of the rows of a newline-delimited chunk into `acc`. Lines that are not JSON
/// objects are skipped here and rejected when decoding.
pub fn scan_lines(acc: &mut Scan, file: &str, chunk: &Chunk) {
    for (line, text) in source::lines(chunk) {
        match serde_json::from_slice::<Scanned>(text) {
            Ok(Scanned(Ok(t @ Ty::Struct(_)))) => {
                acc.rows += 1;
                acc.add(Ok(t), file, line);
            }
            Ok(Scanned(Err(reason))) => {
                acc.rows += 1;
                acc.add(Err(reason), file, line);
            }
            _ => {}
        }
    }
}

/// Decodes the rows of a newline-delimited chunk.
pub fn decode_lines(
    ctx: &DecodeCtx,
    file: &str,
    chunk: &Chunk,
    emit: &mut Emit<'_>,
) -> Result<(), LoadError> {
    if ctx.direct
        && let Some((batches, lines)) =
            super::direct::decode(&ctx.schema, ctx.check.as_ref(), chunk, ctx.source_columns)
    {
        let mut at = 0;
        for b in batches {
            let n = b.num_rows();
            emit(ctx.finish(b, file, lines.get(at..at + n).unwrap_or_default())?)?;
            at += n;
        }
        return Ok(());
    }
    if let Some(ty) = &ctx.check
        && !super::fits::chunk_fits(ty, chunk)
    {
        // Scan the chunk exactly, as detection would have.
        let mut scan = Scan {
            ty: ty.clone(),
            ..Scan::default()
        };
        scan_lines(&mut scan, file, chunk);
        if scan.ty != *ty {
            ctx.drift.store(true, std::sync::atomic::Ordering::Relaxed);
            return Err(LoadError::at(
                file,
                "the schema detected from a sample changes",
            ));
        }
    }
    if let Some(batches) = fast_lines(&ctx.schema, chunk) {
        let mut lines: Vec<u64> = Vec::new();
        if ctx.source_columns {
            lines = source::lines(chunk).map(|(n, _)| n).collect();
        }
        let mut at = 0;
        for b in batches {
            let n = b.num_rows();
            let batch = ctx.finish(b, file, lines.get(at..at + n).unwrap_or_default())?;
            at += n;
            emit(batch)?;
        }
        return Ok(());
    }
    let mut rows: Vec<Value> = Vec::with_capacity(BATCH_ROWS);
    let mut lines: Vec<u64> = Vec::with_capacity(BATCH_ROWS);
    for (line, text) in source::lines(chunk) {
        let rec = match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(m)) => Record::Row(m),
            Ok(_) => Record::Bad {
                reason: "row is not a JSON object".into(),
                text: String::from_utf8_lossy(text).into_owned(),
            },
            Err(e) => Record::Bad {
                reason: format!("malformed JSON at column {}: {e}", e.column()),
                text: String::from_utf8_lossy(text).into_owned(),
            },
        };
        push_record(ctx, file, line, rec, &mut rows, &mut lines)?;
        if rows.len() >= BATCH_ROWS {
            flush(ctx, file, &mut rows, &mut lines, emit)?;
        }
    }
    flush(ctx, file, &mut rows, &mut lines, emit)
}

/// The whole chunk through arrow-json in one go, or `None` when any row needs a closer look.
fn fast_lines(schema: &SchemaRef, chunk: &Chunk) -> Option<Vec<RecordBatch>> {
    let mut d = ReaderBuilder::new(schema.clone())
        .with_batch_size(BATCH_ROWS)
        .with_strict_mode(true)
        .build_decoder()
        .ok()?;
    let buf = &chunk.bytes;
    let mut pos = 0;
    let mut out = Vec::new();
    let mut rows = 0;
    loop {
        let n = d.decode(&buf[pos..]).ok()?;
        pos += n;
        if pos >= buf.len() {
            break;
        }
        match d.flush().ok()? {
            Some(b) => {
                rows += b.num_rows();
                out.push(b);
            }
            None if n == 0 => return None,
            None => {}
        }
    }
    if let Some(b) = d.flush().ok()? {
        rows += b.num_rows();
        out.push(b);
    }
    // One row per non-blank line, or the chunk is not plain NDJSON.
    (rows == source::lines(chunk).count()).then_some(out)
}

fn push_record(
    ctx: &DecodeCtx,
    file: &str,
    line: u64,
    rec: Record,
    rows: &mut Vec<Value>,
    lines: &mut Vec<u64>,
) -> Result<(), LoadError> {
    match rec {
        Record::Row(m) => match normalize(m, ctx.schema.fields()) {
            Ok(v) => {
                rows.push(Value::Object(v));
                lines.push(line);
                Ok(())
            }
            Err(reason) => ctx.bad.push(BadRecord {
                file: file.to_string(),
                line,
                reason,
                record: String::new(),
            }),
        },
        Record::Bad { reason, text } => ctx.bad.push(BadRecord {
            file: file.to_string(),
            line,
            reason,
            record: text,
        }),
    }
}

fn flush(
    ctx: &DecodeCtx,
    file: &str,
    rows: &mut Vec<Value>,
    lines: &mut Vec<u64>,
    emit: &mut Emit<'_>,
) -> Result<(), LoadError> {
    if rows.is_empty() {
        return Ok(());
    }
    let (batch, kept) = decode_rows(ctx, rows, lines, file)?;
    rows.clear();
    lines.clear();
    if batch.num_rows() > 0 {
        emit(ctx.finish(batch, file, &kept)?)?;
    }
    Ok(())
}

/// Decodes rows; when a chunk fails, decodes row by row and rejects the rows that fail.
fn decode_rows(
    ctx: &DecodeCtx,
    rows: &[Value],
    lines: &[u64],
    file: &str,
) -> Result<(RecordBatch, Vec<u64>), LoadError> {
    let schema = &ctx.schema;
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
            Err(e) => ctx.bad.push(BadRecord {
                file: file.to_string(),
                line: *line,
                reason: e.to_string(),
                record: row.to_string(),
            })?,
        }
    }
    let batch = datafusion::arrow::compute::concat_batches(schema, &parts)
        .map_err(|e| LoadError::at(file, e.to_string()))?;
    Ok((batch, kept))
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
