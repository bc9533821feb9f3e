//! BigQuery type names inside expressions (`CAST(x AS FLOAT64)`, `SAFE_CAST(x AS INT64)`) mapped
//! to the SQL types DataFusion's planner knows, with the Arrow types of `docs/types.md`.
//! TIME is microseconds in dap (BigQuery's precision, and what TIME columns and functions hold);
//! DataFusion plans a TIME literal or cast as nanoseconds, so those are converted.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType, ExactNumberInfo, Expr, Statement, TimezoneInfo, VisitMut,
    VisitorMut,
};

/// Rewrites BigQuery type names in every CAST and typed literal of `stmt`.
pub fn map_cast_types(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Casts);
}

struct Casts;

fn map(ty: &mut DataType) {
    let new = match ty {
        // Element and field types of ARRAY<T> and STRUCT<a T>.
        DataType::Array(ArrayElemTypeDef::AngleBracket(inner)) => return map(inner),
        DataType::Struct(fields, _) => {
            fields.iter_mut().for_each(|f| map(&mut f.field_type));
            return;
        }
        DataType::Float64 => DataType::Double(ExactNumberInfo::None),
        DataType::Int64 => DataType::BigInt(None),
        DataType::Datetime(_) => DataType::Timestamp(None, TimezoneInfo::None),
        DataType::Numeric(ExactNumberInfo::None) => {
            DataType::Decimal(ExactNumberInfo::PrecisionAndScale(38, 9))
        }
        DataType::BigNumeric(ExactNumberInfo::None)
        | DataType::BigDecimal(ExactNumberInfo::None) => {
            DataType::Decimal(ExactNumberInfo::PrecisionAndScale(76, 38))
        }
        DataType::Bytes(_) => DataType::Bytea,
        // BigQuery TIMESTAMP is an absolute point in time, shown in UTC.
        DataType::Timestamp(p, TimezoneInfo::None) => {
            DataType::Timestamp(*p, TimezoneInfo::WithTimeZone)
        }
        _ => return,
    };
    *ty = new;
}

impl VisitorMut for Casts {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let is_time = match expr {
            Expr::Cast { data_type, .. } => matches!(data_type, DataType::Time(..)),
            Expr::TypedString(ts) => matches!(ts.data_type, DataType::Time(..)),
            _ => false,
        };
        if is_time {
            let inner = std::mem::replace(
                expr,
                Expr::value(datafusion::sql::sqlparser::ast::Value::Null),
            );
            *expr = super::ast_build::call(
                "arrow_cast",
                vec![inner, super::ast_build::string("Time64(µs)")],
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Cast { data_type, .. } => map(data_type),
            Expr::TypedString(ts) => map(&mut ts.data_type),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
