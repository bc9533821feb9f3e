//! A range variable used as a value: `SELECT t FROM tbl AS t`, `TO_JSON(t)`, `ARRAY_AGG(t)`.
//! In BigQuery the name of a FROM item stands for the whole row as a STRUCT whose fields are the
//! item's columns, in order. DataFusion only knows `t.col`, so dap plans the FROM item alone to
//! learn its columns, then replaces the bare name with
//!
//! ```sql
//! STRUCT(t.c1 AS c1, t.c2 AS c2, ...)        -- and names a bare select item `t`
//! ```
//!
//! The rewrite is left out (the name stays an unknown column, an error) whenever it could
//! differ from BigQuery: the SELECT has an outer join (the row of a NULL-extended side is a
//! NULL struct, not a struct of NULLs), a column or select alias has the same name, or the FROM
//! item cannot be planned on its own (e.g. it is correlated), or the statement has a
//! `SELECT AS VALUE` (whose rows are values, not rows of columns). Only names in the SELECT's own
//! clauses are rewritten, not in its subqueries.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#range_variables>.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, JoinOperator, Query, Select, SelectItem, SetExpr, Statement, TableFactor,
    ValueTableMode, Visit, VisitMut, Visitor, VisitorMut, With,
};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Rewrites every range variable of `stmt` used as a value into a STRUCT of its columns.
pub async fn expand_range_values(stmt: &mut Statement, state: &SessionState) {
    let mut found = Collect {
        withs: Vec::new(),
        select: 0,
        probes: Vec::new(),
        value_table: false,
    };
    let _ = Visit::visit(&*stmt, &mut found);
    if found.probes.is_empty() || found.value_table {
        return;
    }
    let mut plans: HashMap<usize, Vec<(Ident, Vec<String>)>> = HashMap::new();
    for p in found.probes {
        let mut all = Vec::new();
        let mut ok = true;
        for item in &p.items {
            match columns(&p.with, item, state).await {
                Some(c) => all.push(c),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        let clash = |name: &Ident| {
            all.iter()
                .flatten()
                .any(|c| c.eq_ignore_ascii_case(&name.value))
        };
        let mut rewrites = Vec::new();
        for (i, name) in p.names.iter().enumerate() {
            if let Some(name) = name
                && p.used.iter().any(|u| u.eq_ignore_ascii_case(&name.value))
                && !clash(name)
                && !all[i].is_empty()
            {
                rewrites.push((name.clone(), all[i].clone()));
            }
        }
        if !rewrites.is_empty() {
            plans.insert(p.select, rewrites);
        }
    }
    if plans.is_empty() {
        return;
    }
    let _ = stmt.visit(&mut Apply { select: 0, plans });
}

/// One SELECT that mentions the name of one of its FROM items as a bare identifier.
struct Probe {
    select: usize,
    with: Vec<With>,
    /// The SELECT's FROM items (each planned alone to learn its columns).
    items: Vec<TableFactor>,
    /// Each item's range variable, when it has one dap can rewrite.
    names: Vec<Option<Ident>>,
    /// Bare identifiers in the SELECT's own clauses.
    used: Vec<String>,
}

struct Collect {
    withs: Vec<With>,
    select: usize,
    probes: Vec<Probe>,
    /// A `SELECT AS VALUE` somewhere: its rows are values, not structs of columns, so a range
    /// variable over it must not be rewritten (the whole statement is left alone).
    value_table: bool,
}

fn range_variable(tf: &TableFactor) -> Option<Ident> {
    match tf {
        TableFactor::Table {
            alias: Some(a),
            args: None,
            ..
        } if a.columns.is_empty() => Some(a.name.clone()),
        TableFactor::Table {
            alias: None,
            name,
            args: None,
            ..
        } => name.0.last().and_then(|p| p.as_ident()).cloned(),
        TableFactor::Derived {
            alias: Some(a),
            subquery,
            ..
        } if a.columns.is_empty() && no_null_rows(subquery) => Some(a.name.clone()),
        _ => None,
    }
}

/// False for the derived table [`super::struct_unnest`] makes of `UNNEST(array of structs)`
/// unless every element is a struct constructor: a NULL element is a NULL row in BigQuery but
/// would read as a struct of NULLs here.
fn no_null_rows(q: &Query) -> bool {
    let SetExpr::Select(s) = q.body.as_ref() else {
        return true;
    };
    let Some(TableFactor::UNNEST {
        alias: Some(a),
        array_exprs,
        ..
    }) = s.from.first().map(|t| &t.relation)
    else {
        return true;
    };
    if a.name.value != "_u" {
        return true;
    }
    let mut e = array_exprs.first();
    while let Some(Expr::Cast { expr, .. } | Expr::Nested(expr)) = e {
        e = Some(expr.as_ref());
    }
    match e {
        Some(Expr::Array(arr)) => arr
            .elem
            .iter()
            .all(|x| matches!(x, Expr::Tuple(_) | Expr::Struct { .. })),
        _ => false,
    }
}

/// The FROM items of `select`, or None when it has an outer (or other non-inner) join.
fn from_items(select: &Select) -> Option<Vec<TableFactor>> {
    let mut items = Vec::new();
    for twj in &select.from {
        items.push(twj.relation.clone());
        for j in &twj.joins {
            if !matches!(
                j.join_operator,
                JoinOperator::Join(_) | JoinOperator::Inner(_) | JoinOperator::CrossJoin(_)
            ) {
                return None;
            }
            items.push(j.relation.clone());
        }
    }
    Some(items)
}

/// Bare identifiers (and select aliases) in the clauses of `select`, not in its subqueries.
fn bare_identifiers(select: &Select) -> Vec<String> {
    struct Idents {
        depth: usize,
        out: Vec<String>,
    }
    impl Visitor for Idents {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth += 1;
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.depth -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            if self.depth == 0
                && let Expr::Identifier(i) = e
            {
                self.out.push(i.value.clone());
            }
            ControlFlow::Continue(())
        }
    }
    let mut clauses = select.clone();
    clauses.from.clear();
    let mut v = Idents {
        depth: 0,
        out: Vec::new(),
    };
    let _ = clauses.visit(&mut v);
    v.out
}

fn select_aliases(select: &Select) -> Vec<String> {
    select
        .projection
        .iter()
        .filter_map(|p| match p {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            _ => None,
        })
        .collect()
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
        if matches!(
            select.value_table_mode,
            Some(ValueTableMode::AsValue | ValueTableMode::DistinctAsValue)
        ) {
            self.value_table = true;
        }
        let Some(items) = from_items(select) else {
            return ControlFlow::Continue(());
        };
        let names: Vec<Option<Ident>> = items.iter().map(range_variable).collect();
        let used = bare_identifiers(select);
        let aliases = select_aliases(select);
        let names: Vec<Option<Ident>> = names
            .into_iter()
            .map(|n| n.filter(|n| !aliases.iter().any(|a| a.eq_ignore_ascii_case(&n.value))))
            .collect();
        let hit = names
            .iter()
            .flatten()
            .any(|n| used.iter().any(|u| u.eq_ignore_ascii_case(&n.value)));
        // Two FROM items with the same range variable: leave it to DataFusion's error.
        let mut seen: Vec<String> = names
            .iter()
            .flatten()
            .map(|n| n.value.to_ascii_lowercase())
            .collect();
        seen.sort();
        let unique = seen.windows(2).all(|w| w[0] != w[1]);
        if hit && unique {
            self.probes.push(Probe {
                select: self.select,
                with: self.withs.clone(),
                items,
                names,
                used,
            });
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

/// The column names of `SELECT * FROM item`, planned with the WITH clauses in scope.
async fn columns(withs: &[With], item: &TableFactor, state: &SessionState) -> Option<Vec<String>> {
    let mut q = parse_query("SELECT * FROM _dap_probe")?;
    if let SetExpr::Select(s) = q.body.as_mut() {
        s.from.first_mut()?.relation = item.clone();
    }
    let body = (*q.body).clone();
    super::by_name::names(withs, &body, state).await
}

struct Apply {
    select: usize,
    plans: HashMap<usize, Vec<(Ident, Vec<String>)>>,
}

fn row_struct(name: &Ident, columns: &[String]) -> Expr {
    Expr::Struct {
        values: columns
            .iter()
            .map(|c| Expr::Named {
                expr: Box::new(Expr::CompoundIdentifier(vec![
                    name.clone(),
                    Ident::with_quote('`', c.clone()),
                ])),
                name: Ident::with_quote('`', c.clone()),
            })
            .collect(),
        fields: vec![],
    }
}

impl VisitorMut for Apply {
    type Break = ();
    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        self.select += 1;
        let Some(rewrites) = self.plans.remove(&self.select) else {
            return ControlFlow::Continue(());
        };
        let find = |i: &Ident| {
            rewrites
                .iter()
                .find(|(n, _)| n.value.eq_ignore_ascii_case(&i.value))
        };
        for item in select.projection.iter_mut() {
            if let SelectItem::UnnamedExpr(Expr::Identifier(i)) = item
                && find(i).is_some()
            {
                let alias = i.clone();
                *item = SelectItem::ExprWithAlias {
                    expr: Expr::Identifier(alias.clone()),
                    alias,
                };
            }
        }
        struct Replace<'a> {
            depth: usize,
            rewrites: &'a [(Ident, Vec<String>)],
        }
        impl VisitorMut for Replace<'_> {
            type Break = ();
            fn pre_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
                self.depth += 1;
                ControlFlow::Continue(())
            }
            fn post_visit_query(&mut self, _: &mut Query) -> ControlFlow<()> {
                self.depth -= 1;
                ControlFlow::Continue(())
            }
            fn post_visit_expr(&mut self, e: &mut Expr) -> ControlFlow<()> {
                if self.depth == 0
                    && let Expr::Identifier(i) = e
                    && let Some((name, cols)) = self
                        .rewrites
                        .iter()
                        .find(|(n, _)| n.value.eq_ignore_ascii_case(&i.value))
                {
                    *e = row_struct(name, cols);
                }
                ControlFlow::Continue(())
            }
        }
        let from = std::mem::take(&mut select.from);
        let mut r = Replace {
            depth: 0,
            rewrites: &rewrites,
        };
        let _ = select.visit(&mut r);
        select.from = from;
        ControlFlow::Continue(())
    }
}
