//! Correlated `UNNEST`: `FROM t, UNNEST(t.arr) AS x [WITH OFFSET AS o]`, `FROM t CROSS JOIN
//! UNNEST(t.arr) AS x`, `FROM t JOIN UNNEST(t.arr) AS x ON TRUE` and the implicit form
//! `FROM t, t.arr AS x`. DataFusion cannot plan an UNNEST table factor that refers to an earlier
//! FROM item (its outer reference is not executable), so the pair becomes one derived table
//! named like the left item:
//!
//! ```sql
//! (SELECT t.*, UNNEST(t.arr) AS x, UNNEST(range(0, array_length(t.arr))) AS o FROM t) AS t
//! ```
//!
//! A select-list UNNEST drops rows whose array is empty or NULL, as BigQuery's correlated cross
//! join does; the offset column is unnested in step with the array. `UNNEST(...) WITH OFFSET`
//! on a constant array becomes the same kind of derived table. Forms that cannot be rewritten
//! exactly (LEFT JOIN UNNEST, an UNNEST after a multi-table join, no alias) fail with
//! `not supported`, never different rows.
//!
//! This runs before table names are resolved, so that `t.arr` in `FROM t, t.arr` is not taken
//! for a table of dataset `t`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#correlated_join>
//! and <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#unnest_operator>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, ObjectNamePart, Query, SelectItem, SetExpr,
    Statement, TableFactor, TableWithJoins, VisitMut, VisitorMut,
};

use crate::error::{DapError, Result};

/// Rewrites every correlated (or offset-carrying) UNNEST of `stmt` into a derived table.
pub fn rewrite_correlated_unnest(stmt: &mut Statement) -> Result<()> {
    let mut v = Rewriter { error: None };
    let _ = stmt.visit(&mut v);
    match v.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Rewriter {
    error: Option<DapError>,
}

impl VisitorMut for Rewriter {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Err(e) = rewrite_body(&mut query.body) {
            self.error = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

fn rewrite_body(body: &mut SetExpr) -> Result<()> {
    match body {
        SetExpr::Select(select) => {
            if rewrite_from(&mut select.from)? {
                // BigQuery names `a.b.c` after its last part; after the rewrite such a path may
                // be a struct field, which DataFusion would name `a.b[c]`.
                for item in select.projection.iter_mut() {
                    if let SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) = item
                        && let Some(last) = parts.last().cloned()
                    {
                        let expr = Expr::CompoundIdentifier(std::mem::take(parts));
                        *item = SelectItem::ExprWithAlias { expr, alias: last };
                    }
                }
            }
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            rewrite_body(left)?;
            rewrite_body(right)
        }
        _ => Ok(()),
    }
}

/// The name a FROM item's columns are qualified by.
fn qualifier(tf: &TableFactor) -> Option<Ident> {
    match tf {
        TableFactor::Table { alias: Some(a), .. }
        | TableFactor::Derived { alias: Some(a), .. }
        | TableFactor::UNNEST { alias: Some(a), .. } => Some(a.name.clone()),
        TableFactor::Table {
            name, alias: None, ..
        } => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => Some(i.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn same(a: &Ident, b: &Ident) -> bool {
    a.value.eq_ignore_ascii_case(&b.value)
}

/// Whether an expression refers to a column or range variable (rather than being a constant).
pub(super) fn refers_to_columns(expr: &Expr) -> bool {
    any_expr(expr, |e| {
        matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
    })
}

/// Whether `pred` holds for `expr` or any expression inside it.
pub(super) fn any_expr(expr: &Expr, pred: impl Fn(&Expr) -> bool) -> bool {
    struct Finder<P>(P, bool);
    impl<P: Fn(&Expr) -> bool> datafusion::sql::sqlparser::ast::Visitor for Finder<P> {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if (self.0)(e) {
                self.1 = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        }
    }
    let mut f = Finder(pred, false);
    let _ = datafusion::sql::sqlparser::ast::Visit::visit(expr, &mut f);
    f.1
}

/// One UNNEST to apply: the array, the element alias and the optional offset alias.
struct Unnest {
    array: Expr,
    alias: Ident,
    offset: Option<Ident>,
}

/// Recognizes a FROM item that is an UNNEST of an earlier item's column (or a path `q.col`
/// with `q` among `earlier`), or any UNNEST WITH OFFSET.
fn as_unnest(tf: &TableFactor, earlier: &[Ident]) -> Result<Option<Unnest>> {
    match tf {
        TableFactor::UNNEST {
            alias,
            array_exprs,
            with_offset,
            with_offset_alias,
            with_ordinality: false,
        } => {
            let correlated = array_exprs.iter().any(refers_to_columns);
            if !correlated && !*with_offset {
                return Ok(None);
            }
            let [array] = array_exprs.as_slice() else {
                return Err(DapError::not_supported("UNNEST of several arrays"));
            };
            let Some(alias) = alias else {
                return Err(DapError::not_supported(
                    "UNNEST of a column without an alias",
                ));
            };
            if !alias.columns.is_empty() && alias.columns.len() != 1 {
                return Err(DapError::not_supported("UNNEST with column aliases"));
            }
            let offset = with_offset.then(|| {
                with_offset_alias
                    .clone()
                    .unwrap_or_else(|| Ident::with_quote('`', "offset"))
            });
            Ok(Some(Unnest {
                array: array.clone(),
                alias: alias.name.clone(),
                offset,
            }))
        }
        TableFactor::Table {
            name,
            alias,
            args: None,
            with_hints,
            version: None,
            ..
        } if name.0.len() >= 2 && with_hints.is_empty() => {
            let idents: Vec<Ident> = name
                .0
                .iter()
                .filter_map(|p| match p {
                    ObjectNamePart::Identifier(i) => Some(i.clone()),
                    _ => None,
                })
                .collect();
            if idents.len() != name.0.len() || !earlier.iter().any(|q| same(q, &idents[0])) {
                return Ok(None);
            }
            let implicit = idents[idents.len() - 1].clone();
            Ok(Some(Unnest {
                array: Expr::CompoundIdentifier(idents),
                alias: alias.as_ref().map(|a| a.name.clone()).unwrap_or(implicit),
                offset: None,
            }))
        }
        _ => Ok(None),
    }
}

/// Whether a join operator is an inner/cross join without a real condition.
fn is_cross(op: &JoinOperator) -> Result<bool> {
    let constraint = match op {
        JoinOperator::CrossJoin(c) | JoinOperator::Join(c) | JoinOperator::Inner(c) => c,
        JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => {
            return Err(DapError::not_supported("LEFT JOIN UNNEST of a column"));
        }
        _ => return Ok(false),
    };
    Ok(match constraint {
        JoinConstraint::None => true,
        JoinConstraint::On(Expr::Value(v)) => {
            matches!(
                v.value,
                datafusion::sql::sqlparser::ast::Value::Boolean(true)
            )
        }
        _ => false,
    })
}

fn parse_factor(sql: &str) -> Result<TableFactor> {
    let stmt = crate::engine::script::parse_one(&format!("SELECT * FROM {sql}"))?;
    if let Statement::Query(q) = stmt
        && let SetExpr::Select(mut select) = *q.body
        && select.from.len() == 1
    {
        return Ok(select.from.remove(0).relation);
    }
    Err(DapError::not_supported("this UNNEST form"))
}

/// `(SELECT q.*, UNNEST(a) AS x [, UNNEST(range(0, array_length(a))) AS o] FROM left) AS q`.
fn wrap(left: &TableFactor, q: &Ident, u: &Unnest) -> Result<TableFactor> {
    let offset = match &u.offset {
        Some(o) => format!(", UNNEST(range(0, array_length({}))) AS {o}", u.array),
        None => String::new(),
    };
    // An unaliased table gets its qualifier as alias, so `{q}.*` names it inside.
    let left = match left {
        TableFactor::Table { alias: None, .. } => format!("{left} AS {q}"),
        _ => left.to_string(),
    };
    parse_factor(&format!(
        "(SELECT {q}.*, UNNEST({}) AS {}{offset} FROM {left}) AS {q}",
        u.array, u.alias
    ))
}

/// A constant `UNNEST(a) AS x WITH OFFSET AS o` on its own.
fn standalone(u: &Unnest) -> Result<TableFactor> {
    let offset = match &u.offset {
        Some(o) => format!(", UNNEST(range(0, array_length({}))) AS {o}", u.array),
        None => String::new(),
    };
    parse_factor(&format!(
        "(SELECT UNNEST({}) AS {}{offset}) AS {}",
        u.array, u.alias, u.alias
    ))
}

/// Rewrites the FROM clause; true when something changed.
fn rewrite_from(from: &mut Vec<TableWithJoins>) -> Result<bool> {
    let mut changed = false;
    // A lone constant UNNEST WITH OFFSET as the first item.
    for twj in from.iter_mut() {
        if let TableFactor::UNNEST {
            with_offset: true, ..
        } = &twj.relation
            && let Some(u) = as_unnest(&twj.relation, &[])?
            && !refers_to_columns(&u.array)
        {
            twj.relation = standalone(&u)?;
            changed = true;
        }
        for j in twj.joins.iter_mut() {
            if let TableFactor::UNNEST {
                with_offset: true, ..
            } = &j.relation
                && let Some(u) = as_unnest(&j.relation, &[])?
                && !refers_to_columns(&u.array)
            {
                j.relation = standalone(&u)?;
                changed = true;
            }
        }
    }
    // Comma items that are correlated UNNESTs join the item before them.
    let mut i = 1;
    while i < from.len() {
        let earlier: Vec<Ident> = qualifiers(&from[..i]);
        if as_unnest(&from[i].relation, &earlier)?.is_some() {
            let item = from.remove(i);
            let prev = &mut from[i - 1];
            prev.joins.push(datafusion::sql::sqlparser::ast::Join {
                relation: item.relation,
                global: false,
                join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
            });
            if item.joins.iter().any(|j| {
                !matches!(
                    j.join_operator,
                    JoinOperator::Join(_)
                        | JoinOperator::Inner(_)
                        | JoinOperator::CrossJoin(_)
                        | JoinOperator::Left(_)
                        | JoinOperator::LeftOuter(_)
                )
            }) {
                return Err(DapError::not_supported(
                    "RIGHT or FULL JOIN after a correlated UNNEST",
                ));
            }
            prev.joins.extend(item.joins);
            changed = true;
        } else {
            i += 1;
        }
    }
    for twj in from.iter_mut() {
        changed |= rewrite_chain(twj)?;
    }
    Ok(changed)
}

fn qualifiers(items: &[TableWithJoins]) -> Vec<Ident> {
    let mut out = Vec::new();
    for twj in items {
        out.extend(qualifier(&twj.relation));
        for j in &twj.joins {
            out.extend(qualifier(&j.relation));
        }
    }
    out
}

/// Folds the correlated UNNEST joins of one join chain into the relation they follow.
fn rewrite_chain(twj: &mut TableWithJoins) -> Result<bool> {
    let mut changed = false;
    // The wrapped item's name and the range variables of UNNESTs folded into it.
    let mut earlier: Vec<Ident> = qualifier(&twj.relation).into_iter().collect();
    let mut k = 0;
    while k < twj.joins.len() {
        let Some(u) = as_unnest(&twj.joins[k].relation, &earlier)? else {
            k += 1;
            continue;
        };
        if !refers_to_columns(&u.array) {
            k += 1;
            continue;
        }
        if k != 0 {
            return Err(DapError::not_supported(
                "UNNEST of a column after a join of several tables",
            ));
        }
        if !is_cross(&twj.joins[k].join_operator)? {
            return Err(DapError::not_supported(
                "JOIN UNNEST of a column with a condition",
            ));
        }
        let Some(q) = qualifier(&twj.relation) else {
            return Err(DapError::not_supported(
                "UNNEST of a column of an unnamed FROM item",
            ));
        };
        twj.relation = wrap(&twj.relation, &q, &u)?;
        twj.joins.remove(0);
        earlier.push(u.alias);
        changed = true;
    }
    Ok(changed)
}
