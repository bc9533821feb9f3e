//! Finding models and reading their configuration.
//!
//! A model is a plain BigQuery SQL file `sql/<dataset>/<table>.sql` that defines `dataset.table`.
//! Its configuration lives in an optional leading block comment that starts with `dap`, written in
//! TOML, so the file stays valid BigQuery SQL:
//!
//! ```sql
//! /* dap
//! materialized = "incremental"     # view | table | incremental
//! unique_key = "order_id"
//! partition_by = "DATE(ordered_at)"
//! cluster_by = ["customer_id"]
//! tags = ["mart"]
//! description = "One row per order"
//! [columns]
//! order_id = "The order id"
//! [assert]
//! not_null = ["order_id"]
//! unique = ["order_id"]
//! accepted_values = { status = ["paid", "refunded"] }
//! relationships = { customer_id = "staging.customers.customer_id" }
//! row_count = { min = 1 }
//! expressions = ["amount >= 0"]
//! */
//! SELECT ...
//! ```
//!
//! SQL assertion files live in `assertions/*.sql`: each is a query whose returned rows are
//! violations. Dependencies are inferred from table references (see [`table_refs`]); references
//! to tables no model produces are sources.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use datafusion::sql::sqlparser::ast::{ObjectName, Query, Statement, Visit, Visitor};
use serde::Deserialize;

use crate::engine::parse_script;
use crate::error::Location;

use super::ModelError;

/// How a model is materialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Materialized {
    View,
    #[default]
    Table,
    Incremental,
}

impl std::fmt::Display for Materialized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Materialized::View => "view",
            Materialized::Table => "table",
            Materialized::Incremental => "incremental",
        })
    }
}

/// `unique_key = "id"` or `unique_key = ["a", "b"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Row-count bounds for the `row_count` assertion.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowCount {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// The assertions a model declares.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asserts {
    #[serde(default)]
    pub not_null: Vec<String>,
    #[serde(default)]
    pub unique: Vec<String>,
    #[serde(default)]
    pub accepted_values: BTreeMap<String, Vec<toml::Value>>,
    /// column → `dataset.table.column` it must reference.
    #[serde(default)]
    pub relationships: BTreeMap<String, String>,
    pub row_count: Option<RowCount>,
    /// Boolean expressions every row must satisfy (rows where it is FALSE are violations).
    #[serde(default)]
    pub expressions: Vec<String>,
}

/// A model's configuration block.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    #[serde(default)]
    pub materialized: Materialized,
    pub unique_key: Option<OneOrMany>,
    pub partition_by: Option<String>,
    pub cluster_by: Option<OneOrMany>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default, rename = "assert")]
    pub asserts: Asserts,
}

/// A `dataset.table` name, lower-cased for matching.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    pub dataset: String,
    pub table: String,
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.dataset, self.table)
    }
}

/// One model file.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: Name,
    pub path: PathBuf,
    pub sql: String,
    /// The body after the configuration block (what runs).
    pub body: String,
    pub config: ModelConfig,
    /// Every table the model reads (models and sources), the model itself excluded.
    pub refs: BTreeSet<Name>,
}

/// One SQL assertion file.
#[derive(Debug, Clone)]
pub struct AssertionFile {
    pub name: String,
    pub path: PathBuf,
    pub sql: String,
    pub refs: BTreeSet<Name>,
}

/// Every model and assertion of a project.
#[derive(Debug, Clone, Default)]
pub struct Models {
    pub models: Vec<Model>,
    pub assertions: Vec<AssertionFile>,
}

/// Reads `dir/sql/**` and `dir/assertions/*.sql`.
pub fn discover(dir: &Path, default_dataset: Option<&str>) -> Result<Models, ModelError> {
    let mut out = Models::default();
    let sql = dir.join("sql");
    for ds_entry in sorted_entries(&sql)? {
        if !ds_entry.is_dir() {
            continue;
        }
        let dataset = file_stem(&ds_entry);
        for file in sorted_entries(&ds_entry)? {
            if file.extension().and_then(|e| e.to_str()) != Some("sql") {
                continue;
            }
            out.models.push(read_model(
                &file,
                &dataset,
                &file_stem(&file),
                default_dataset,
            )?);
        }
    }
    for file in sorted_entries(&dir.join("assertions"))? {
        if file.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let sql = read(&file)?;
        let refs = table_refs(&sql, default_dataset).map_err(|e| ModelError::Parse {
            path: file.clone(),
            location: e.1,
            message: e.0,
        })?;
        out.assertions.push(AssertionFile {
            name: file_stem(&file),
            path: file,
            sql,
            refs,
        });
    }
    Ok(out)
}

fn read(path: &Path) -> Result<String, ModelError> {
    std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn file_stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ModelError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

/// Reads one model file: its config block, body and table references.
pub fn read_model(
    path: &Path,
    dataset: &str,
    table: &str,
    default_dataset: Option<&str>,
) -> Result<Model, ModelError> {
    let sql = read(path)?;
    let (config, body) = split_config(&sql).map_err(|message| ModelError::Config {
        path: path.to_path_buf(),
        message,
    })?;
    let name = Name {
        dataset: dataset.to_string(),
        table: table.to_string(),
    };
    let mut refs = table_refs(&body, default_dataset).map_err(|e| ModelError::Parse {
        path: path.to_path_buf(),
        location: e.1.map(|l| shift(l, &sql, &body)),
        message: e.0,
    })?;
    refs.remove(&name);
    Ok(Model {
        name,
        path: path.to_path_buf(),
        body,
        sql,
        config,
        refs,
    })
}

/// Maps a location in `body` (a suffix of `sql`) back to `sql`.
fn shift(l: Location, sql: &str, body: &str) -> Location {
    let skipped = &sql[..sql.len() - body.len()];
    let lines = skipped.matches('\n').count() as u64;
    Location {
        line: l.line + lines,
        column: l.column,
    }
}

/// Splits the leading `/* dap ... */` block (TOML) from the SQL body. The body keeps the
/// block's lines as blank lines so positions still match the file.
pub fn split_config(sql: &str) -> Result<(ModelConfig, String), String> {
    let trimmed = sql.trim_start();
    let Some(rest) = trimmed.strip_prefix("/*") else {
        return Ok((ModelConfig::default(), sql.to_string()));
    };
    let inner = rest.trim_start_matches([' ', '\t']);
    let Some(after) = inner.strip_prefix("dap") else {
        return Ok((ModelConfig::default(), sql.to_string()));
    };
    if !after.starts_with(['\n', '\r', ' ', '\t']) {
        return Ok((ModelConfig::default(), sql.to_string()));
    }
    let Some(end) = after.find("*/") else {
        return Err("the `/* dap` configuration block is not closed with `*/`".into());
    };
    let config: ModelConfig = toml::from_str(&after[..end]).map_err(|e| e.to_string())?;
    let consumed = sql.len() - after.len() + end + 2;
    let body = format!(
        "{}{}",
        "\n".repeat(sql[..consumed].matches('\n').count()),
        &sql[consumed..]
    );
    Ok((config, body))
}

/// Resolves a table reference (`t`, `ds.t`, `project.ds.t`, `` `project.ds.t` ``) to a name.
pub fn resolve_ref(name: &ObjectName, default_dataset: Option<&str>) -> Option<Name> {
    let mut parts: Vec<String> = Vec::new();
    for p in &name.0 {
        let ident = p.as_ident()?;
        parts.extend(ident.value.split('.').map(str::to_lowercase));
    }
    let n = parts.len();
    match n {
        1 => Some(Name {
            dataset: default_dataset?.to_lowercase(),
            table: parts.pop()?,
        }),
        2 | 3 => Some(Name {
            dataset: parts[n - 2].clone(),
            table: parts[n - 1].clone(),
        }),
        _ => None,
    }
}

/// Every table a script reads or writes (CTE names excluded).
pub fn table_refs(
    sql: &str,
    default_dataset: Option<&str>,
) -> Result<BTreeSet<Name>, (String, Option<Location>)> {
    let stmts = parse_script(sql).map_err(|e| match e {
        crate::DapError::Syntax { message, location } => (message, location),
        other => (other.to_string(), None),
    })?;
    struct Refs<'a> {
        ctes: BTreeSet<String>,
        found: Vec<ObjectName>,
        _d: Option<&'a str>,
    }
    impl Visitor for Refs<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                for cte in &with.cte_tables {
                    self.ctes.insert(cte.alias.name.value.to_lowercase());
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_relation(&mut self, r: &ObjectName) -> ControlFlow<()> {
            self.found.push(r.clone());
            ControlFlow::Continue(())
        }
    }
    let mut v = Refs {
        ctes: BTreeSet::new(),
        found: Vec::new(),
        _d: default_dataset,
    };
    for s in &stmts {
        let _ = Statement::visit(&s.statement, &mut v);
    }
    let mut out = BTreeSet::new();
    for r in &v.found {
        if r.0.len() == 1
            && r.0[0]
                .as_ident()
                .is_some_and(|i| v.ctes.contains(&i.value.to_lowercase()))
        {
            continue;
        }
        if let Some(n) = resolve_ref(r, default_dataset) {
            out.insert(n);
        }
    }
    Ok(out)
}
