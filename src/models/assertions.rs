//! Assertions: each becomes a query whose returned rows are violations, so a passing assertion
//! returns nothing. Declared in a model's config block (`not_null`, `unique`, `accepted_values`,
//! `relationships`, `row_count`, `expressions`) or written as SQL files under `assertions/`.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::project::{Model, Name};
use super::sqlgen::string_literal;
use crate::engine::{Engine, StatementOutput};
use crate::output::{self, Format};

/// Rows shown for a failing assertion.
pub const SAMPLE_ROWS: usize = 5;

/// One assertion as a violations query.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// e.g. `mart.orders: not_null(order_id)` or `assertions/no_future_orders.sql`.
    pub name: String,
    pub sql: String,
}

/// What an assertion found.
#[derive(Debug, Clone)]
pub struct AssertionResult {
    pub name: String,
    /// `Ok(n)`: the number of violating rows; `Err`: the query failed.
    pub violations: Result<usize, String>,
    /// The first rows, rendered as a table.
    pub sample: String,
}

impl AssertionResult {
    pub fn passed(&self) -> bool {
        matches!(self.violations, Ok(0))
    }
}

fn ident(c: &str) -> String {
    format!("`{}`", c.replace('`', "\\`"))
}

fn literal(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => string_literal(s),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string().to_uppercase(),
        other => string_literal(&other.to_string()),
    }
}

/// The assertions a model's config block declares.
pub fn for_model(model: &Model) -> Vec<Assertion> {
    let t = format!("`{}`.`{}`", model.name.dataset, model.name.table);
    let a = &model.config.asserts;
    let mut out = Vec::new();
    let mut push = |what: String, sql: String| {
        out.push(Assertion {
            name: format!("{}: {what}", model.name),
            sql,
        })
    };
    for c in &a.not_null {
        push(
            format!("not_null({c})"),
            format!("SELECT * FROM {t} WHERE {} IS NULL", ident(c)),
        );
    }
    for c in &a.unique {
        push(
            format!("unique({c})"),
            format!(
                "SELECT {c}, COUNT(*) AS duplicates FROM {t} WHERE {c} IS NOT NULL GROUP BY {c} HAVING COUNT(*) > 1",
                c = ident(c)
            ),
        );
    }
    for (c, values) in &a.accepted_values {
        let list: Vec<String> = values.iter().map(literal).collect();
        push(
            format!("accepted_values({c})"),
            format!(
                "SELECT {c}, COUNT(*) AS n FROM {t} WHERE {c} IS NOT NULL AND {c} NOT IN ({}) GROUP BY {c}",
                list.join(", "),
                c = ident(c)
            ),
        );
    }
    for (c, target) in &a.relationships {
        let mut parts: Vec<&str> = target.split('.').collect();
        let pcol = parts.pop().unwrap_or_default().to_string();
        let ptable = parts.iter().map(|p| ident(p)).collect::<Vec<_>>().join(".");
        push(
            format!("relationships({c} -> {target})"),
            format!(
                "SELECT c.{c} FROM {t} AS c LEFT JOIN {ptable} AS p ON c.{c} = p.{pc} WHERE c.{c} IS NOT NULL AND p.{pc} IS NULL",
                c = ident(c),
                pc = ident(&pcol)
            ),
        );
    }
    if let Some(rc) = &a.row_count {
        let mut conds = Vec::new();
        if let Some(min) = rc.min {
            conds.push(format!("n < {min}"));
        }
        if let Some(max) = rc.max {
            conds.push(format!("n > {max}"));
        }
        if !conds.is_empty() {
            push(
                format!(
                    "row_count(min={}, max={})",
                    rc.min.map(|v| v.to_string()).unwrap_or("-".into()),
                    rc.max.map(|v| v.to_string()).unwrap_or("-".into())
                ),
                format!(
                    "SELECT n AS row_count FROM (SELECT COUNT(*) AS n FROM {t}) WHERE {}",
                    conds.join(" OR ")
                ),
            );
        }
    }
    for e in &a.expressions {
        push(
            format!("expression({e})"),
            format!("SELECT * FROM {t} WHERE NOT ({e})"),
        );
    }
    out
}

/// Runs one assertion query and keeps a sample of its rows.
pub async fn run(engine: &Engine, a: &Assertion) -> AssertionResult {
    let (violations, sample) = match engine.run_script(&a.sql).await {
        Ok(outputs) => match outputs.into_iter().last() {
            Some(StatementOutput::Rows { schema, batches }) => {
                let n = batches.iter().map(|b| b.num_rows()).sum();
                (Ok(n), render(&schema, &batches, n))
            }
            _ => (
                Err("an assertion must end with a query".to_string()),
                String::new(),
            ),
        },
        Err(e) => (Err(e.to_string()), String::new()),
    };
    AssertionResult {
        name: a.name.clone(),
        violations,
        sample,
    }
}

fn render(schema: &SchemaRef, batches: &[RecordBatch], n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = output::write(&mut buf, Format::Table, schema, batches, Some(SAMPLE_ROWS));
    String::from_utf8_lossy(&buf).into_owned()
}

/// Whether an assertion file reads `name`.
pub fn reads(refs: &std::collections::BTreeSet<Name>, name: &Name) -> bool {
    refs.contains(name)
}
