//! SQL `LOAD DATA` (<https://cloud.google.com/bigquery/docs/reference/standard-sql/load-statements>)
//! turned into a [`LoadRequest`]; it then runs through the same [`super::load`] as `dap load`.
//!
//! Supported options: `format` (`JSON` / `NEWLINE_DELIMITED_JSON`, `CSV`, `PARQUET`, or dap's
//! `AUTO`), `uris` (an array of paths, globs or `file://` URLs), `max_bad_records`, the CSV options
//! `skip_leading_rows`, `field_delimiter`, `quote`, `allow_quoted_newlines` and `null_marker`, and
//! dap's `json_path` and `source_columns`. Any other option is refused by name rather than
//! ignored.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::sql::sqlparser::ast::{Expr, Value as SqlValue};

use super::csv::CsvOptions;
use super::{LoadRequest, SourceFormat, WriteMode};
use crate::engine::script::LoadData;
use crate::error::{DapError, Result};

/// The load a `LOAD DATA` statement asks for.
pub fn request(stmt: &LoadData) -> Result<LoadRequest> {
    let parts = crate::lakehouse::names::name_parts(&stmt.table);
    let mut req =
        LoadRequest::new(parts.join("."), Vec::<String>::new()).write_mode(if stmt.overwrite {
            WriteMode::Replace
        } else {
            WriteMode::Append
        });
    if let Some(cols) = &stmt.columns {
        let mut fields = Vec::with_capacity(cols.len());
        for c in cols {
            fields.push(crate::dialect::types::field(
                &c.name.value,
                &c.data_type,
                true,
            )?);
        }
        req.schema = Some(Arc::new(Schema::new(fields)));
    }
    let mut format = None;
    for (name, value) in &stmt.options {
        match name.as_str() {
            "format" => format = Some(SourceFormat::parse(&string(name, value)?)?),
            "uris" => match value {
                Expr::Array(arr) => {
                    for e in &arr.elem {
                        req.uris.push(string(name, e)?);
                    }
                }
                other => req.uris.push(string(name, other)?),
            },
            "max_bad_records" => req.max_bad_records = integer(name, value)?,
            "json_path" => req.json_path = Some(string(name, value)?),
            "source_columns" => req.source_columns = boolean(name, value)?,
            "skip_leading_rows" => req.csv.skip_leading_rows = Some(integer(name, value)?),
            "field_delimiter" => {
                req.csv.field_delimiter = CsvOptions::delimiter(&string(name, value)?)?
            }
            "quote" => req.csv.quote = CsvOptions::quote_char(&string(name, value)?)?,
            "allow_quoted_newlines" => req.csv.allow_quoted_newlines = boolean(name, value)?,
            "null_marker" => req.csv.null_marker = string(name, value)?,
            other => {
                return Err(DapError::not_supported(format!("LOAD DATA option {other}")));
            }
        }
    }
    req.format = format.ok_or_else(|| {
        DapError::Invalid("LOAD DATA needs FROM FILES (format = '...', uris = [...])".into())
    })?;
    if !matches!(req.format, SourceFormat::Csv | SourceFormat::Auto)
        && req.csv != CsvOptions::default()
    {
        return Err(DapError::Invalid(format!(
            "LOAD DATA: CSV options need format = 'CSV' (format is {:?})",
            req.format
        )));
    }
    if !matches!(req.format, SourceFormat::Json | SourceFormat::Auto) && req.json_path.is_some() {
        return Err(DapError::Invalid(
            "LOAD DATA: json_path needs format = 'JSON'".into(),
        ));
    }
    if req.uris.is_empty() {
        return Err(DapError::Invalid(
            "LOAD DATA needs FROM FILES (uris = ['...'])".into(),
        ));
    }
    Ok(req)
}

fn literal(e: &Expr) -> Option<&SqlValue> {
    match e {
        Expr::Value(v) => Some(&v.value),
        _ => None,
    }
}

fn string(name: &str, e: &Expr) -> Result<String> {
    match literal(e) {
        Some(SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s)) => Ok(s.clone()),
        _ => Err(DapError::Invalid(format!(
            "LOAD DATA option {name} must be a string literal, got {e}"
        ))),
    }
}

fn integer(name: &str, e: &Expr) -> Result<u64> {
    match literal(e) {
        Some(SqlValue::Number(n, _)) => n.parse().map_err(|_| {
            DapError::Invalid(format!(
                "LOAD DATA option {name} must be a non-negative integer"
            ))
        }),
        _ => Err(DapError::Invalid(format!(
            "LOAD DATA option {name} must be an integer literal, got {e}"
        ))),
    }
}

fn boolean(name: &str, e: &Expr) -> Result<bool> {
    match literal(e) {
        Some(SqlValue::Boolean(b)) => Ok(*b),
        _ => Err(DapError::Invalid(format!(
            "LOAD DATA option {name} must be TRUE or FALSE, got {e}"
        ))),
    }
}
