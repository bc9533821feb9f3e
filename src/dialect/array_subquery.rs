//! `ARRAY(subquery)`: an array of the subquery's rows, in the subquery's order; an empty
//! result is `[]`, never NULL.
//!
//! - The common correlated form over one array, `ARRAY(SELECT [DISTINCT] e FROM UNNEST(arr) AS x
//!   [WHERE c] [LIMIT n])`, becomes array functions with lambdas, evaluated row by row:
//!   `ARRAY_TRANSFORM(ARRAY_FILTER(arr', x -> c), x -> e)` (then `ARRAY_DISTINCT`, `ARRAY_SLICE`),
//!   where `arr'` is `arr`, or an empty array of its type when `arr` is NULL.
//! - Any other subquery without ORDER BY/LIMIT becomes `(SELECT ARRAY_AGG(c) FROM (subquery) AS
//!   _array(c))`, with an empty array of the same type when there are no rows. Its row order is
//!   the order DataFusion produces the subquery's rows in (`UNION ALL` branches in order, see
//!   [`super::union_order`]). `SELECT AS STRUCT` branches become one STRUCT column.
//! - `e [NOT] IN UNNEST(arr)` becomes array functions with SQL's three-valued IN.
//! - Other forms (ORDER BY or LIMIT outside the first form, WITH OFFSET, several FROM items...)
//!   fail with `not supported`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array>.

use super::ast_build::call;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Distinct, Expr, FunctionArguments, GroupByExpr, Ident, LambdaFunction, LambdaFunctionParameter,
    LambdaSyntax, LimitClause, OneOrManyWithParens, Query, Select, SelectItem, SetExpr, Statement,
    TableAlias, TableAliasColumnDef, TableFactor, TableWithJoins, Value, ValueTableMode, VisitMut,
    VisitorMut,
};

use crate::error::{DapError, Result};

/// Rewrites every `ARRAY(subquery)` of `stmt`.
pub fn rewrite_array_subqueries(stmt: &mut Statement) -> Result<()> {
    match stmt.visit(&mut ArraySubquery) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(what) => Err(DapError::not_supported(what)),
    }
}

struct ArraySubquery;

impl VisitorMut for ArraySubquery {
    type Break = String;

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<String> {
        if let Expr::InUnnest {
            expr: needle,
            array_expr,
            negated,
        } = expr
        {
            let found = in_unnest(needle, array_expr);
            *expr = if *negated {
                Expr::UnaryOp {
                    op: datafusion::sql::sqlparser::ast::UnaryOperator::Not,
                    expr: Box::new(Expr::Nested(Box::new(found))),
                }
            } else {
                found
            };
            return ControlFlow::Continue(());
        }
        let Expr::Function(f) = expr else {
            return ControlFlow::Continue(());
        };
        let is_array = matches!(f.name.0.as_slice(), [part]
            if part.as_ident().is_some_and(|i| i.quote_style.is_none() && i.value.eq_ignore_ascii_case("array")));
        if !is_array {
            return ControlFlow::Continue(());
        }
        let FunctionArguments::Subquery(query) = &f.args else {
            return ControlFlow::Continue(());
        };
        if let Some(rewritten) = over_one_array(query) {
            *expr = rewritten;
            return ControlFlow::Continue(());
        }
        match aggregated(query) {
            Ok(rewritten) => {
                *expr = rewritten;
                ControlFlow::Continue(())
            }
            Err(what) => ControlFlow::Break(what),
        }
    }
}

fn number(n: &str) -> Expr {
    Expr::value(Value::Number(n.into(), false))
}

fn lambda(param: &Ident, body: Expr) -> Expr {
    Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: param.clone(),
            data_type: None,
        }),
        body: Box::new(body),
        syntax: LambdaSyntax::Arrow,
    })
}

/// `array`, or an empty array of its type when it is NULL.
fn empty_if_null(array: Expr) -> Expr {
    let typed_null = call("array_element", vec![array.clone(), number("1")]);
    let empty = call("array_repeat", vec![typed_null, number("0")]);
    call("coalesce", vec![array, empty])
}

/// `e IN UNNEST(arr)` with SQL's three-valued IN: TRUE if `arr` holds `e`; else NULL if `e` is
/// NULL (and `arr` not empty) or `arr` holds a NULL; else FALSE. A NULL array is empty.
fn in_unnest(needle: &Expr, array: &Expr) -> Expr {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    let array = empty_if_null(array.clone());
    let u = Ident::new("_in_unnest_element");
    let holds_null = call(
        "array_filter",
        vec![
            array.clone(),
            lambda(&u, Expr::IsNull(Box::new(Expr::Identifier(u.clone())))),
        ],
    );
    let count = |a: Expr| call("cardinality", vec![a]);
    let gt0 = |a: Expr| Expr::BinaryOp {
        left: Box::new(count(a)),
        op: BinaryOperator::Gt,
        right: Box::new(number("0")),
    };
    let null_needle = Expr::IsNull(Box::new(needle.clone()));
    Expr::Case {
        case_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(
        ),
        end_token: datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![
            datafusion::sql::sqlparser::ast::CaseWhen {
                condition: call("array_has", vec![array.clone(), needle.clone()]),
                result: Expr::value(Value::Boolean(true)),
            },
            datafusion::sql::sqlparser::ast::CaseWhen {
                condition: Expr::BinaryOp {
                    left: Box::new(Expr::Nested(Box::new(null_needle))),
                    op: BinaryOperator::And,
                    right: Box::new(gt0(array.clone())),
                },
                result: Expr::value(Value::Null),
            },
            datafusion::sql::sqlparser::ast::CaseWhen {
                condition: gt0(holds_null),
                result: Expr::value(Value::Null),
            },
        ],
        else_result: Some(Box::new(Expr::value(Value::Boolean(false)))),
    }
}

fn is_plain_select(s: &Select) -> bool {
    s.top.is_none()
        && s.into.is_none()
        && s.lateral_views.is_empty()
        && s.prewhere.is_none()
        && matches!(&s.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty())
        && s.cluster_by.is_empty()
        && s.distribute_by.is_empty()
        && s.sort_by.is_empty()
        && s.having.is_none()
        && s.named_window.is_empty()
        && s.qualify.is_none()
        && s.connect_by.is_empty()
        && s.value_table_mode.is_none()
        && s.exclude.is_none()
}

/// Whether `e` contains a subquery or a window function (not evaluable inside a lambda).
fn has_subquery_or_window(e: &Expr) -> bool {
    struct Finder(bool);
    impl datafusion::sql::sqlparser::ast::Visitor for Finder {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            let hit = match e {
                Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => true,
                Expr::Function(f) => {
                    f.over.is_some() || matches!(f.args, FunctionArguments::Subquery(_))
                }
                _ => false,
            };
            if hit {
                self.0 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Finder(false);
    let _ = datafusion::sql::sqlparser::ast::Visit::visit(e, &mut f);
    f.0
}

/// `ARRAY(SELECT [DISTINCT] e FROM UNNEST(arr) AS x [WHERE c] [LIMIT n])` as array functions.
fn over_one_array(query: &Query) -> Option<Expr> {
    if query.with.is_some()
        || query.order_by.is_some()
        || query.fetch.is_some()
        || !query.pipe_operators.is_empty()
        || !query.locks.is_empty()
    {
        return None;
    }
    let limit = match &query.limit_clause {
        None => None,
        Some(LimitClause::LimitOffset {
            limit: Some(n @ Expr::Value(_)),
            offset: None,
            limit_by,
        }) if limit_by.is_empty() => Some(n.clone()),
        Some(_) => return None,
    };
    let SetExpr::Select(s) = query.body.as_ref() else {
        return None;
    };
    if !is_plain_select(s) || s.projection.len() != 1 || s.from.len() != 1 {
        return None;
    }
    let distinct = match &s.distinct {
        None => false,
        Some(Distinct::Distinct) => true,
        Some(_) => return None,
    };
    let element = match &s.projection[0] {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e.clone(),
        _ => return None,
    };
    let TableWithJoins { relation, joins } = &s.from[0];
    if !joins.is_empty() {
        return None;
    }
    let TableFactor::UNNEST {
        alias: Some(alias),
        array_exprs,
        with_offset: false,
        with_offset_alias: None,
        with_ordinality: false,
    } = relation
    else {
        return None;
    };
    let columns_ok = alias.columns.is_empty()
        || (alias.columns.len() == 1 && alias.columns[0].name.value == alias.name.value);
    if !columns_ok || array_exprs.len() != 1 {
        return None;
    }
    let x = &alias.name;
    if has_subquery_or_window(&element) || s.selection.as_ref().is_some_and(has_subquery_or_window)
    {
        return None;
    }
    let mut array = empty_if_null(array_exprs[0].clone());
    if let Some(c) = &s.selection {
        array = call("array_filter", vec![array, lambda(x, c.clone())]);
    }
    let is_x = matches!(&element, Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&x.value));
    if !is_x {
        array = call("array_transform", vec![array, lambda(x, element)]);
    }
    if distinct {
        array = call("array_distinct", vec![array]);
    }
    if let Some(n) = limit {
        let last = Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(n))),
            op: datafusion::sql::sqlparser::ast::BinaryOperator::Minus,
            right: Box::new(number("1")),
        };
        array = call("array_slice", vec![array, number("0"), last]);
    }
    Some(array)
}

/// `SELECT AS STRUCT a, b AS n` → `SELECT STRUCT(a, b AS n)` in every branch of `body`.
fn struct_branches(body: &mut SetExpr) -> std::result::Result<(), String> {
    match body {
        SetExpr::Select(s) => match s.value_table_mode {
            None => Ok(()),
            Some(ValueTableMode::AsStruct) => {
                let mut values = Vec::new();
                for item in std::mem::take(&mut s.projection) {
                    match item {
                        SelectItem::UnnamedExpr(e) => values.push(e),
                        SelectItem::ExprWithAlias { expr, alias } => values.push(Expr::Named {
                            expr: Box::new(expr),
                            name: alias,
                        }),
                        _ => return Err("SELECT AS STRUCT * in ARRAY(subquery)".into()),
                    }
                }
                s.projection = vec![SelectItem::UnnamedExpr(Expr::Struct {
                    values,
                    fields: vec![],
                })];
                s.value_table_mode = None;
                Ok(())
            }
            Some(_) => Err("SELECT AS VALUE / DISTINCT AS STRUCT in ARRAY(subquery)".into()),
        },
        SetExpr::SetOperation { left, right, .. } => {
            struct_branches(left)?;
            struct_branches(right)
        }
        SetExpr::Query(q) => struct_branches(&mut q.body),
        _ => Ok(()),
    }
}

/// `(SELECT COALESCE(ARRAY_AGG(c), <empty>) FROM (subquery) AS _array(c))`.
fn aggregated(query: &Query) -> std::result::Result<Expr, String> {
    if query.order_by.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return Err("ARRAY(subquery) with ORDER BY or LIMIT".into());
    }
    let mut inner = query.clone();
    struct_branches(&mut inner.body)?;
    let column = Ident::new("_array_element");
    let agg = call("array_agg", vec![Expr::Identifier(column.clone())]);
    let projection = empty_if_null(agg);
    let outer = format!(
        "SELECT 1 FROM (SELECT 1) AS {}",
        "_array_subquery" // replaced below
    );
    let mut select = outer_select(&outer).ok_or("ARRAY(subquery)")?;
    select.projection = vec![SelectItem::UnnamedExpr(projection)];
    select.from = vec![TableWithJoins {
        relation: TableFactor::Derived {
            lateral: false,
            subquery: Box::new(inner),
            alias: Some(TableAlias {
                explicit: true,
                name: Ident::new("_array_subquery"),
                columns: vec![TableAliasColumnDef::from_name(column.value.clone())],
                at: None,
            }),
            sample: None,
        },
        joins: vec![],
    }];
    let mut q = query.clone();
    q.with = None;
    q.body = Box::new(SetExpr::Select(Box::new(select)));
    q.pipe_operators = vec![];
    Ok(Expr::Subquery(Box::new(q)))
}

/// A parsed `SELECT` to use as a template.
fn outer_select(sql: &str) -> Option<Select> {
    use datafusion::sql::sqlparser::dialect::BigQueryDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    let stmt = Parser::parse_sql(&BigQueryDialect, sql).ok()?.pop()?;
    let Statement::Query(q) = stmt else {
        return None;
    };
    match *q.body {
        SetExpr::Select(s) => Some(*s),
        _ => None,
    }
}
