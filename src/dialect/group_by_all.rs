//! `GROUP BY ALL` when the SELECT list has window functions: BigQuery groups by every SELECT
//! expression that has no aggregate and no window function; DataFusion would group by the window
//! function too. Such a query is rewritten to `GROUP BY <those expressions>` (or no GROUP BY key
//! at all). Without window functions DataFusion's own GROUP BY ALL already matches.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#group_by_all>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Query, SelectItem, SetExpr, Statement, Visit, VisitMut, Visitor, VisitorMut,
};

/// Aggregate functions whose calls exclude an item from GROUP BY ALL.
const AGGREGATES: &[&str] = &[
    "any_value",
    "approx_count_distinct",
    "approx_quantiles",
    "approx_top_count",
    "approx_top_sum",
    "array_agg",
    "array_concat_agg",
    "avg",
    "bit_and",
    "bit_or",
    "bit_xor",
    "corr",
    "count",
    "countif",
    "covar_pop",
    "covar_samp",
    "grouping",
    "logical_and",
    "logical_or",
    "max",
    "max_by",
    "min",
    "min_by",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "string_agg",
    "sum",
    "var_pop",
    "var_samp",
    "variance",
];

#[derive(Default)]
struct Calls {
    window: bool,
    aggregate: bool,
}

impl Visitor for Calls {
    type Break = ();
    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if let Expr::Function(f) = e {
            if f.over.is_some() {
                self.window = true;
            } else {
                let name = f.name.to_string().to_ascii_lowercase();
                if AGGREGATES.contains(&name.trim_matches('"')) {
                    self.aggregate = true;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn calls(e: &Expr) -> Calls {
    let mut c = Calls::default();
    let _ = e.visit(&mut c);
    c
}

pub fn expand_group_by_all(stmt: &mut Statement) {
    struct Queries;
    impl VisitorMut for Queries {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            if let SetExpr::Select(select) = q.body.as_mut()
                && let GroupByExpr::All(modifiers) = &select.group_by
                && modifiers.is_empty()
            {
                let items: Vec<&Expr> = select
                    .projection
                    .iter()
                    .filter_map(|i| match i {
                        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                            Some(e)
                        }
                        _ => None,
                    })
                    .collect();
                let has_window = items.iter().any(|e| calls(e).window);
                let all_plain = items.len() == select.projection.len();
                if has_window && all_plain {
                    let keys: Vec<Expr> = items
                        .into_iter()
                        .filter(|e| {
                            let c = calls(e);
                            !c.window && !c.aggregate && !matches!(e, Expr::Value(_))
                        })
                        .cloned()
                        .collect();
                    select.group_by = GroupByExpr::Expressions(keys, Vec::new());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut Queries);
}
