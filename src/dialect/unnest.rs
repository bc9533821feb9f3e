//! `UNNEST(array) AS x`: in BigQuery the alias names the produced column (a value table), so
//! `SELECT x FROM UNNEST([1, 2]) AS x` works. DataFusion names the column after the expression;
//! this rewrite adds the column alias (`AS x(x)`).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Statement, TableAliasColumnDef, TableFactor, VisitMut, VisitorMut,
};

pub fn alias_unnest_columns(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Unnest);
}

struct Unnest;

impl VisitorMut for Unnest {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::UNNEST {
            alias: Some(alias),
            array_exprs,
            with_offset: false,
            ..
        } = tf
            && alias.columns.is_empty()
            && array_exprs.len() == 1
        {
            alias
                .columns
                .push(TableAliasColumnDef::from_name(alias.name.value.clone()));
        }
        ControlFlow::Continue(())
    }
}
