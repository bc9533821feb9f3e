//! In a `WITH RECURSIVE` clause every CTE may refer to any other, also one defined later
//! (`WITH RECURSIVE A AS (SELECT * FROM B), B AS (...)`). DataFusion and dap's name resolution
//! see only earlier CTEs, so the CTEs are put in dependency order (a stable topological sort;
//! a CTE's reference to itself is its recursion and does not count). Cycles between different
//! CTEs are left as written (an error, as in BigQuery).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#cte_visibility>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    ObjectName, Query, Statement, Visit, VisitMut, Visitor, VisitorMut,
};

pub fn order_recursive_ctes(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Order);
}

struct Order;

/// The one-part relation names `q` reads, lower-cased.
fn relations(q: &Query) -> Vec<String> {
    struct R(Vec<String>);
    impl Visitor for R {
        type Break = ();
        fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
            if let [part] = name.0.as_slice()
                && let Some(i) = part.as_ident()
            {
                self.0.push(i.value.to_ascii_lowercase());
            }
            ControlFlow::Continue(())
        }
    }
    let mut r = R(Vec::new());
    let _ = q.visit(&mut r);
    r.0
}

impl VisitorMut for Order {
    type Break = ();
    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let Some(with) = q.with.as_mut() else {
            return ControlFlow::Continue(());
        };
        if !with.recursive || with.cte_tables.len() < 2 {
            return ControlFlow::Continue(());
        }
        let names: Vec<String> = with
            .cte_tables
            .iter()
            .map(|c| c.alias.name.value.to_ascii_lowercase())
            .collect();
        // deps[i]: the other CTEs CTE i reads.
        let deps: Vec<Vec<usize>> = with
            .cte_tables
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let read = relations(&c.query);
                (0..names.len())
                    .filter(|&j| j != i && read.contains(&names[j]))
                    .collect()
            })
            .collect();
        if deps
            .iter()
            .enumerate()
            .all(|(i, d)| d.iter().all(|&j| j < i))
        {
            return ControlFlow::Continue(());
        }
        let mut placed = vec![false; names.len()];
        let mut order = Vec::with_capacity(names.len());
        while order.len() < names.len() {
            let Some(next) =
                (0..names.len()).find(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j]))
            else {
                // A cycle between different CTEs: leave the clause as written.
                return ControlFlow::Continue(());
            };
            placed[next] = true;
            order.push(next);
        }
        let mut old: Vec<Option<_>> = std::mem::take(&mut with.cte_tables)
            .into_iter()
            .map(Some)
            .collect();
        with.cte_tables = order.into_iter().filter_map(|i| old[i].take()).collect();
        ControlFlow::Continue(())
    }
}
