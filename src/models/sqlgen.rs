//! The SQL that materializes a model, in two flavours: what dap runs locally, and the fully
//! qualified BigQuery SQL `dap compile` writes (`CREATE OR REPLACE TABLE `project.ds.t` ...`,
//! MERGE for incremental models) that deploys unchanged.
//!
//! - view: `CREATE OR REPLACE VIEW t AS body`
//! - table (and incremental on first run or `--full-refresh`): `CREATE OR REPLACE TABLE t AS body`
//!   (one atomic commit)
//! - incremental with `unique_key`: `MERGE t USING (body) ON key WHEN MATCHED THEN UPDATE SET every
//!   column WHEN NOT MATCHED THEN INSERT ROW`
//! - incremental without `unique_key`: appends rows whose `partition_by` value is newer than
//!   the newest already in the table (or every row when there is no `partition_by`).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Ident, ObjectName, ObjectNamePart, Query, Visit, Visitor, visit_relations_mut,
};

use super::project::{Materialized, Model, resolve_ref};

/// Where the SQL will run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// dap itself (no PARTITION BY / CLUSTER BY: the lakehouse ignores them).
    Local,
    /// BigQuery (fully qualified names, partitioning and clustering kept).
    BigQuery,
}

/// Rewrites every table reference of `body` to `` `project.dataset.table` `` (CTE names kept).
pub fn qualify(body: &str, project: &str, default_dataset: Option<&str>) -> crate::Result<String> {
    let mut stmts = crate::engine::parse_script(body)?;
    let mut parts = Vec::new();
    for s in &mut stmts {
        struct Ctes(BTreeSet<String>);
        impl Visitor for Ctes {
            type Break = ();
            fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
                if let Some(w) = &q.with {
                    for c in &w.cte_tables {
                        self.0.insert(c.alias.name.value.to_lowercase());
                    }
                }
                ControlFlow::Continue(())
            }
        }
        let mut ctes = Ctes(BTreeSet::new());
        let _ = s.statement.visit(&mut ctes);
        let _ = visit_relations_mut(&mut s.statement, |name: &mut ObjectName| {
            let is_cte = name.0.len() == 1
                && name.0[0]
                    .as_ident()
                    .is_some_and(|i| ctes.0.contains(&i.value.to_lowercase()));
            if !is_cte && let Some(n) = resolve_ref(name, default_dataset) {
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::with_quote(
                    '`',
                    format!("{project}.{}.{}", n.dataset, n.table),
                ))]);
            }
            ControlFlow::<()>::Continue(())
        });
        parts.push(s.statement.to_string());
    }
    Ok(parts.join(";\n"))
}

/// The target table name as SQL.
pub fn target_name(model: &Model, project: &str, target: Target) -> String {
    match target {
        Target::Local => format!("`{}`.`{}`", model.name.dataset, model.name.table),
        Target::BigQuery => format!("`{project}.{}.{}`", model.name.dataset, model.name.table),
    }
}

fn clauses(model: &Model, target: Target) -> String {
    let mut s = String::new();
    if target == Target::BigQuery {
        if let Some(p) = &model.config.partition_by {
            s.push_str(&format!("\nPARTITION BY {p}"));
        }
        if let Some(c) = &model.config.cluster_by {
            s.push_str(&format!("\nCLUSTER BY {}", c.to_vec().join(", ")));
        }
        if let Some(d) = &model.config.description {
            s.push_str(&format!("\nOPTIONS (description = {})", string_literal(d)));
        }
    }
    s
}

/// A BigQuery string literal.
pub fn string_literal(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `CREATE OR REPLACE TABLE|VIEW t AS body`.
pub fn create(model: &Model, body: &str, project: &str, target: Target) -> String {
    let t = target_name(model, project, target);
    let body = body.trim().trim_end_matches(';');
    match model.config.materialized {
        Materialized::View => format!("CREATE OR REPLACE VIEW {t} AS\n{body}"),
        _ => format!(
            "CREATE OR REPLACE TABLE {t}{} AS\n{body}",
            clauses(model, target)
        ),
    }
}

/// The statement that adds a run's rows to an existing incremental table. `columns` are the
/// body's output columns.
pub fn incremental(
    model: &Model,
    body: &str,
    project: &str,
    target: Target,
    columns: &[String],
) -> String {
    let t = target_name(model, project, target);
    let body = body.trim().trim_end_matches(';');
    let q = |c: &str| format!("`{}`", c.replace('`', "\\`"));
    match &model.config.unique_key {
        Some(key) => {
            let keys = key.to_vec();
            let on: Vec<String> = keys
                .iter()
                .map(|k| format!("T.{} = S.{}", q(k), q(k)))
                .collect();
            let set: Vec<String> = columns
                .iter()
                .filter(|c| !keys.iter().any(|k| k.eq_ignore_ascii_case(c)))
                .map(|c| format!("{} = S.{}", q(c), q(c)))
                .collect();
            let mut s = format!(
                "MERGE {t} AS T\nUSING (\n{body}\n) AS S\nON {}\n",
                on.join(" AND ")
            );
            if !set.is_empty() {
                s.push_str(&format!(
                    "WHEN MATCHED THEN UPDATE SET {}\n",
                    set.join(", ")
                ));
            }
            s.push_str("WHEN NOT MATCHED THEN INSERT ROW");
            s
        }
        None => match &model.config.partition_by {
            Some(p) => format!(
                "INSERT INTO {t}\nSELECT * FROM (\n{body}\n) AS S\nWHERE (SELECT MAX({p}) FROM {t}) IS NULL OR {p} > (SELECT MAX({p}) FROM {t})"
            ),
            None => format!("INSERT INTO {t}\nSELECT * FROM (\n{body}\n)"),
        },
    }
}
