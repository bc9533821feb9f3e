//! Set operations `BY NAME`: `q1 UNION|INTERSECT|EXCEPT ALL|DISTINCT BY NAME q2` matches q2's
//! columns to q1's by name. Both sides must have the same column names (compared without
//! case); the result has q1's columns in q1's order. `INNER` keeps the common columns, `LEFT
//! [OUTER]` q1's, `FULL [OUTER]` q1's then q2's others (NULL where a side lacks one), `ON (cols)`
//! the listed ones; `CORRESPONDING [BY (cols)]` is `INNER ... BY NAME [ON (cols)]` and `STRICT
//! CORRESPONDING` plain `BY NAME` (see the marker [`dialect::pipe`](crate::dialect::pipe) puts
//! on the right side). dap plans both sides first to learn
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
    mode: String,
    on: Vec<String>,
}

/// How one operation is rewritten: the output columns and each side's columns.
struct Plan {
    columns: Vec<String>,
    left: Vec<String>,
    right: Vec<String>,
}

/// The marker `dialect::pipe` wraps the right side of `INNER|FULL|LEFT ... BY NAME [ON (..)]` and
/// `CORRESPONDING` in: `(SELECT * FROM (right) AS `_dap_by_name:<mode>:<cols>`)`.
fn marker(right: &SetExpr) -> Option<(String, Vec<String>, SetExpr)> {
    let SetExpr::Query(q) = right else {
        return None;
    };
    let SetExpr::Select(s) = q.body.as_ref() else {
        return None;
    };
    let Some(datafusion::sql::sqlparser::ast::TableFactor::Derived {
        subquery,
        alias: Some(alias),
        ..
    }) = s.from.first().map(|t| &t.relation)
    else {
        return None;
    };
    let rest = alias.name.value.strip_prefix("_dap_by_name:")?;
    let (mode, cols) = rest.split_once(':')?;
    let cols = cols
        .split(',')
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    Some((mode.to_string(), cols, (*subquery.body).clone()))
}

fn find<'a>(names: &'a [String], name: &str) -> Option<&'a String> {
    names.iter().find(|n| n.eq_ignore_ascii_case(name))
}

/// The output columns of one operation, or BigQuery's error.
fn output_columns(p: &Probe, left: &[String], right: &[String]) -> Result<Vec<String>> {
    let op = p.op;
    let fail = |why: String| Err(DapError::Invalid(format!("{op} BY NAME: {why}")));
    let mut l: Vec<String> = left.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut r: Vec<String> = right.iter().map(|n| n.to_ascii_lowercase()).collect();
    l.sort();
    r.sort();
    if l.windows(2).any(|w| w[0] == w[1]) || r.windows(2).any(|w| w[0] == w[1]) {
        return fail("an input has duplicate column names".into());
    }
    if !p.on.is_empty() {
        for c in &p.on {
            let (in_l, in_r) = (find(left, c).is_some(), find(right, c).is_some());
            let ok = match p.mode.as_str() {
                "full" => in_l || in_r,
                "left" => in_l,
                _ => in_l && in_r,
            };
            if !ok {
                return fail(format!("column {c} is missing from an input"));
            }
        }
        return Ok(p.on.clone());
    }
    match p.mode.as_str() {
        "inner" => {
            let cols: Vec<String> = left
                .iter()
                .filter(|c| find(right, c).is_some())
                .cloned()
                .collect();
            if cols.is_empty() {
                return fail("the inputs have no column names in common".into());
            }
            Ok(cols)
        }
        "left" => Ok(left.to_vec()),
        "full" => {
            let mut cols = left.to_vec();
            cols.extend(right.iter().filter(|c| find(left, c).is_none()).cloned());
            Ok(cols)
        }
        _ => {
            if l != r {
                return fail(format!(
                    "both inputs must have the same column names; got ({}) and ({})",
                    left.join(", "),
                    right.join(", ")
                ));
            }
            Ok(left.to_vec())
        }
    }
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
        let columns = output_columns(&p, &left, &right)?;
        orders.push_back(Plan {
            columns,
            left,
            right,
        });
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
                let (mode, on, right) =
                    marker(right).unwrap_or_else(|| ("strict".into(), vec![], (**right).clone()));
                self.probes.push(Probe {
                    with: self.withs.clone(),
                    left: (**left).clone(),
                    right,
                    op: *set_op,
                    mode,
                    on,
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
pub(super) async fn names(
    withs: &[With],
    body: &SetExpr,
    state: &SessionState,
) -> Option<Vec<String>> {
    let plan = plan_in_scope(withs, body, state).await?;
    Some(
        plan.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    )
}

/// `body` planned alone, with the WITH clauses in scope (None when it cannot be planned so).
pub(super) async fn plan_in_scope(
    withs: &[With],
    body: &SetExpr,
    state: &SessionState,
) -> Option<datafusion::logical_expr::LogicalPlan> {
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
    state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            Statement::Query(Box::new(q)),
        )))
        .await
        .ok()
}

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

struct Apply(VecDeque<Plan>);

/// `SELECT <columns> FROM (side) AS _by_name`, NULL for a column the side lacks.
fn project(side: SetExpr, names: &[String], columns: &[String]) -> Option<SetExpr> {
    let list = columns
        .iter()
        .map(|c| match find(names, c) {
            Some(n) => format!("{} AS {}", quoted(n), quoted(c)),
            None => format!("NULL AS {}", quoted(c)),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut wrapper = parse_query(&format!("SELECT {list} FROM (SELECT 1) AS _by_name"))?;
    let mut sub = wrapper.clone();
    sub.body = Box::new(side);
    if let SetExpr::Select(s) = wrapper.body.as_mut()
        && let Some(datafusion::sql::sqlparser::ast::TableFactor::Derived { subquery, .. }) =
            s.from.first_mut().map(|t| &mut t.relation)
    {
        **subquery = sub;
    }
    Some(*wrapper.body)
}

fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

fn apply_body(body: &mut SetExpr, orders: &mut VecDeque<Plan>) {
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
        let Some(plan) = orders.pop_front() else {
            return;
        };
        let inner_right = marker(right)
            .map(|(_, _, r)| r)
            .unwrap_or_else(|| (**right).clone());
        if !same_names(&plan.left, &plan.columns)
            && let Some(l) = project((**left).clone(), &plan.left, &plan.columns)
        {
            **left = l;
        }
        if let Some(r) = project(inner_right, &plan.right, &plan.columns) {
            **right = r;
        }
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
