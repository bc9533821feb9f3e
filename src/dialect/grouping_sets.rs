//! `ROLLUP` / `CUBE` with multi-column elements (`ROLLUP (a, (a, b))`) and `ROLLUP` / `CUBE`
//! nested in `GROUPING SETS` are expanded into plain `GROUPING SETS`, which DataFusion plans:
//! `ROLLUP (x1, ..., xn)` is the sets `(x1, ..., xn)`, ..., `(x1)`, `()`; `CUBE` every subset.
//! Several GROUP BY items multiply their sets. Duplicate sets are kept (BigQuery returns their
//! rows twice).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#group_by_grouping_sets>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Select, Statement,
    VisitMut, VisitorMut,
};

pub fn expand_grouping_sets(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Expand);
}

struct Expand;

impl VisitorMut for Expand {
    type Break = ();

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let GroupByExpr::Expressions(items, modifiers) = &mut select.group_by else {
            return ControlFlow::Continue(());
        };
        if !modifiers.is_empty() || !items.iter().any(needs_expansion) {
            return ControlFlow::Continue(());
        }
        let mut sets: Vec<Vec<Expr>> = vec![vec![]];
        for item in items.iter() {
            let Some(item_sets) = sets_of(item) else {
                return ControlFlow::Continue(());
            };
            let mut product = Vec::new();
            for left in &sets {
                for right in &item_sets {
                    product.push(dedup(left.iter().chain(right).cloned().collect()));
                }
            }
            sets = product;
        }
        *items = vec![Expr::GroupingSets(sets)];
        ControlFlow::Continue(())
    }
}

fn function_kind(e: &Expr) -> Option<(&'static str, Vec<Vec<Expr>>)> {
    let Expr::Function(f) = e else {
        return None;
    };
    let kind = match f.name.to_string().to_ascii_lowercase().as_str() {
        "rollup" => "rollup",
        "cube" => "cube",
        _ => return None,
    };
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    let mut elements = Vec::new();
    for arg in &list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg else {
            return None;
        };
        elements.push(match e {
            Expr::Tuple(items) => items.clone(),
            Expr::Nested(inner) => vec![(**inner).clone()],
            other => vec![other.clone()],
        });
    }
    Some((kind, elements))
}

fn needs_expansion(e: &Expr) -> bool {
    match e {
        Expr::Rollup(elements) | Expr::Cube(elements) => elements.iter().any(|el| el.len() > 1),
        Expr::GroupingSets(sets) => sets
            .iter()
            .any(|set| set.len() == 1 && function_kind(&set[0]).is_some()),
        _ => false,
    }
}

fn rollup(elements: &[Vec<Expr>]) -> Vec<Vec<Expr>> {
    (0..=elements.len())
        .rev()
        .map(|i| elements[..i].concat())
        .collect()
}

fn cube(elements: &[Vec<Expr>]) -> Option<Vec<Vec<Expr>>> {
    if elements.len() > 12 {
        return None;
    }
    let n = elements.len();
    let mut sets = Vec::new();
    for mask in (0..(1u32 << n)).rev() {
        let set = (0..n)
            .filter(|i| mask & (1 << (n - 1 - i)) != 0)
            .flat_map(|i| elements[i].clone())
            .collect();
        sets.push(set);
    }
    Some(sets)
}

/// The grouping sets one GROUP BY item stands for.
fn sets_of(item: &Expr) -> Option<Vec<Vec<Expr>>> {
    match item {
        Expr::Rollup(elements) => Some(rollup(elements)),
        Expr::Cube(elements) => cube(elements),
        Expr::GroupingSets(sets) => {
            let mut out = Vec::new();
            for set in sets {
                match set.as_slice() {
                    [one] => match function_kind(one) {
                        Some(("rollup", elements)) => out.extend(rollup(&elements)),
                        Some((_, elements)) => out.extend(cube(&elements)?),
                        None => out.push(set.clone()),
                    },
                    _ => out.push(set.clone()),
                }
            }
            Some(out)
        }
        Expr::Tuple(_) => None,
        other => Some(vec![vec![other.clone()]]),
    }
}

/// A set's expressions without repeats (by their SQL text).
fn dedup(set: Vec<Expr>) -> Vec<Expr> {
    let mut seen = std::collections::HashSet::new();
    set.into_iter()
        .filter(|e| seen.insert(e.to_string().to_ascii_lowercase()))
        .collect()
}
