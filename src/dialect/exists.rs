//! `EXISTS(subquery)` where DataFusion cannot plan it:
//!
//! - over one correlated array, `EXISTS(SELECT ... FROM UNNEST(t.arr) AS x [WHERE c])`, it
//!   becomes `CARDINALITY(ARRAY(SELECT x FROM UNNEST(t.arr) AS x [WHERE c])) > 0`, which
//!   [`super::array_subquery`] then evaluates row by row with array functions (a NULL array
//!   has no elements, so the result is FALSE, as in BigQuery);
//! - in a SELECT list, `EXISTS(q)` becomes the scalar subquery `(SELECT COUNT(*) > 0 FROM ...)`
//!   (q's own FROM and WHERE when q is a plain SELECT, else `FROM (q)`).
//!
//! The subquery's select list does not matter to EXISTS, except that an aggregate without
//! GROUP BY always yields a row; such subqueries are left alone.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#exists_operator>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArguments, GroupByExpr, Ident, ObjectName, Query,
    Select, SelectItem, SetExpr, Statement, TableFactor, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;

use super::ast_build::call;

pub fn rewrite_exists(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Exists);
}

struct Exists;

fn has_function(e: &Expr) -> bool {
    super::correlated_unnest::any_expr(e, |x| matches!(x, Expr::Function(_)))
}

/// The single SELECT of `q` when its select list cannot make rows on its own (no aggregate).
fn plain_select(q: &Query) -> Option<&Select> {
    if q.with.is_some() || q.order_by.is_some() || q.limit_clause.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let grouped =
        !matches!(&s.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    if grouped || s.having.is_some() || s.qualify.is_some() || s.distinct.is_some() {
        return None;
    }
    let simple = s.projection.iter().all(|p| match p {
        SelectItem::Wildcard(_) => true,
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => !has_function(e),
        _ => false,
    });
    simple.then_some(s.as_ref())
}

/// `EXISTS(SELECT .. FROM UNNEST(arr) AS x [WHERE c])` with a correlated `arr`.
fn over_one_array(q: &Query) -> Option<Expr> {
    let s = plain_select(q)?;
    if s.from.len() != 1 || !s.from[0].joins.is_empty() {
        return None;
    }
    let TableFactor::UNNEST {
        alias: Some(alias),
        array_exprs,
        with_offset: false,
        with_offset_alias: None,
        with_ordinality: false,
    } = &s.from[0].relation
    else {
        return None;
    };
    if array_exprs.len() != 1 || !super::correlated_unnest::refers_to_columns(&array_exprs[0]) {
        return None;
    }
    let mut inner = q.clone();
    if let SetExpr::Select(sel) = inner.body.as_mut() {
        sel.projection = vec![SelectItem::UnnamedExpr(Expr::Identifier(
            alias.name.clone(),
        ))];
    }
    let array = Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new("ARRAY")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::Subquery(Box::new(inner)),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    });
    Some(Expr::BinaryOp {
        left: Box::new(call("cardinality", vec![array])),
        op: BinaryOperator::Gt,
        right: Box::new(Expr::value(Value::Number("0".into(), false))),
    })
}

/// `(SELECT COUNT(*) > 0 FROM ...)` with q's FROM and WHERE when q is a plain SELECT (so a
/// correlated q stays decorrelatable), else `(SELECT COUNT(*) > 0 FROM (q) AS _exists)`.
fn counted(q: &Query) -> Option<Expr> {
    let stmt = Parser::parse_sql(
        &BigQueryDialect,
        "SELECT COUNT(*) > 0 FROM (SELECT 1) AS _exists",
    )
    .ok()?
    .pop()?;
    let Statement::Query(mut outer) = stmt else {
        return None;
    };
    if plain_select(q).is_some() {
        let SetExpr::Select(count) = outer.body.as_ref() else {
            return None;
        };
        let projection = count.projection.clone();
        let mut inner = q.clone();
        if let SetExpr::Select(s) = inner.body.as_mut() {
            s.projection = projection;
        }
        return Some(Expr::Subquery(Box::new(inner)));
    }
    if let SetExpr::Select(s) = outer.body.as_mut()
        && let Some(TableFactor::Derived { subquery, .. }) =
            s.from.first_mut().map(|t| &mut t.relation)
    {
        **subquery = q.clone();
    }
    Some(Expr::Subquery(outer))
}

fn negate(e: Expr, negated: bool) -> Expr {
    if negated {
        Expr::UnaryOp {
            op: datafusion::sql::sqlparser::ast::UnaryOperator::Not,
            expr: Box::new(Expr::Nested(Box::new(e))),
        }
    } else {
        Expr::Nested(Box::new(e))
    }
}

impl VisitorMut for Exists {
    type Break = ();

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        for item in select.projection.iter_mut() {
            let (SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) = item
            else {
                continue;
            };
            if let Expr::Exists { subquery, negated } = e
                && over_one_array(subquery).is_none()
                && let Some(c) = counted(subquery)
            {
                *e = negate(c, *negated);
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
        if let Expr::Exists { subquery, negated } = e
            && let Some(r) = over_one_array(subquery)
        {
            *e = negate(r, *negated);
        }
        ControlFlow::Continue(())
    }
}
