//! `x [NOT] LIKE ANY (p1, p2, ...)`: BigQuery's quantified LIKE, rewritten to
//! `x [NOT] LIKE p1 OR x [NOT] LIKE p2 ...` (true if the value matches — or, with NOT, fails to
//! match — at least one pattern; NULLs follow OR's three-valued logic). `LIKE ANY UNNEST(..)`
//! is not supported yet.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#like_operator_quantified>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Statement, visit_expressions_mut};

use crate::error::{DapError, Result};

pub fn expand_like_any(stmt: &mut Statement) -> Result<()> {
    let flow = visit_expressions_mut(stmt, |e| {
        if let Expr::Like {
            negated,
            any: true,
            expr,
            pattern,
            escape_char,
        } = e
        {
            let patterns: Vec<Expr> = match pattern.as_ref() {
                Expr::Tuple(list) => list.clone(),
                Expr::Nested(one) => vec![one.as_ref().clone()],
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
                        op: BinaryOperator::Or,
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
