//! The untyped empty array literal `[]` is an `ARRAY<INT64>` in BigQuery (DataFusion would give
//! it a NULL element type, which aggregates such as SUM reject). Typed ones (`ARRAY<STRING>[]`)
//! are casts and keep their type.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#array_type>.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::{Expr, lit};

pub fn expr_planners() -> Vec<Arc<dyn ExprPlanner>> {
    vec![Arc::new(EmptyArrayPlanner)]
}

#[derive(Debug)]
struct EmptyArrayPlanner;

impl ExprPlanner for EmptyArrayPlanner {
    fn plan_array_literal(
        &self,
        exprs: Vec<Expr>,
        _schema: &DFSchema,
    ) -> Result<PlannerResult<Vec<Expr>>> {
        if !exprs.is_empty() {
            return Ok(PlannerResult::Original(exprs));
        }
        let empty = ScalarValue::List(ScalarValue::new_list_nullable(&[], &DataType::Int64));
        Ok(PlannerResult::Planned(lit(empty)))
    }
}
