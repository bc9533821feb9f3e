//! Rendering result sets: `table` (comfy-table), `csv`, `json`, `ndjson`, `markdown`.
//! Data only: row counts, truncation notes and timings are the caller's (stderr) business.

pub mod value;

use std::io::Write;

use comfy_table::{Table, presets};
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::record_batch::RecordBatch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
    Markdown,
}

/// Writes one result set; returns how many rows were printed (tables stop at `max_rows`).
pub fn write(
    out: &mut dyn Write,
    format: Format,
    schema: &Schema,
    batches: &[RecordBatch],
    max_rows: Option<usize>,
) -> std::io::Result<usize> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let limit = max_rows.unwrap_or(usize::MAX).min(total);
    let rows = || {
        batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |r| (b, r)))
            .take(limit)
    };
    match format {
        Format::Json | Format::Ndjson => {
            let json = format == Format::Json;
            let mut buf = String::new();
            if json {
                buf.push('[');
            }
            for (i, (b, r)) in rows().enumerate() {
                if json && i > 0 {
                    buf.push(',');
                }
                buf.push('{');
                for (c, name) in names.iter().enumerate() {
                    if c > 0 {
                        buf.push(',');
                    }
                    buf.push_str(&serde_json::Value::String(name.to_string()).to_string());
                    buf.push(':');
                    value::write_json(&mut buf, b.column(c).as_ref(), r);
                }
                buf.push('}');
                if !json {
                    buf.push('\n');
                }
                if buf.len() > 1 << 16 {
                    out.write_all(buf.as_bytes())?;
                    buf.clear();
                }
            }
            if json {
                buf.push_str("]\n");
            }
            out.write_all(buf.as_bytes())?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(&names)?;
            for (b, r) in rows() {
                let rec: Vec<String> = (0..names.len())
                    .map(|c| value::text(b.column(c).as_ref(), r).unwrap_or_default())
                    .collect();
                w.write_record(&rec)?;
            }
            w.flush()?;
        }
        Format::Table | Format::Markdown => {
            let mut t = Table::new();
            t.load_preset(if format == Format::Table {
                presets::UTF8_FULL_CONDENSED
            } else {
                presets::ASCII_MARKDOWN
            });
            t.set_header(names.clone());
            for (b, r) in rows() {
                t.add_row((0..names.len()).map(|c| {
                    value::text(b.column(c).as_ref(), r).unwrap_or_else(|| "NULL".into())
                }));
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(limit)
}
