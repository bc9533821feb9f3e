//! `SELECT expr.*` on a STRUCT value: `SELECT l.location.* FROM locations l`,
//! `SELECT l.arr[OFFSET(0)].*`. BigQuery expands it into one column per field, in field order.
//! DataFusion only expands `table.*`, so dap plans the expression first to learn its struct type
//! and replaces the item with
//!
//! ```sql
//! get_field(expr, 'f1') AS f1, get_field(expr, 'f2') AS f2, ...
//! ```
//!
//! A qualifier that names a FROM item (`t.*`) is left to DataFusion. When the expression cannot
//! be planned on its own, or is not a STRUCT, or carries `EXCEPT`/`REPLACE`, the item is left
//! alone (DataFusion's error, never other columns).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#select_expression_star>.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::ast::{
    Expr, GroupByExpr, Ident, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Statement, TableFactor, Visit, VisitMut, Visitor, VisitorMut, With,
};

use crate::dialect::ast_build::{call, string};

/// Expands every `struct_expr.*` select item of `stmt`.
pub async fn expand_struct_star(stmt: &mut Statement, state: &SessionState) {
    let mut found = Collect {
        withs: Vec::new(),
        select: 0,
        probes: Vec::new(),
    };
    let _ = Visit::visit(&*stmt, &mut found);
    if found.probes.is_empty() {
        return;
    }
    let mut plans: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    for p in found.probes {
        let Some(plan) = super::by_name::plan_in_scope(&p.with, &p.body, state).await else {
            continue;
        };
        let fields = plan.schema().fields();
        if fields.len() != 1 {
            continue;
        }
        if let DataType::Struct(inner) = fields[0].data_type()
            && !inner.is_empty()
        {
            let names = inner.iter().map(|f| f.name().clone()).collect();
            plans.insert((p.select, p.item), names);
        }
    }
    if plans.is_empty() {
        return;
    }
    let _ = stmt.visit(&mut Apply { select: 0, plans });
}

struct Probe {
    select: usize,
    item: usize,
    with: Vec<With>,
    /// `SELECT expr FROM <the select's FROM>`.
    body: SetExpr,
}

struct Collect {
    withs: Vec<With>,
    select: usize,
    probes: Vec<Probe>,
}

fn range_variables(select: &Select) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |tf: &TableFactor| match tf {
        TableFactor::Table { alias: Some(a), .. }
        | TableFactor::Derived { alias: Some(a), .. }
        | TableFactor::UNNEST { alias: Some(a), .. } => out.push(a.name.value.clone()),
        TableFactor::Table {
            alias: None, name, ..
        } => {
            if let Some(i) = name.0.last().and_then(|p| p.as_ident()) {
                out.push(i.value.clone());
            }
        }
        _ => {}
    };
    for twj in &select.from {
        add(&twj.relation);
        for j in &twj.joins {
            add(&j.relation);
        }
    }
    out
}

/// The struct expression of a `expr.*` item, when it is not a FROM item's `t.*`.
fn struct_expr(item: &SelectItem, range_vars: &[String]) -> Option<Expr> {
    let SelectItem::QualifiedWildcard(kind, opts) = item else {
        return None;
    };
    if opts.opt_exclude.is_some()
        || opts.opt_except.is_some()
        || opts.opt_replace.is_some()
        || opts.opt_rename.is_some()
        || opts.opt_ilike.is_some()
    {
        return None;
    }
    match kind {
        SelectItemQualifiedWildcardKind::Expr(e) => Some(e.clone()),
        SelectItemQualifiedWildcardKind::ObjectName(name) => {
            let parts: Vec<Ident> = name
                .0
                .iter()
                .filter_map(|p| p.as_ident().cloned())
                .collect();
            if parts.len() != name.0.len() || parts.is_empty() {
                return None;
            }
            let is_var = range_vars
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&parts[0].value));
            match (parts.len(), is_var) {
                (1, false) => Some(Expr::Identifier(parts[0].clone())),
                (n, true) if n >= 2 => Some(Expr::CompoundIdentifier(parts)),
                _ => None,
            }
        }
    }
}

impl Visitor for Collect {
    type Break = ();
    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(w) = &q.with {
            self.withs.push(w.clone());
        }
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if q.with.is_some() {
            self.withs.pop();
        }
        ControlFlow::Continue(())
    }
    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        self.select += 1;
        let vars = range_variables(select);
        for (i, item) in select.projection.iter().enumerate() {
            let Some(e) = struct_expr(item, &vars) else {
                continue;
            };
            let mut probe = select.clone();
            probe.projection = vec![SelectItem::UnnamedExpr(e)];
            probe.selection = None;
            probe.group_by = GroupByExpr::Expressions(vec![], vec![]);
            probe.having = None;
            probe.qualify = None;
            probe.distinct = None;
            probe.named_window.clear();
            self.probes.push(Probe {
                select: self.select,
                item: i,
                with: self.withs.clone(),
                body: SetExpr::Select(Box::new(probe)),
            });
        }
        ControlFlow::Continue(())
    }
}

struct Apply {
    select: usize,
    plans: HashMap<(usize, usize), Vec<String>>,
}

impl VisitorMut for Apply {
    type Break = ();
    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        self.select += 1;
        let vars = range_variables(select);
        let mut out = Vec::with_capacity(select.projection.len());
        for (i, item) in std::mem::take(&mut select.projection)
            .into_iter()
            .enumerate()
        {
            match (
                self.plans.remove(&(self.select, i)),
                struct_expr(&item, &vars),
            ) {
                (Some(fields), Some(e)) => {
                    for f in fields {
                        out.push(SelectItem::ExprWithAlias {
                            expr: call("get_field", vec![e.clone(), string(f.clone())]),
                            alias: Ident::with_quote('`', f),
                        });
                    }
                }
                _ => out.push(item),
            }
        }
        select.projection = out;
        ControlFlow::Continue(())
    }
}
