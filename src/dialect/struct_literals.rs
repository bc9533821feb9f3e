//! Struct elements of an array literal take their field names from the first element, as in
//! BigQuery: `[STRUCT(1 AS a, 'x' AS b), (2, 'y')]` is an array of `STRUCT<a INT64, b STRING>`.
//! DataFusion would see differently named structs and fail, so the later tuple elements are
//! rewritten to `STRUCT(2 AS a, 'y' AS b)`. Likewise the tuple (or unnamed STRUCT) elements of a
//! typed array literal `ARRAY<STRUCT<x INT64, y STRING>>[(1, 'foo')]` (by then
//! `CAST([...] AS ARRAY<STRUCT<...>>)`) take the field names of the element type, nested
//! structs included, so the cast matches fields by name.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#constructing_a_struct>.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType, Expr, Ident, StructField, VisitMut, VisitorMut,
};

/// Names the tuple elements of every array literal after its first struct element.
pub fn name_struct_elements(stmt: &mut Statement) {
    let _ = stmt.visit(&mut StructElements);
}

struct StructElements;

/// Field names of a struct literal, when every field is named.
fn field_names(e: &Expr) -> Option<Vec<Ident>> {
    let Expr::Struct { values, fields } = e else {
        return None;
    };
    if !fields.is_empty() {
        return fields.iter().map(|f| f.field_name.clone()).collect();
    }
    values
        .iter()
        .map(|v| match v {
            Expr::Named { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

impl VisitorMut for StructElements {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Cast {
            expr: inner,
            data_type: DataType::Array(ArrayElemTypeDef::AngleBracket(elem)),
            ..
        } = expr
            && let (Expr::Array(array), DataType::Struct(fields, _)) =
                (inner.as_mut(), elem.as_ref())
        {
            for e in array.elem.iter_mut() {
                name_by_type(e, fields);
            }
            return ControlFlow::Continue(());
        }
        let Expr::Array(array) = expr else {
            return ControlFlow::Continue(());
        };
        let Some(names) = array.elem.first().and_then(field_names) else {
            return ControlFlow::Continue(());
        };
        for e in array.elem.iter_mut().skip(1) {
            if let Expr::Tuple(items) = e
                && items.len() == names.len()
            {
                let values = items
                    .drain(..)
                    .zip(names.iter())
                    .map(|(v, n)| Expr::Named {
                        expr: Box::new(v),
                        name: n.clone(),
                    })
                    .collect();
                *e = Expr::Struct {
                    values,
                    fields: vec![],
                };
            }
        }
        ControlFlow::Continue(())
    }
}

/// Names the fields of a tuple (or unnamed STRUCT) `e` after the struct type `fields`, recursing
/// into nested struct fields. Left alone when the arity differs or a field is unnamed.
fn name_by_type(e: &mut Expr, fields: &[StructField]) {
    let values = match e {
        Expr::Tuple(items) => items,
        Expr::Struct { values, fields: f }
            if f.is_empty() && !values.iter().any(|v| matches!(v, Expr::Named { .. })) =>
        {
            values
        }
        _ => return,
    };
    if values.len() != fields.len() || fields.iter().any(|f| f.field_name.is_none()) {
        return;
    }
    let named = values
        .drain(..)
        .zip(fields.iter())
        .map(|(mut v, f)| {
            if let DataType::Struct(inner, _) = &f.field_type {
                name_by_type(&mut v, inner);
            }
            Expr::Named {
                expr: Box::new(v),
                name: f.field_name.clone().unwrap_or_else(|| Ident::new("")),
            }
        })
        .collect();
    *e = Expr::Struct {
        values: named,
        fields: vec![],
    };
}
