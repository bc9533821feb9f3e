//! `x [NOT] LIKE ANY (p1, p2, ...)`: BigQuery's quantified LIKE, rewritten to
//! `x [NOT] LIKE p1 OR x [NOT] LIKE p2 ...` (true if the value matches — or, with NOT, fails to
//! match — at least one pattern; NULLs follow OR's three-valued logic). `x [NOT] LIKE ALL (...)`
//! is the same with AND. `x [NOT] LIKE ANY UNNEST(array)` becomes
//! `"$like_quantified"(x, array, '[not] any')` (see `functions::like_quantified`), and
//! `x LIKE ANY (subquery)` first becomes `x LIKE ANY UNNEST(ARRAY(subquery))`
//! ([`subquery_operands`], before `ARRAY(subquery)` is rewritten).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#like_operator_quantified>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, Statement, visit_expressions_mut,
};

use super::ast_build::{call, call_quoted, string};

use crate::error::{DapError, Result};

/// `x [NOT] LIKE ANY (subquery)` → `x [NOT] LIKE ANY UNNEST(ARRAY(subquery))`.
pub fn subquery_operands(stmt: &mut Statement) {
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Like {
            any: true, pattern, ..
        } = e
            && let Expr::Subquery(q) = pattern.as_ref()
        {
            let array = Expr::Function(Function {
                name: ObjectName::from(vec![Ident::new("ARRAY")]),
                uses_odbc_syntax: false,
                parameters: FunctionArguments::None,
                args: FunctionArguments::Subquery(q.clone()),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: vec![],
            });
            **pattern = call("UNNEST", vec![array]);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The array of `UNNEST(array)` in expression position.
fn unnest_operand(e: &Expr) -> Option<Expr> {
    let Expr::Function(f) = e else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("unnest") {
        return None;
    }
    match &f.args {
        FunctionArguments::List(FunctionArgumentList { args, .. }) => match args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(a))] => Some(a.clone()),
            _ => None,
        },
        _ => None,
    }
}

pub fn expand_like_any(stmt: &mut Statement) -> Result<()> {
    let flow = visit_expressions_mut(stmt, |e| {
        if let Expr::Like {
            negated,
            any,
            expr,
            pattern,
            escape_char,
        } = e
        {
            // sqlparser reads `LIKE ALL (p, ...)` as a call of a function named ALL.
            let all_args = match pattern.as_ref() {
                Expr::Function(f) if !*any && f.name.to_string().eq_ignore_ascii_case("all") => {
                    match &f.args {
                        datafusion::sql::sqlparser::ast::FunctionArguments::List(list) => {
                            let mut args = Vec::new();
                            for a in &list.args {
                                match a {
                                    datafusion::sql::sqlparser::ast::FunctionArg::Unnamed(
                                        datafusion::sql::sqlparser::ast::FunctionArgExpr::Expr(x),
                                    ) => args.push(x.clone()),
                                    _ => {
                                        return ControlFlow::Break(DapError::not_supported(
                                            "LIKE ALL with this operand",
                                        ));
                                    }
                                }
                            }
                            Some(args)
                        }
                        _ => {
                            return ControlFlow::Break(DapError::not_supported(
                                "LIKE ALL with this operand",
                            ));
                        }
                    }
                }
                _ => None,
            };
            if !*any && all_args.is_none() {
                return ControlFlow::Continue(());
            }
            if *any && let Some(array) = unnest_operand(pattern) {
                if escape_char.is_some() {
                    return ControlFlow::Break(DapError::not_supported(
                        "LIKE ANY UNNEST with ESCAPE",
                    ));
                }
                let mode = if *negated { "not any" } else { "any" };
                *e = call_quoted(
                    super::functions::like_quantified::NAME,
                    vec![(**expr).clone(), array, string(mode)],
                );
                return ControlFlow::Continue(());
            }
            let combine = if all_args.is_some() {
                BinaryOperator::And
            } else {
                BinaryOperator::Or
            };
            let patterns: Vec<Expr> = match (all_args, pattern.as_ref()) {
                (Some(args), _) => args,
                (None, Expr::Tuple(list)) => list.clone(),
                (None, Expr::Nested(one)) => vec![one.as_ref().clone()],
                _ => {
                    return ControlFlow::Break(DapError::not_supported(
                        "LIKE ANY with this operand",
                    ));
                }
            };
            let mut out: Option<Expr> = None;
            for p in patterns {
                let one = Expr::Like {
                    negated: *negated,
                    any: false,
                    expr: expr.clone(),
                    pattern: Box::new(p),
                    escape_char: escape_char.clone(),
                };
                out = Some(match out {
                    None => one,
                    Some(prev) => Expr::BinaryOp {
                        left: Box::new(prev),
                        op: combine.clone(),
                        right: Box::new(one),
                    },
                });
            }
            if let Some(o) = out {
                *e = Expr::Nested(Box::new(o));
            }
        }
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}
