//! `AGG(x HAVING MAX h)` / `AGG(x HAVING MIN h)`: the aggregate over only the rows whose `h` is
//! the group's maximum (minimum). The call becomes `"$having_max_agg"(x, h)` (see
//! `functions::having_bound`) for AVG, SUM, COUNT, MIN and MAX; other aggregates, DISTINCT,
//! `COUNT(*)` and further clauses (ORDER BY, LIMIT) with HAVING fail with `not supported`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate-function-calls#max_min_clause>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, HavingBoundKind,
    Ident, ObjectName, Statement, visit_expressions_mut,
};

use super::functions::having_bound::{WRAPPED, wrapper_name};
use crate::error::{DapError, Result};

pub fn rewrite_having_bounds(stmt: &mut Statement) -> Result<()> {
    let flow = visit_expressions_mut(stmt, |e| {
        let Expr::Function(f) = e else {
            return ControlFlow::Continue(());
        };
        let FunctionArguments::List(list) = &mut f.args else {
            return ControlFlow::Continue(());
        };
        let Some(pos) = list
            .clauses
            .iter()
            .position(|c| matches!(c, FunctionArgumentClause::Having(_)))
        else {
            return ControlFlow::Continue(());
        };
        let name = f.name.to_string().to_ascii_lowercase();
        let fail = |what: &str| ControlFlow::Break(DapError::not_supported(what.to_string()));
        if !WRAPPED.contains(&name.as_str()) {
            return fail(&format!("HAVING MAX/MIN in {}", name.to_ascii_uppercase()));
        }
        if list.clauses.len() != 1
            || list.duplicate_treatment.is_some()
            || f.over.is_some()
            || f.filter.is_some()
            || f.null_treatment.is_some()
        {
            return fail("HAVING MAX/MIN with DISTINCT, other clauses or OVER");
        }
        if list
            .args
            .iter()
            .any(|a| !matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(_))))
        {
            return fail("HAVING MAX/MIN with this argument");
        }
        let FunctionArgumentClause::Having(bound) = list.clauses.remove(pos) else {
            return ControlFlow::Continue(());
        };
        let max = matches!(bound.0, HavingBoundKind::Max);
        list.args
            .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(bound.1)));
        f.name = ObjectName::from(vec![Ident::with_quote('"', wrapper_name(&name, max))]);
        ControlFlow::Continue(())
    });
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}
