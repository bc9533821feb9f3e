//! Definitions of the warehouse objects that are not Delta tables — views and external tables —
//! and of datasets. Each is one small JSON document in the warehouse, written with a single
//! object-store `put` (atomic on every store dap supports), so a second process sees it.

use serde::{Deserialize, Serialize};

/// `<warehouse>/<dataset>/_dataset.json`: its presence is what makes a dataset exist.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatasetDef {
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    #[serde(default)]
    pub description: Option<String>,
}

/// `<warehouse>/<dataset>/<name>/_dap_object.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ObjectDef {
    View(ViewDef),
    External(ExternalDef),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewDef {
    /// The view's query, as BigQuery SQL.
    pub sql: String,
    /// The default dataset in effect when the view was created; unqualified names in `sql`
    /// resolve against it.
    pub default_dataset: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExternalDef {
    /// `PARQUET`, `CSV` or `NEWLINE_DELIMITED_JSON`.
    pub format: String,
    /// Absolute paths or URLs, globs allowed.
    pub uris: Vec<String>,
    /// Column definitions given in the DDL (`name`, BigQuery type); empty = detect.
    #[serde(default)]
    pub columns: Vec<ColumnDef>,
    /// CSV: rows to skip at the top of each file (BigQuery `skip_leading_rows`).
    #[serde(default)]
    pub skip_leading_rows: u64,
    /// CSV: field delimiter (BigQuery `field_delimiter`).
    #[serde(default)]
    pub field_delimiter: Option<String>,
    /// The original DDL, reported by INFORMATION_SCHEMA.TABLES.ddl.
    #[serde(default)]
    pub ddl: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: String,
    /// The BigQuery type as written (`INT64`, `ARRAY<STRING>`, ...).
    pub bq_type: String,
    #[serde(default)]
    pub not_null: bool,
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
