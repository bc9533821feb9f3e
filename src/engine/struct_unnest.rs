//! `UNNEST` of an array of STRUCTs exposes the struct's fields as columns:
//! `SELECT x, y FROM UNNEST([STRUCT(1 AS x, 'a' AS y)])`. DataFusion gives one struct column
//! instead, so for an UNNEST whose array is a constant expression (no column references), the
//! array's type is planned first and, when it is `ARRAY<STRUCT<...>>`, the FROM item becomes
//!
//! ```sql
//! (SELECT get_field(_v, 'x') AS x, get_field(_v, 'y') AS y FROM UNNEST(array) AS _u(_v)) AS alias
//! ```
//!
//! Referring to the whole row through the alias (`SELECT alias FROM UNNEST(...) AS alias`) is
//! handled by [`super::range_values`] when no element can be NULL, and fails otherwise (never
//! other rows). UNNEST of a column is left alone.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator>.

use std::collections::VecDeque;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, SetExpr, Statement, TableAlias, TableFactor, Visit, VisitMut, Visitor,
    VisitorMut,
};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Rewrites every constant `UNNEST(array of structs)` FROM item of `stmt`.
pub async fn expand_struct_unnest(stmt: &mut Statement, state: &SessionState) {
    let mut found = Candidates(Vec::new());
    let _ = Visit::visit(&*stmt, &mut found);
    if found.0.is_empty() {
        return;
    }
    let mut fields = VecDeque::new();
    for array in found.0 {
        fields.push_back(struct_fields(&array, state).await);
    }
    let _ = stmt.visit(&mut Expand(fields));
}

fn candidate(tf: &TableFactor) -> Option<&Expr> {
    match tf {
        TableFactor::UNNEST {
            array_exprs,
            with_offset: false,
            with_offset_alias: None,
            with_ordinality: false,
            ..
        } if array_exprs.len() == 1 && !refers_to_columns(&array_exprs[0]) => Some(&array_exprs[0]),
        _ => None,
    }
}

fn refers_to_columns(expr: &Expr) -> bool {
    struct Finder(bool);
    impl Visitor for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if matches!(
                e,
                Expr::Identifier(_)
                    | Expr::CompoundIdentifier(_)
                    | Expr::Subquery(_)
                    | Expr::Exists { .. }
                    | Expr::InSubquery { .. }
            ) {
                self.0 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Finder(false);
    let _ = expr.visit(&mut f);
    f.0
}

struct Candidates(Vec<Expr>);

impl Visitor for Candidates {
    type Break = ();
    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
        if let Some(e) = candidate(tf) {
            self.0.push(e.clone());
        }
        ControlFlow::Continue(())
    }
}

/// The field names of `array`'s element type when it is a STRUCT.
async fn struct_fields(array: &Expr, state: &SessionState) -> Option<Vec<String>> {
    let mut probe = parse_query("SELECT NULL")?;
    if let SetExpr::Select(s) = probe.body.as_mut() {
        s.projection = vec![datafusion::sql::sqlparser::ast::SelectItem::UnnamedExpr(
            array.clone(),
        )];
    }
    let plan = state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            Statement::Query(Box::new(probe)),
        )))
        .await
        .ok()?;
    let field = plan.schema().fields().first()?.clone();
    let element = match field.data_type() {
        DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
        _ => return None,
    };
    match element {
        DataType::Struct(fields) if !fields.is_empty() => {
            Some(fields.iter().map(|f| f.name().clone()).collect())
        }
        _ => None,
    }
}

fn parse_query(sql: &str) -> Option<Query> {
    match Parser::parse_sql(&BigQueryDialect, sql).ok()?.pop()? {
        Statement::Query(q) => Some(*q),
        _ => None,
    }
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

fn single_quoted(name: &str) -> String {
    format!("'{}'", name.replace('\\', "\\\\").replace('\'', "\\'"))
}

struct Expand(VecDeque<Option<Vec<String>>>);

impl VisitorMut for Expand {
    type Break = ();
    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let Some(array) = candidate(tf).cloned() else {
            return ControlFlow::Continue(());
        };
        // The UNNEST inside a FROM item this rewrite made.
        if matches!(tf, TableFactor::UNNEST { alias: Some(a), .. } if a.name.value == "_u") {
            return ControlFlow::Continue(());
        }
        let Some(Some(fields)) = self.0.pop_front() else {
            return ControlFlow::Continue(());
        };
        let list = fields
            .iter()
            .map(|f| format!("get_field(_v, {}) AS {}", single_quoted(f), quoted(f)))
            .collect::<Vec<_>>()
            .join(", ");
        let Some(mut sub) = parse_query(&format!("SELECT {list} FROM UNNEST([1]) AS _u(_v)"))
        else {
            return ControlFlow::Continue(());
        };
        if let SetExpr::Select(s) = sub.body.as_mut()
            && let Some(TableFactor::UNNEST { array_exprs, .. }) =
                s.from.first_mut().map(|t| &mut t.relation)
        {
            *array_exprs = vec![array];
        }
        let alias = match tf {
            TableFactor::UNNEST { alias, .. } => alias.clone(),
            _ => None,
        };
        let alias = alias.map(|a| TableAlias {
            columns: vec![],
            ..a
        });
        let alias = alias.or_else(|| {
            Some(TableAlias {
                explicit: true,
                name: Ident::new("_unnest"),
                columns: vec![],
                at: None,
            })
        });
        *tf = TableFactor::Derived {
            lateral: false,
            subquery: Box::new(sub),
            alias,
            sample: None,
        };
        ControlFlow::Continue(())
    }
}
