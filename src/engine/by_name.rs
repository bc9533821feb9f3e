//! Set operations `BY NAME`: `q1 UNION|INTERSECT|EXCEPT ALL|DISTINCT BY NAME q2` matches q2's
//! columns to q1's by name. Both sides must have the same column names (compared without
//! case); the result has q1's columns in q1's order. dap plans both sides first to learn
//! their names, then reorders q2 (`SELECT c1, c2 FROM (q2)`) and runs a positional set
//! operation. DataFusion's own UNION BY NAME would instead fill missing columns with NULL
//! where BigQuery fails, so differing names are an error here. When a side cannot be planned
//! on its own (e.g. it is correlated), the operation is refused.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#set_operators>.

use std::collections::VecDeque;
use std::ops::ControlFlow;

use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::ast::{
    Query, SetExpr, SetOperator, SetQuantifier, Statement, Visit, VisitMut, Visitor, VisitorMut,
    With,
};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::error::{DapError, Result};

fn by_name(q: &SetQuantifier) -> Option<SetQuantifier> {
    match q {
        SetQuantifier::ByName => Some(SetQuantifier::None),
        SetQuantifier::AllByName => Some(SetQuantifier::All),
        SetQuantifier::DistinctByName => Some(SetQuantifier::Distinct),
        _ => None,
    }
}

/// One BY NAME operation to probe: the WITH clauses in scope and both sides.
struct Probe {
    with: Vec<With>,
    left: SetExpr,
    right: SetExpr,
    op: SetOperator,
}

/// Rewrites every `BY NAME` set operation of `stmt` into a positional one.
pub async fn rewrite_by_name(stmt: &mut Statement, state: &SessionState) -> Result<()> {
    let mut found = Collect {
        withs: Vec::new(),
        probes: Vec::new(),
    };
    let _ = Visit::visit(&*stmt, &mut found);
    if found.probes.is_empty() {
        return Ok(());
    }
    let mut orders = VecDeque::new();
    for p in found.probes {
        let left = names(&p.with, &p.left, state).await;
        let right = names(&p.with, &p.right, state).await;
        let (Some(left), Some(right)) = (left, right) else {
            return Err(DapError::not_supported(format!(
                "{} BY NAME with a side dap cannot plan on its own",
                p.op
            )));
        };
        let mut l: Vec<String> = left.iter().map(|n| n.to_ascii_lowercase()).collect();
        let mut r: Vec<String> = right.iter().map(|n| n.to_ascii_lowercase()).collect();
        l.sort();
        r.sort();
        if l != r || l.windows(2).any(|w| w[0] == w[1]) {
            return Err(DapError::Invalid(format!(
                "{} BY NAME requires both inputs to have the same column names; got ({}) and ({})",
                p.op,
                left.join(", "),
                right.join(", ")
            )));
        }
        orders.push_back(left);
    }
    let mut apply = Apply(orders);
    let _ = stmt.visit(&mut apply);
    Ok(())
}

struct Collect {
    withs: Vec<With>,
    probes: Vec<Probe>,
}

fn walk<'a>(body: &'a SetExpr, out: &mut Vec<&'a SetExpr>) {
    if let SetExpr::SetOperation { left, right, .. } = body {
        walk(left, out);
        walk(right, out);
        out.push(body);
    }
}

impl Visitor for Collect {
    type Break = ();
    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(w) = &q.with {
            self.withs.push(w.clone());
        }
        let mut ops = Vec::new();
        walk(&q.body, &mut ops);
        for op in ops {
            if let SetExpr::SetOperation {
                op: set_op,
                set_quantifier,
                left,
                right,
            } = op
                && by_name(set_quantifier).is_some()
            {
                self.probes.push(Probe {
                    with: self.withs.clone(),
                    left: (**left).clone(),
                    right: (**right).clone(),
                    op: *set_op,
                });
            }
        }
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if q.with.is_some() {
            self.withs.pop();
        }
        ControlFlow::Continue(())
    }
}

fn parse_query(sql: &str) -> Option<Query> {
    match Parser::parse_sql(&BigQueryDialect, sql).ok()?.pop()? {
        Statement::Query(q) => Some(*q),
        _ => None,
    }
}

/// The output column names of `body` planned alone (with the WITH clauses in scope).
async fn names(withs: &[With], body: &SetExpr, state: &SessionState) -> Option<Vec<String>> {
    let mut q = parse_query("SELECT 1")?;
    q.body = Box::new(body.clone());
    // Innermost WITH closest to the body, so inner names shadow outer ones.
    let mut levels = withs.iter().rev();
    q.with = levels.next().cloned();
    for w in levels {
        let mut outer = q.clone();
        outer.with = Some(w.clone());
        outer.body = Box::new(SetExpr::Query(Box::new(q)));
        outer.order_by = None;
        outer.limit_clause = None;
        q = outer;
    }
    let plan = state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            Statement::Query(Box::new(q)),
        )))
        .await
        .ok()?;
    Some(
        plan.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    )
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

struct Apply(VecDeque<Vec<String>>);

fn apply_body(body: &mut SetExpr, orders: &mut VecDeque<Vec<String>>) {
    if let SetExpr::SetOperation {
        left,
        right,
        set_quantifier,
        ..
    } = body
    {
        apply_body(left, orders);
        apply_body(right, orders);
        let Some(positional) = by_name(set_quantifier) else {
            return;
        };
        let Some(order) = orders.pop_front() else {
            return;
        };
        let list = order
            .iter()
            .map(|n| quoted(n))
            .collect::<Vec<_>>()
            .join(", ");
        let Some(mut wrapper) = parse_query(&format!("SELECT {list} FROM (SELECT 1) AS _by_name"))
        else {
            return;
        };
        let mut sub = wrapper.clone();
        sub.body = right.clone();
        if let SetExpr::Select(s) = wrapper.body.as_mut()
            && let Some(datafusion::sql::sqlparser::ast::TableFactor::Derived { subquery, .. }) =
                s.from.first_mut().map(|t| &mut t.relation)
        {
            **subquery = sub;
        }
        **right = *wrapper.body;
        *set_quantifier = positional;
    }
}

impl VisitorMut for Apply {
    type Break = ();
    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        apply_body(&mut q.body, &mut self.0);
        ControlFlow::Continue(())
    }
}
