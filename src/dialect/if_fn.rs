//! `IF(condition, a, b)` becomes `CASE WHEN condition THEN a ELSE b END` (DataFusion has no IF).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/conditional_expressions#if>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    CaseWhen, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement,
    visit_expressions_mut,
};

pub fn if_to_case(stmt: &mut Statement) {
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Function(f) = e
            && f.name.0.len() == 1
            && f.name.to_string().eq_ignore_ascii_case("if")
            && let FunctionArguments::List(list) = &f.args
            && list.args.len() == 3
        {
            let args: Vec<Expr> = list
                .args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x.clone()),
                    _ => None,
                })
                .collect();
            if let [c, a, b] = args.as_slice() {
                *e = Expr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: vec![CaseWhen {
                        condition: c.clone(),
                        result: a.clone(),
                    }],
                    else_result: Some(Box::new(b.clone())),
                };
            }
        }
        ControlFlow::<()>::Continue(())
    });
}
