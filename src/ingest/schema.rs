//! `dap load --schema`: an explicit schema as `bq load` takes it
//! (<https://cloud.google.com/bigquery/docs/schemas#specifying_a_schema_file>), either inline
//! (`id:INT64,name:STRING,tags:ARRAY<STRING>`; a field without a type is STRING) or a JSON schema
//! file (`[{"name": "id", "type": "INTEGER", "mode": "REQUIRED"}, {"name": "r", "type": "RECORD",
//! "mode": "REPEATED", "fields": [...]}]`). Types are read with dap's BigQuery type mapping.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;
use serde::Deserialize;

use crate::error::{DapError, Result};

/// One field of a BigQuery JSON schema file.
#[derive(Debug, Deserialize)]
struct JsonField {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    fields: Vec<JsonField>,
}

/// Parses `--schema`: a path to a JSON schema file, or an inline `name:TYPE,...` list.
pub fn parse(arg: &str) -> Result<SchemaRef> {
    let path = std::path::Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DapError::Invalid(format!("--schema {arg}: {e}")))?;
        let fields: Vec<JsonField> = serde_json::from_str(&text)
            .map_err(|e| DapError::Invalid(format!("--schema {arg}: not a JSON schema: {e}")))?;
        let fields = fields
            .iter()
            .map(|f| {
                let nullable = !f
                    .mode
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case("REQUIRED"));
                column(&f.name, &json_type(f)?, nullable)
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(Arc::new(Schema::new(fields)));
    }
    let mut fields = Vec::new();
    for part in split_top(arg) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, ty) = part.split_once(':').unwrap_or((part, "STRING"));
        fields.push(column(name.trim(), ty.trim(), true)?);
    }
    if fields.is_empty() {
        return Err(DapError::Invalid("--schema has no fields".into()));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// The BigQuery type text of a JSON schema field.
fn json_type(f: &JsonField) -> Result<String> {
    let base = match f.ty.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT64" => "INT64".to_string(),
        "FLOAT" | "FLOAT64" => "FLOAT64".to_string(),
        "BOOLEAN" | "BOOL" => "BOOL".to_string(),
        "RECORD" | "STRUCT" => {
            if f.fields.is_empty() {
                return Err(DapError::Invalid(format!(
                    "--schema: RECORD field `{}` has no fields",
                    f.name
                )));
            }
            let inner = f
                .fields
                .iter()
                .map(|c| json_type(c).map(|t| format!("`{}` {t}", c.name)))
                .collect::<Result<Vec<_>>>()?;
            format!("STRUCT<{}>", inner.join(", "))
        }
        other => other.to_string(),
    };
    Ok(
        if f.mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("REPEATED"))
        {
            format!("ARRAY<{base}>")
        } else {
            base
        },
    )
}

fn column(name: &str, ty: &str, nullable: bool) -> Result<Field> {
    let sql_type = Parser::new(&BigQueryDialect)
        .try_with_sql(ty)
        .and_then(|mut p| p.parse_data_type())
        .map_err(|e| {
            DapError::Invalid(format!("--schema: field `{name}`: bad type `{ty}`: {e}"))
        })?;
    crate::dialect::types::field(name, &sql_type, nullable)
}

/// Splits on commas outside `<...>`.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType;

    #[test]
    fn inline() {
        let s = parse("id:INT64,name,tags:ARRAY<STRING>,s:STRUCT<a INT64, b STRING>").expect("ok");
        let names: Vec<&str> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["id", "name", "tags", "s"]);
        assert_eq!(s.field(0).data_type(), &DataType::Int64);
        assert_eq!(s.field(1).data_type(), &DataType::Utf8);
        assert!(parse("id:NOPE").is_err());
    }

    #[test]
    fn json_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.json");
        std::fs::write(
            &p,
            r#"[{"name":"id","type":"INTEGER","mode":"REQUIRED"},
                {"name":"r","type":"RECORD","mode":"REPEATED","fields":[{"name":"x","type":"FLOAT"}]}]"#,
        )
        .expect("write");
        let s = parse(&p.to_string_lossy()).expect("ok");
        assert!(!s.field(0).is_nullable());
        assert!(matches!(s.field(1).data_type(), DataType::List(_)));
    }
}
