//! `x [NOT] LIKE ANY (p1, p2, ...)`: BigQuery's quantified LIKE, rewritten to
//! `x [NOT] LIKE p1 OR x [NOT] LIKE p2 ...` (true if the value matches — or, with NOT, fails to
//! match — at least one pattern; NULLs follow OR's three-valued logic). `x [NOT] LIKE ALL (...)`
//! is the same with AND. `LIKE ANY UNNEST(..)` and `LIKE ANY (subquery)` are not supported yet.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#like_operator_quantified>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Statement, visit_expressions_mut};

use crate::error::{DapError, Result};

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
