//! BigQuery aggregate syntax DataFusion lacks, rewritten on the AST into DataFusion aggregates:
//!
//! - `ARRAY_AGG(x [ORDER BY ...] LIMIT n)` → `ARRAY_SLICE(ARRAY_AGG(x [ORDER BY ...]), 0, n - 1)`.
//! - `ARRAY_CONCAT_AGG(x [ORDER BY ...] [LIMIT n])` → `FLATTEN(ARRAY_AGG(x ...) FILTER (WHERE x IS
//!   NOT NULL))` (NULL arrays are skipped; LIMIT counts arrays).
//! - `STRING_AGG(x)` gets BigQuery's default delimiter `","`; with `LIMIT n` it becomes
//!   `ARRAY_TO_STRING(ARRAY_SLICE(ARRAY_AGG(x ...) FILTER (WHERE x IS NOT NULL), 0, n - 1), d)`.
//! - `PERCENTILE_CONT` / `PERCENTILE_DISC` with RESPECT NULLS call their RESPECT NULLS twins
//!   (`functions/percentile.rs`).
//! - `ARRAY_AGG(DISTINCT x)` / `STRING_AGG(DISTINCT x, d)` without ORDER BY keep first-occurrence
//!   order, as BigQuery's documented results do and DataFusion's hash-based DISTINCT does not
//!   ([`distinct_in_order`]).
//!
//! References:
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#array_agg>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#array_concat_agg>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#string_agg>.

use super::ast_build::call;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, Ident, NullTreatment, ObjectName, Statement, Value, VisitMut, VisitorMut,
};

use crate::error::Result;

/// Rewrites ARRAY_AGG / ARRAY_CONCAT_AGG / STRING_AGG forms in `stmt`.
pub fn rewrite_aggregates(stmt: &mut Statement) -> Result<()> {
    match stmt.visit(&mut Aggregates) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(what) => Err(crate::error::DapError::not_supported(what)),
    }
}

struct Aggregates;

fn name_of(f: &Function) -> Option<String> {
    match f.name.0.as_slice() {
        [part] => part.as_ident().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

fn number(n: &str) -> Expr {
    Expr::value(Value::Number(n.into(), false))
}

/// `ARRAY_SLICE(array, 0, limit - 1)`.
fn first_n(array: Expr, limit: Expr) -> Expr {
    let last = Expr::BinaryOp {
        left: Box::new(Expr::Nested(Box::new(limit))),
        op: BinaryOperator::Minus,
        right: Box::new(number("1")),
    };
    call("array_slice", vec![array, number("0"), last])
}

/// Removes the LIMIT clause of `f`, returning its expression.
fn take_limit(f: &mut Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &mut f.args else {
        return None;
    };
    let at = list
        .clauses
        .iter()
        .position(|c| matches!(c, FunctionArgumentClause::Limit(_)))?;
    match list.clauses.remove(at) {
        FunctionArgumentClause::Limit(e) => Some(e),
        _ => None,
    }
}

fn first_arg(f: &Function) -> Option<Expr> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.first() {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => Some(e.clone()),
        _ => None,
    }
}

/// `f` turned into `ARRAY_AGG(<first arg> <clauses>) FILTER (WHERE <first arg> IS NOT NULL)`.
fn array_agg_skipping_nulls(f: &Function, arg: Expr) -> Expr {
    let mut agg = f.clone();
    agg.name = ObjectName::from(vec![Ident::new("array_agg")]);
    if let FunctionArguments::List(list) = &mut agg.args {
        list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg.clone()))];
    }
    agg.filter = Some(Box::new(Expr::IsNotNull(Box::new(arg))));
    Expr::Function(agg)
}

/// `ARRAY_AGG(DISTINCT x ...)` / `STRING_AGG(DISTINCT x, d ...)` without ORDER BY keep each value's
/// first occurrence in input order (`ARRAY_DISTINCT(ARRAY_AGG(x))`); with `ORDER BY x DESC` they
/// are aggregated ascending and reversed (DataFusion sorts DISTINCT aggregates ascending only).
/// LIMIT applies to the distinct values. `None`: the call has a shape this does not handle.
fn distinct_in_order(
    f: &Function,
    name: &str,
    descending: bool,
) -> std::result::Result<Option<Expr>, String> {
    let Some(arg) = first_arg(f) else {
        return Ok(None);
    };
    let mut agg = f.clone();
    let limit = take_limit(&mut agg);
    let FunctionArguments::List(list) = &mut agg.args else {
        return Ok(None);
    };
    let delimiter = match list.args.get(1) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => e.clone(),
        Some(_) => return Ok(None),
        None => Expr::value(Value::SingleQuotedString(",".into())),
    };
    if descending {
        let order = list.clauses.iter_mut().find_map(|c| match c {
            FunctionArgumentClause::OrderBy(items) => Some(items),
            _ => None,
        });
        match order {
            Some(items) if items.len() == 1 => {
                items[0].options.asc = None;
                items[0].options.nulls_first = None;
            }
            _ => {
                return Err(format!(
                    "{}(DISTINCT ... ORDER BY ... DESC) with several ORDER BY keys",
                    name.to_ascii_uppercase()
                ));
            }
        }
    } else {
        list.duplicate_treatment = None;
    }
    let mut array = if name == "string_agg" {
        array_agg_skipping_nulls(&agg, arg)
    } else {
        agg.name = ObjectName::from(vec![Ident::new("array_agg")]);
        Expr::Function(agg)
    };
    array = if descending {
        call("array_reverse", vec![array])
    } else {
        call("array_distinct", vec![array])
    };
    if let Some(limit) = limit {
        array = first_n(array, limit);
    }
    Ok(Some(if name == "string_agg" {
        call("array_to_string", vec![array, delimiter])
    } else {
        array
    }))
}

impl VisitorMut for Aggregates {
    type Break = String;

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<String> {
        let Expr::Function(f) = expr else {
            return ControlFlow::Continue(());
        };
        let Some(name) = name_of(f) else {
            return ControlFlow::Continue(());
        };
        let FunctionArguments::List(list) = &f.args else {
            return ControlFlow::Continue(());
        };
        let has_limit = list
            .clauses
            .iter()
            .any(|c| matches!(c, FunctionArgumentClause::Limit(_)));
        let has_order = list
            .clauses
            .iter()
            .any(|c| matches!(c, FunctionArgumentClause::OrderBy(_)));
        let distinct = list.duplicate_treatment.is_some();
        let n_args = list.args.len();
        let respect_nulls = matches!(f.null_treatment, Some(NullTreatment::RespectNulls))
            || list.clauses.iter().any(|c| {
                matches!(
                    c,
                    FunctionArgumentClause::IgnoreOrRespectNulls(NullTreatment::RespectNulls)
                )
            });
        let descending = list.clauses.iter().any(|c| {
            matches!(c, FunctionArgumentClause::OrderBy(items)
                if items.iter().any(|i| i.options.asc == Some(false)))
        });
        if distinct
            && (descending || !has_order)
            && f.over.is_none()
            && matches!(name.as_str(), "array_agg" | "string_agg")
        {
            match distinct_in_order(f, &name, descending) {
                Ok(Some(rewritten)) => {
                    *expr = rewritten;
                    return ControlFlow::Continue(());
                }
                Ok(None) => {}
                Err(what) => return ControlFlow::Break(what),
            }
        }
        if distinct && descending && matches!(name.as_str(), "array_agg" | "string_agg") {
            // DataFusion orders DISTINCT aggregates ascending whatever the ORDER BY says.
            return ControlFlow::Break(format!(
                "{}(DISTINCT ... ORDER BY ... DESC)",
                name.to_ascii_uppercase()
            ));
        }
        match name.as_str() {
            "percentile_cont" | "percentile_disc" if respect_nulls => {
                // functions/percentile.rs
                let mut g = f.clone();
                let twin = format!("${name}_respect_nulls");
                g.name = ObjectName::from(vec![Ident::with_quote('"', twin)]);
                g.null_treatment = None;
                if let FunctionArguments::List(l) = &mut g.args {
                    l.clauses
                        .retain(|c| !matches!(c, FunctionArgumentClause::IgnoreOrRespectNulls(_)));
                }
                *expr = Expr::Function(g);
            }
            "array_agg" if has_limit && f.over.is_none() => {
                let mut agg = f.clone();
                if let Some(limit) = take_limit(&mut agg) {
                    *expr = first_n(Expr::Function(agg), limit);
                }
            }
            "array_concat_agg" if f.over.is_none() => {
                let Some(arg) = first_arg(f) else {
                    return ControlFlow::Continue(());
                };
                let mut agg = f.clone();
                let limit = take_limit(&mut agg);
                let mut arrays = array_agg_skipping_nulls(&agg, arg);
                if let Some(limit) = limit {
                    arrays = first_n(arrays, limit);
                }
                *expr = call("flatten", vec![arrays]);
            }
            "string_agg" if f.over.is_none() => {
                if distinct && !has_order {
                    return ControlFlow::Break(
                        "STRING_AGG(DISTINCT ...) without ORDER BY (BigQuery keeps first-occurrence order)"
                            .into(),
                    );
                }
                if n_args == 1
                    && let FunctionArguments::List(list) = &mut f.args
                {
                    list.args
                        .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(
                            Value::SingleQuotedString(",".into()),
                        ))));
                }
                if has_limit {
                    let Some(arg) = first_arg(f) else {
                        return ControlFlow::Continue(());
                    };
                    let delimiter = match &f.args {
                        FunctionArguments::List(list) => match list.args.get(1) {
                            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) => e.clone(),
                            _ => return ControlFlow::Continue(()),
                        },
                        _ => return ControlFlow::Continue(()),
                    };
                    let mut agg = f.clone();
                    let Some(limit) = take_limit(&mut agg) else {
                        return ControlFlow::Continue(());
                    };
                    let values = first_n(array_agg_skipping_nulls(&agg, arg), limit);
                    *expr = call("array_to_string", vec![values, delimiter]);
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
