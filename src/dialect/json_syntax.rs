//! JSON syntax DataFusion's planner does not know, rewritten on the AST:
//!
//! - the literal `JSON '...'` becomes `parse_json('...', 'exact')`;
//! - a NULL in a VALUES column that holds JSON values becomes a JSON-typed NULL (DataFusion
//!   refuses a VALUES column whose rows disagree on the JSON type's field metadata);
//! - options the JSON functions take by name (`wide_number_mode=>'round'`,
//!   `include_arrays=>FALSE`...) become trailing positional arguments, in a fixed order, with
//!   BigQuery's defaults for the ones not given. An unknown name is an error.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#json_literals>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, SetExpr, Statement,
    Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{DapError, Result};

/// Rewrites JSON literals and named JSON function options in `stmt`.
pub fn rewrite_json_syntax(stmt: &mut Statement) -> Result<()> {
    let mut v = JsonSyntax { error: None };
    let _ = stmt.visit(&mut v);
    if let Some(e) = v.error {
        return Err(e);
    }
    Ok(())
}

/// Each function's options, in positional order, with their default values (SQL text).
fn options(function: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match function {
        "parse_json" => &[("wide_number_mode", "'exact'")],
        "to_json" => &[("stringify_wide_numbers", "FALSE")],
        "json_set" => &[("create_if_missing", "TRUE")],
        "json_strip_nulls" => &[("include_arrays", "TRUE"), ("remove_empty", "FALSE")],
        "json_array_append" => &[("append_each_element", "TRUE")],
        "json_array_insert" => &[("insert_each_element", "TRUE")],
        _ => return None,
    })
}

struct JsonSyntax {
    error: Option<DapError>,
}

fn parse_expr(sql: &str) -> Option<Expr> {
    Parser::new(&BigQueryDialect)
        .try_with_sql(sql)
        .ok()?
        .parse_expr()
        .ok()
}

/// Whether an expression is a call that returns the JSON type.
fn is_json_call(e: &Expr) -> bool {
    let Expr::Function(f) = e else { return false };
    let name = f.name.to_string().to_ascii_lowercase();
    let name = name.trim_matches('"');
    matches!(
        name.strip_prefix("safe.").unwrap_or(name),
        "parse_json" | "to_json" | "json_object" | "json_array" | "json_set" | "json_remove"
    )
}

impl VisitorMut for JsonSyntax {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Values(values) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let width = values
            .rows
            .iter()
            .map(|r| r.content.len())
            .max()
            .unwrap_or(0);
        for col in 0..width {
            if !values
                .rows
                .iter()
                .any(|r| r.content.get(col).is_some_and(is_json_call))
            {
                continue;
            }
            for row in values.rows.iter_mut() {
                if let Some(e) = row.content.get_mut(col)
                    && matches!(e, Expr::Value(v) if v.value == Value::Null)
                    && let Some(null) = parse_expr("parse_json(CAST(NULL AS STRING), 'exact')")
                {
                    *e = null;
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::TypedString(ts) if matches!(ts.data_type, DataType::JSON) => {
                let literal = Expr::Value(ts.value.clone());
                if let Some(mut call) = parse_expr("parse_json(NULL, 'exact')")
                    && let Expr::Function(f) = &mut call
                    && let FunctionArguments::List(list) = &mut f.args
                {
                    list.args[0] = FunctionArg::Unnamed(FunctionArgExpr::Expr(literal));
                    *expr = call;
                }
            }
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                let base = name.trim_matches('"');
                let base = base.strip_prefix("safe.").unwrap_or(base);
                let Some(opts) = options(base) else {
                    return ControlFlow::Continue(());
                };
                let FunctionArguments::List(list) = &mut f.args else {
                    return ControlFlow::Continue(());
                };
                let mut positional = Vec::new();
                let mut given: Vec<Option<FunctionArgExpr>> = vec![None; opts.len()];
                for arg in std::mem::take(&mut list.args) {
                    match arg {
                        FunctionArg::Named { name, arg, .. } => {
                            let n = name.value.to_ascii_lowercase();
                            match opts.iter().position(|(o, _)| *o == n) {
                                Some(i) => given[i] = Some(arg),
                                None => {
                                    self.error = Some(DapError::not_supported(format!(
                                        "argument {n} of {base}"
                                    )));
                                    return ControlFlow::Break(());
                                }
                            }
                        }
                        FunctionArg::ExprNamed { .. } => {
                            self.error =
                                Some(DapError::not_supported(format!("named argument of {base}")));
                            return ControlFlow::Break(());
                        }
                        other => positional.push(other),
                    }
                }
                for (g, (_, default)) in given.into_iter().zip(opts) {
                    let e = match g {
                        Some(e) => e,
                        None => match parse_expr(default) {
                            Some(d) => FunctionArgExpr::Expr(d),
                            None => {
                                FunctionArgExpr::Expr(Expr::Value(Value::Null.with_empty_span()))
                            }
                        },
                    };
                    positional.push(FunctionArg::Unnamed(e));
                }
                list.args = positional;
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
