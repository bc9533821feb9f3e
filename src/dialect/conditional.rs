//! BigQuery functions that are spelled differently in DataFusion, rewritten on the AST:
//! `IF(cond, a, b)` becomes `CASE WHEN cond THEN a ELSE b END` (only the chosen branch is
//! evaluated, as in BigQuery), `COUNTIF(x)` becomes `COUNT(CASE WHEN x THEN 1 END)` (0 on no
//! rows, also as a window function), and `LOGICAL_AND` / `LOGICAL_OR` become `bool_and` /
//! `bool_or`.
//!
//! References:
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/conditional_expressions#if>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#countif>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#logical_and>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    CaseWhen, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName,
    Statement, Value, VisitMut, VisitorMut,
};

/// Rewrites IF, COUNTIF, LOGICAL_AND and LOGICAL_OR everywhere in `stmt`.
pub fn rewrite_conditionals(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Conditionals);
}

struct Conditionals;

fn single_name(f: &Function) -> Option<String> {
    match f.name.0.as_slice() {
        [part] => part.as_ident().map(|i| i.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// The plain (unnamed, non-wildcard) arguments of a call without DISTINCT or clauses.
fn plain_args(f: &Function) -> Option<Vec<Expr>> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
        return None;
    }
    list.args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn case_when(condition: Expr, result: Expr, else_result: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen { condition, result }],
        else_result: else_result.map(Box::new),
    }
}

impl VisitorMut for Conditionals {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::Function(f) = expr else {
            return ControlFlow::Continue(());
        };
        let Some(name) = single_name(f) else {
            return ControlFlow::Continue(());
        };
        match name.as_str() {
            "if" if f.over.is_none() => {
                if let Some([c, a, b]) = plain_args(f).as_deref() {
                    *expr = case_when(c.clone(), a.clone(), Some(b.clone()));
                }
            }
            "countif" => {
                if let Some([c]) = plain_args(f).as_deref() {
                    let one = Expr::value(Value::Number("1".into(), false));
                    let arg = case_when(c.clone(), one, None);
                    f.name = ObjectName::from(vec![Ident::new("count")]);
                    if let FunctionArguments::List(list) = &mut f.args {
                        list.args = vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))];
                    }
                }
            }
            "logical_and" => f.name = ObjectName::from(vec![Ident::new("bool_and")]),
            "logical_or" => f.name = ObjectName::from(vec![Ident::new("bool_or")]),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
