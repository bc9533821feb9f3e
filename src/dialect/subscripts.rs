//! `arr[OFFSET(i)]`, `arr[ORDINAL(i)]`, `arr[SAFE_OFFSET(i)]`, `arr[SAFE_ORDINAL(i)]` become calls
//! of the subscript functions of [`super::functions::array_subscript`]; other accesses in the
//! same chain (`.field`, `['key']`) are kept around them. `(expr).field` on a computed STRUCT
//! becomes `(expr)['field']`, which DataFusion plans as a field access.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator>.

use super::ast_build::call;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, Subscript, Value,
    VisitMut, VisitorMut,
};

use super::functions::array_subscript::function_for;

/// Rewrites the keyword subscripts of every expression in `stmt`.
pub fn rewrite_subscripts(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Subscripts);
}

struct Subscripts;

/// `(function name, index)` of a `[OFFSET(i)]`-style subscript.
fn keyword_subscript(access: &AccessExpr) -> Option<(&'static str, Expr)> {
    let AccessExpr::Subscript(Subscript::Index {
        index: Expr::Function(f),
    }) = access
    else {
        return None;
    };
    let [part] = f.name.0.as_slice() else {
        return None;
    };
    let name = function_for(&part.as_ident()?.value)?;
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => Some((name, e.clone())),
        _ => None,
    }
}

fn with_chain(root: Expr, chain: Vec<AccessExpr>) -> Expr {
    if chain.is_empty() {
        root
    } else {
        Expr::CompoundFieldAccess {
            root: Box::new(root),
            access_chain: chain,
        }
    }
}

impl VisitorMut for Subscripts {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::CompoundFieldAccess { root, access_chain } = expr else {
            return ControlFlow::Continue(());
        };
        // `t.col[...]`: leading `.name` parts of a plain name stay one path, so the column's
        // spelling is folded like any `t.col`.
        if matches!(
            root.as_ref(),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_)
        ) {
            let mut path = match root.as_ref() {
                Expr::Identifier(i) => vec![i.clone()],
                Expr::CompoundIdentifier(ids) => ids.clone(),
                _ => vec![],
            };
            let lead = access_chain
                .iter()
                .take_while(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_))))
                .count();
            if lead > 0 {
                for a in access_chain.drain(..lead) {
                    if let AccessExpr::Dot(Expr::Identifier(i)) = a {
                        path.push(i);
                    }
                }
                **root = Expr::CompoundIdentifier(path);
            }
            if access_chain.is_empty() {
                *expr = std::mem::replace(root.as_mut(), Expr::value(Value::Null));
                return ControlFlow::Continue(());
            }
        }
        let Expr::CompoundFieldAccess { access_chain, .. } = expr else {
            return ControlFlow::Continue(());
        };
        // `(expr).field` on a computed STRUCT: DataFusion plans only `(expr)['field']`.
        for access in access_chain.iter_mut() {
            if let AccessExpr::Dot(Expr::Identifier(id)) = access {
                let name = Expr::value(Value::SingleQuotedString(id.value.clone()));
                *access = AccessExpr::Subscript(Subscript::Index { index: name });
            }
        }
        if !access_chain.iter().any(|a| keyword_subscript(a).is_some()) {
            return ControlFlow::Continue(());
        }
        let placeholder = Expr::value(Value::Null);
        let Expr::CompoundFieldAccess { root, access_chain } = std::mem::replace(expr, placeholder)
        else {
            return ControlFlow::Continue(());
        };
        let mut current = *root;
        let mut pending = Vec::new();
        for access in access_chain {
            if let Some((name, index)) = keyword_subscript(&access) {
                let base = with_chain(current, std::mem::take(&mut pending));
                current = call(name, vec![base, index]);
            } else {
                pending.push(access);
            }
        }
        *expr = with_chain(current, pending);
        ControlFlow::Continue(())
    }
}
