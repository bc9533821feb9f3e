//! CSV files, with BigQuery's CSV load options and autodetect
//! (<https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-csv>,
//! <https://cloud.google.com/bigquery/docs/schema-detect#csv_header>).
//!
//! - Options: `skip_leading_rows`, `field_delimiter` (one byte, `\t` or `tab`), `quote` (empty
//!   disables quoting), `allow_quoted_newlines` (default false: a quoted field holding a newline is
//!   a bad record), `null_marker` (default: the empty field is NULL).
//! - Autodetect types per column: INT64, FLOAT64 (INT64 mixed with decimals), BOOL (`true` /
//!   `false`), DATE, TIMESTAMP, otherwise STRING; columns whose values disagree become STRING.
//! - Header: with `skip_leading_rows` = N the last skipped row names the columns; without it the
//!   first row is a header when all its values are strings and some column below it is not
//!   STRING. Names are sanitized; without a header columns are `string_field_0`, `string_field_1`...
//! - Decoding casts each column exactly (a value that does not parse as the column's type makes
//!   its row a bad record naming the column); the wrong number of fields is a bad record.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options, filter_record_batch};
use datafusion::arrow::datatypes::DataType;

use super::infer::{self, Path as FieldPath, Ty};
use super::source;
use super::{BATCH_ROWS, BadRecord, DecodeCtx, Emit, LoadError};
use crate::error::{DapError, Result as DapResult};

/// BigQuery's CSV load options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Rows skipped at the top of each file; `None` lets autodetect decide about a header.
    pub skip_leading_rows: Option<u64>,
    pub field_delimiter: u8,
    /// `None`: no quoting.
    pub quote: Option<u8>,
    pub allow_quoted_newlines: bool,
    pub null_marker: String,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            skip_leading_rows: None,
            field_delimiter: b',',
            quote: Some(b'"'),
            allow_quoted_newlines: false,
            null_marker: String::new(),
        }
    }
}

impl CsvOptions {
    /// Parses BigQuery's `field_delimiter` (`,`, `|`, `\t`, `tab`...).
    pub fn delimiter(s: &str) -> DapResult<u8> {
        match s {
            "\\t" | "\t" => Ok(b'\t'),
            s if s.eq_ignore_ascii_case("tab") => Ok(b'\t'),
            s if s.len() == 1 => Ok(s.as_bytes()[0]),
            other => Err(DapError::not_supported(format!(
                "CSV field_delimiter `{other}` (one single-byte character)"
            ))),
        }
    }
    /// Parses BigQuery's `quote` (one byte; empty means no quoting).
    pub fn quote_char(s: &str) -> DapResult<Option<u8>> {
        match s.len() {
            0 => Ok(None),
            1 => Ok(Some(s.as_bytes()[0])),
            _ => Err(DapError::not_supported(format!(
                "CSV quote `{s}` (one single-byte character)"
            ))),
        }
    }

    fn reader(
        &self,
        path: &Path,
    ) -> Result<csv::Reader<Box<dyn std::io::BufRead + Send>>, LoadError> {
        let mut b = csv::ReaderBuilder::new();
        b.has_headers(false)
            .flexible(true)
            .delimiter(self.field_delimiter);
        match self.quote {
            Some(q) => b.quote(q),
            None => b.quoting(false),
        };
        Ok(b.from_reader(source::open(path)?))
    }
}

/// What detection found in one CSV file.
#[derive(Debug, Clone)]
pub struct CsvScan {
    /// Column names and types.
    pub columns: Vec<(String, Ty)>,
    /// Rows to skip at the top of this file when decoding.
    pub skip: u64,
}

/// The type a CSV value looks like (`None` for NULL).
fn detect(v: &str, null_marker: &str) -> Ty {
    if v == null_marker {
        return Ty::Null;
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return if v.parse::<i64>().is_ok() {
            Ty::Int
        } else {
            Ty::Float
        };
    }
    let numeric = !digits.is_empty()
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if numeric && v.parse::<f64>().is_ok() {
        return Ty::Float;
    }
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        return Ty::Bool;
    }
    match infer::detect_string(v) {
        t @ (Ty::Date | Ty::Timestamp) => t,
        _ => Ty::String,
    }
}

/// Widens like JSON detection, except that a conflict makes the column STRING.
fn widen(a: &mut Ty, b: Ty) {
    if a.conflict(&b, &FieldPath::root("")).is_some() {
        *a = Ty::String;
    } else {
        a.absorb(b);
    }
}

/// Detects the columns of one file.
pub fn scan(path: &Path, opts: &CsvOptions) -> Result<CsvScan, LoadError> {
    let name = super::remote::display_name(path);
    let mut rdr = opts.reader(path)?;
    let mut record = csv::StringRecord::new();
    let mut first: Option<Vec<String>> = None;
    let mut header: Option<Vec<String>> = None;
    let mut types: Vec<Ty> = Vec::new();
    let mut index = 0u64;
    loop {
        let more = rdr
            .read_record(&mut record)
            .map_err(|e| csv_error(&name, e))?;
        if !more {
            break;
        }
        index += 1;
        match opts.skip_leading_rows {
            Some(n) if index <= n => {
                if index == n {
                    header = Some(record.iter().map(str::to_string).collect());
                }
                continue;
            }
            None if index == 1 => {
                first = Some(record.iter().map(str::to_string).collect());
                continue;
            }
            _ => {}
        }
        if types.len() < record.len() {
            types.resize(record.len(), Ty::Null);
        }
        for (t, v) in types.iter_mut().zip(record.iter()) {
            widen(t, detect(v, &opts.null_marker));
        }
    }
    let mut skip = opts.skip_leading_rows.unwrap_or(0);
    if let Some(first) = first {
        let first_types: Vec<Ty> = first.iter().map(|v| detect(v, &opts.null_marker)).collect();
        let all_strings = first_types.iter().all(|t| *t == Ty::String);
        let typed_below = types.iter().any(|t| !matches!(t, Ty::String | Ty::Null));
        if all_strings && typed_below {
            header = Some(first);
            skip = 1;
        } else {
            if types.len() < first_types.len() {
                types.resize(first_types.len(), Ty::Null);
            }
            for (t, f) in types.iter_mut().zip(first_types) {
                widen(t, f);
            }
        }
    }
    let width = types.len().max(header.as_ref().map_or(0, Vec::len));
    types.resize(width, Ty::Null);
    let columns = types
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let name = header
                .as_ref()
                .and_then(|h| h.get(i))
                .filter(|h| !h.is_empty())
                .map(|h| infer::sanitize(h))
                .unwrap_or_else(|| format!("string_field_{i}"));
            (name, t)
        })
        .collect();
    Ok(CsvScan { columns, skip })
}

/// Merges the columns of a later file into the first file's (by position).
pub fn merge(acc: &mut Vec<(String, Ty)>, later: Vec<(String, Ty)>) {
    for (i, (name, t)) in later.into_iter().enumerate() {
        match acc.get_mut(i) {
            Some((_, a)) => widen(a, t),
            None => acc.push((name, t)),
        }
    }
}

fn csv_error(name: &str, e: csv::Error) -> LoadError {
    let line = e.position().map(|p| p.line());
    LoadError {
        file: name.to_string(),
        line,
        column: None,
        reason: format!("malformed CSV: {e}"),
    }
}

/// Decodes one file, skipping `skip` leading rows. Returns the bytes read.
pub fn decode(
    ctx: &DecodeCtx,
    path: &Path,
    skip: u64,
    emit: &mut Emit<'_>,
) -> Result<u64, LoadError> {
    let name = super::remote::display_name(path);
    let opts = &ctx.csv;
    let mut rdr = opts.reader(path)?;
    let width = ctx.schema.fields().len();
    let mut record = csv::ByteRecord::new();
    let mut rows: Vec<csv::StringRecord> = Vec::with_capacity(BATCH_ROWS);
    let mut lines: Vec<u64> = Vec::with_capacity(BATCH_ROWS);
    let mut index = 0u64;
    loop {
        let more = match rdr.read_byte_record(&mut record) {
            Ok(m) => m,
            Err(e) => {
                // A broken record (bad quoting): keep it and stop reading this file.
                let line = e.position().map_or(0, |p| p.line());
                ctx.bad.push(BadRecord {
                    file: name.clone(),
                    line,
                    reason: format!("malformed CSV: {e}"),
                    record: String::new(),
                })?;
                break;
            }
        };
        if !more {
            break;
        }
        index += 1;
        if index <= skip {
            continue;
        }
        let line = record.position().map_or(index, |p| p.line());
        let reason = if record.len() != width {
            Some(format!(
                "expected {width} field{}, found {}",
                if width == 1 { "" } else { "s" },
                record.len()
            ))
        } else if !opts.allow_quoted_newlines && record.iter().any(|f| f.contains(&b'\n')) {
            Some("a quoted field holds a newline (allow_quoted_newlines is false)".into())
        } else {
            None
        };
        let text = || String::from_utf8_lossy(record.as_slice()).into_owned();
        if let Some(reason) = reason {
            ctx.bad.push(BadRecord {
                file: name.clone(),
                line,
                reason,
                record: text(),
            })?;
            continue;
        }
        match csv::StringRecord::from_byte_record(record.clone()) {
            Ok(r) => {
                rows.push(r);
                lines.push(line);
            }
            Err(_) => ctx.bad.push(BadRecord {
                file: name.clone(),
                line,
                reason: "invalid UTF-8".into(),
                record: text(),
            })?,
        }
        if rows.len() >= BATCH_ROWS {
            flush(ctx, &name, &mut rows, &mut lines, emit)?;
        }
    }
    flush(ctx, &name, &mut rows, &mut lines, emit)?;
    Ok(rdr.position().byte())
}

fn flush(
    ctx: &DecodeCtx,
    file: &str,
    rows: &mut Vec<csv::StringRecord>,
    lines: &mut Vec<u64>,
    emit: &mut Emit<'_>,
) -> Result<(), LoadError> {
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len();
    let mut good = vec![true; n];
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(ctx.schema.fields().len());
    let safe = CastOptions {
        safe: true,
        ..Default::default()
    };
    for (c, field) in ctx.schema.fields().iter().enumerate() {
        let text: StringArray = rows
            .iter()
            .map(|r| r.get(c).filter(|v| *v != ctx.csv.null_marker))
            .collect();
        let col = if field.data_type() == &DataType::Utf8 {
            Arc::new(text.clone()) as ArrayRef
        } else {
            cast_with_options(&text, field.data_type(), &safe)
                .map_err(|e| LoadError::at(file, e.to_string()))?
        };
        for i in 0..n {
            if good[i] && text.is_valid(i) && col.is_null(i) {
                good[i] = false;
                ctx.bad.push(BadRecord {
                    file: file.to_string(),
                    line: lines[i],
                    reason: format!(
                        "invalid {} value `{}` in column `{}`",
                        crate::dialect::types::bq_type_name(field),
                        text.value(i),
                        field.name()
                    ),
                    record: rows[i].iter().collect::<Vec<_>>().join(","),
                })?;
            }
        }
        columns.push(col);
    }
    let batch = RecordBatch::try_new(ctx.schema.clone(), columns)
        .map_err(|e| LoadError::at(file, e.to_string()))?;
    let (batch, kept) = if good.iter().all(|g| *g) {
        (batch, std::mem::take(lines))
    } else {
        let mask = BooleanArray::from(good.clone());
        let kept = lines
            .iter()
            .zip(&good)
            .filter(|(_, g)| **g)
            .map(|(l, _)| *l)
            .collect();
        let b =
            filter_record_batch(&batch, &mask).map_err(|e| LoadError::at(file, e.to_string()))?;
        (b, kept)
    };
    rows.clear();
    lines.clear();
    if batch.num_rows() > 0 {
        emit(ctx.finish(batch, file, &kept)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types() {
        assert_eq!(detect("12", ""), Ty::Int);
        assert_eq!(detect("-1.5e3", ""), Ty::Float);
        assert_eq!(detect("99999999999999999999", ""), Ty::Float);
        assert_eq!(detect("TRUE", ""), Ty::Bool);
        assert_eq!(detect("2024-01-02", ""), Ty::Date);
        assert_eq!(detect("2024-01-02 10:00:00", ""), Ty::Timestamp);
        assert_eq!(detect("", ""), Ty::Null);
        assert_eq!(detect("\\N", "\\N"), Ty::Null);
        assert_eq!(detect("1-2", ""), Ty::String);
        assert_eq!(detect("e", ""), Ty::String);
    }

    #[test]
    fn conflicts_become_string() {
        let mut t = Ty::Int;
        widen(&mut t, Ty::Bool);
        assert_eq!(t, Ty::String);
        let mut t = Ty::Int;
        widen(&mut t, Ty::Float);
        assert_eq!(t, Ty::Float);
    }
}
