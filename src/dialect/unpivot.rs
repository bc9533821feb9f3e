//! `FROM t UNPIVOT [INCLUDE|EXCLUDE NULLS] (v FOR n IN (c1 [AS 'x'], c2, ...)) [AS a]`: one row
//! per input row and listed column, with the other columns, the column's value as `v` and its
//! name (or its alias) as `n`. DataFusion has no UNPIVOT, so the FROM item becomes
//!
//! ```sql
//! (SELECT * FROM (SELECT * EXCEPT (c1, c2), c1 AS v, 'c1' AS n FROM t
//!                 UNION ALL SELECT * EXCEPT (c1, c2), c2, 'c2' FROM t) AS _unpivot
//!  WHERE v IS NOT NULL) AS a
//! ```
//!
//! (no filter with INCLUDE NULLS). Only the single-column form with plain column names is
//! rewritten; multi-column UNPIVOT fails with `not supported`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unpivot_operator>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, NullInclusion, Statement, TableAlias, TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{DapError, Result};

const PLACEHOLDER: &str = "_dap_unpivot_input";

pub fn rewrite_unpivot(stmt: &mut Statement) -> Result<()> {
    let mut v = Unpivot(None);
    let _ = stmt.visit(&mut v);
    match v.0 {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Unpivot(Option<DapError>);

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

fn string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn replacement(tf: &TableFactor) -> Result<Option<TableFactor>> {
    let TableFactor::Unpivot {
        table,
        value,
        name,
        columns,
        null_inclusion,
        alias,
    } = tf
    else {
        return Ok(None);
    };
    let unsupported = || DapError::not_supported("this form of UNPIVOT");
    let Expr::Identifier(value) = value else {
        return Err(unsupported());
    };
    let mut cols = Vec::new();
    for c in columns {
        let Expr::Identifier(col) = &c.expr else {
            return Err(unsupported());
        };
        let label = c.alias.as_ref().map(|a| a.value.clone());
        cols.push((
            col.value.clone(),
            label.unwrap_or_else(|| col.value.clone()),
        ));
    }
    if cols.is_empty() {
        return Err(unsupported());
    }
    let except = cols
        .iter()
        .map(|(c, _)| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let branches = cols
        .iter()
        .map(|(c, label)| {
            format!(
                "SELECT * EXCEPT ({except}), {} AS {}, {} AS {} FROM {PLACEHOLDER}",
                quoted(c),
                quoted(&value.value),
                string(label),
                quoted(&name.value)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let filter = match null_inclusion {
        Some(NullInclusion::IncludeNulls) => String::new(),
        _ => format!(" WHERE {} IS NOT NULL", quoted(&value.value)),
    };
    let sql = format!("SELECT * FROM ({branches}) AS _unpivot{filter}");
    let Some(Statement::Query(mut q)) = Parser::parse_sql(&BigQueryDialect, &sql)
        .ok()
        .and_then(|mut v| v.pop())
    else {
        return Err(unsupported());
    };
    let mut fill = Fill(table.as_ref());
    let _ = q.visit(&mut fill);
    Ok(Some(TableFactor::Derived {
        lateral: false,
        subquery: q,
        alias: Some(alias.clone().unwrap_or_else(|| TableAlias {
            explicit: true,
            name: Ident::new("_unpivot"),
            columns: vec![],
            at: None,
        })),
        sample: None,
    }))
}

/// Puts the UNPIVOT's input in place of the placeholder table.
struct Fill<'a>(&'a TableFactor);

impl VisitorMut for Fill<'_> {
    type Break = ();
    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, .. } = tf
            && name.to_string() == PLACEHOLDER
        {
            *tf = self.0.clone();
        }
        ControlFlow::Continue(())
    }
}

impl VisitorMut for Unpivot {
    type Break = ();
    fn post_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        match replacement(tf) {
            Ok(Some(new)) => *tf = new,
            Ok(None) => {}
            Err(e) => {
                self.0 = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }
}
