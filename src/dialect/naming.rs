//! Output column names as BigQuery gives them: a select item without an alias that is not a bare
//! column (or field path) is named `f0_`, `f1_`, ... counting only such anonymous items.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#implicit_aliases>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, Query, Select, SelectItem, SetExpr, Statement, VisitMut, VisitorMut,
};

/// Names the anonymous select items of every query in `stmt`.
pub fn name_anonymous_columns(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Namer);
}

struct Namer;

/// Names every unaliased path select item (`t.col`, `t.s.field`, `s.field`) after its last part,
/// as BigQuery does; DataFusion would call a struct field `t.s[field]`. Runs after column case
/// folding, so a column keeps its declared spelling.
pub fn alias_paths(stmt: &mut Statement) {
    struct Paths;
    impl VisitorMut for Paths {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
            alias_paths_in(&mut query.body);
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut Paths);
}

/// Marker of a duplicate output column name (`x`, `x` become `x`, `x\u{1}dup1`).
const DUPLICATE_MARK: &str = "\u{1}dup";

/// Gives the second and later columns of the same name in the statement's output a marked name.
/// An ORDER BY on a name two output columns have is ambiguous, as in BigQuery.
pub fn mark_duplicate_names(stmt: &mut Statement) -> crate::error::Result<()> {
    let Statement::Query(query) = stmt else {
        return Ok(());
    };
    let order_names: Vec<String> = match &query.order_by {
        Some(ob) => match &ob.kind {
            datafusion::sql::sqlparser::ast::OrderByKind::Expressions(list) => list
                .iter()
                .filter_map(|o| match &o.expr {
                    Expr::Identifier(id) => Some(id.value.to_lowercase()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let Some(select) = leftmost_select(&mut query.body) else {
        return Ok(());
    };
    let mut seen: Vec<String> = Vec::new();
    for (i, item) in select.projection.iter_mut().enumerate() {
        let name = match item {
            SelectItem::UnnamedExpr(Expr::Identifier(id)) => id.clone(),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(p)) => match p.last() {
                Some(id) => id.clone(),
                None => continue,
            },
            SelectItem::ExprWithAlias { alias, .. } => alias.clone(),
            _ => continue,
        };
        let key = name.value.to_lowercase();
        if !seen.contains(&key) {
            seen.push(key);
            continue;
        }
        if order_names.contains(&key) {
            return Err(crate::error::DapError::Invalid(format!(
                "Column name {} is ambiguous",
                name.value
            )));
        }
        let alias = Ident::new(format!("{}{DUPLICATE_MARK}{i}", name.value));
        match item {
            SelectItem::ExprWithAlias { alias: a, .. } => *a = alias,
            SelectItem::UnnamedExpr(e) => {
                let expr = std::mem::replace(
                    e,
                    Expr::Value(datafusion::sql::sqlparser::ast::Value::Null.into()),
                );
                *item = SelectItem::ExprWithAlias { expr, alias };
            }
            _ => {}
        }
    }
    Ok(())
}

/// Undoes [`mark_duplicate_names`] on a result.
pub fn restore_duplicate_names(
    schema: datafusion::arrow::datatypes::SchemaRef,
    batches: Vec<datafusion::arrow::array::RecordBatch>,
) -> datafusion::common::Result<(
    datafusion::arrow::datatypes::SchemaRef,
    Vec<datafusion::arrow::array::RecordBatch>,
)> {
    use datafusion::arrow::datatypes::{Field, Schema};
    if !schema
        .fields()
        .iter()
        .any(|f| f.name().contains(DUPLICATE_MARK))
    {
        return Ok((schema, batches));
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.name().split_once(DUPLICATE_MARK) {
            Some((name, _)) => f.as_ref().clone().with_name(name),
            None => f.as_ref().clone(),
        })
        .collect();
    let renamed = std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batches = batches
        .into_iter()
        .map(|b| {
            datafusion::arrow::array::RecordBatch::try_new(renamed.clone(), b.columns().to_vec())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((renamed, batches))
}

fn alias_paths_in(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            // Two items with the same name stay as DataFusion names them (qualified), since
            // DataFusion refuses duplicate unqualified names.
            let names: Vec<Option<String>> = select
                .projection
                .iter()
                .map(|item| match item {
                    SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(i.value.to_lowercase()),
                    SelectItem::UnnamedExpr(Expr::CompoundIdentifier(p)) => {
                        p.last().map(|i| i.value.to_lowercase())
                    }
                    SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.to_lowercase()),
                    _ => None,
                })
                .collect();
            for (i, item) in select.projection.iter_mut().enumerate() {
                let unique = names[i]
                    .as_ref()
                    .is_some_and(|n| names.iter().filter(|m| m.as_ref() == Some(n)).count() == 1);
                if let SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) = item
                    && unique
                    && parts.len() >= 2
                    && let Some(last) = parts.last().cloned()
                {
                    let expr = Expr::CompoundIdentifier(std::mem::take(parts));
                    *item = SelectItem::ExprWithAlias { expr, alias: last };
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            alias_paths_in(left);
            alias_paths_in(right);
        }
        _ => {}
    }
}

impl VisitorMut for Namer {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
        if let Some(select) = leftmost_select(&mut query.body) {
            name_select(select);
        }
        ControlFlow::Continue(())
    }
}

fn leftmost_select(body: &mut SetExpr) -> Option<&mut Select> {
    match body {
        SetExpr::Select(s) => Some(s),
        SetExpr::SetOperation { left, .. } => leftmost_select(left),
        SetExpr::Query(q) => leftmost_select(&mut q.body),
        _ => None,
    }
}

fn has_implicit_name(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Nested(inner) => has_implicit_name(inner),
        Expr::CompoundFieldAccess { access_chain, .. } => access_chain.iter().all(|a| {
            matches!(
                a,
                datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(_))
            )
        }),
        _ => false,
    }
}

fn name_select(select: &mut Select) {
    let mut n = 0;
    for item in select.projection.iter_mut() {
        if let SelectItem::UnnamedExpr(expr) = item {
            // `<expr>.field` is named after the field (DataFusion would name it after the whole
            // expression).
            if let Expr::CompoundFieldAccess { access_chain, .. } = expr
                && let Some(datafusion::sql::sqlparser::ast::AccessExpr::Dot(Expr::Identifier(
                    field,
                ))) = access_chain.last()
            {
                let alias = field.clone();
                let expr = std::mem::replace(
                    expr,
                    Expr::Value(datafusion::sql::sqlparser::ast::Value::Null.into()),
                );
                *item = SelectItem::ExprWithAlias { expr, alias };
                continue;
            }
            if has_implicit_name(expr) {
                continue;
            }
            let alias = Ident::new(format!("f{n}_"));
            n += 1;
            let expr = std::mem::replace(
                expr,
                Expr::Value(datafusion::sql::sqlparser::ast::Value::Null.into()),
            );
            *item = SelectItem::ExprWithAlias { expr, alias };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::script::parse_one;

    #[test]
    fn anonymous_items_are_numbered() {
        let mut s = parse_one("SELECT a, 1, t.b, a + 1, (SELECT 2) FROM t").expect("parses");
        name_anonymous_columns(&mut s);
        assert_eq!(
            s.to_string(),
            "SELECT a, 1 AS f0_, t.b, a + 1 AS f1_, (SELECT 2 AS f0_) AS f2_ FROM t"
        );
    }
}
