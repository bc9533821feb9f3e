//! Array subscripts: `arr[OFFSET(i)]` and `arr[i]` (zero-based), `arr[ORDINAL(i)]` (one-based)
//! fail with `Array index i is out of bounds` outside the array; `SAFE_OFFSET` / `SAFE_ORDINAL`
//! give NULL there. A NULL array or index gives NULL. The `[OFFSET(i)]` forms are rewritten to
//! calls of `bq_offset`, `bq_ordinal`, `bq_safe_offset`, `bq_safe_ordinal` by
//! [`crate::dialect::subscripts`]; a plain `arr[i]` on an ARRAY is planned here ([`planner`]).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator>.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, GetFieldAccess, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};

use super::bq_error;
use super::rowwise::{list_elements, map_rows};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    [
        Mode::Offset,
        Mode::Ordinal,
        Mode::SafeOffset,
        Mode::SafeOrdinal,
    ]
    .into_iter()
    .map(|m| Arc::new(ScalarUDF::new_from_impl(Subscript::new(m))))
    .collect()
}

pub fn expr_planners() -> Vec<Arc<dyn ExprPlanner>> {
    vec![Arc::new(SubscriptPlanner)]
}

/// The function name a `[KEYWORD(i)]` subscript calls, if `keyword` is one.
pub fn function_for(keyword: &str) -> Option<&'static str> {
    match keyword.to_ascii_lowercase().as_str() {
        "offset" => Some("bq_offset"),
        "ordinal" => Some("bq_ordinal"),
        "safe_offset" => Some("bq_safe_offset"),
        "safe_ordinal" => Some("bq_safe_ordinal"),
        _ => None,
    }
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Mode {
    Offset,
    Ordinal,
    SafeOffset,
    SafeOrdinal,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Subscript {
    mode: Mode,
    signature: Signature,
}

impl Subscript {
    fn new(mode: Mode) -> Self {
        Subscript {
            mode,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Subscript {
    fn name(&self) -> &str {
        match self.mode {
            Mode::Offset => "bq_offset",
            Mode::Ordinal => "bq_ordinal",
            Mode::SafeOffset => "bq_safe_offset",
            Mode::SafeOrdinal => "bq_safe_ordinal",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != 2 {
            return Err(bq_error("an array subscript takes one index"));
        }
        let list = match &arg_types[0] {
            DataType::List(_) => arg_types[0].clone(),
            DataType::LargeList(f) | DataType::FixedSizeList(f, _) => DataType::List(f.clone()),
            DataType::Null => DataType::new_list(DataType::Int64, true),
            other => {
                return Err(bq_error(format!(
                    "Array element access with array position is not supported on type {other}"
                )));
            }
        };
        Ok(vec![list, DataType::Int64])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match &arg_types[0] {
            DataType::List(f) => Ok(f.data_type().clone()),
            other => Ok(other.clone()),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let return_type = args.return_field.data_type().clone();
        let mode = self.mode;
        map_rows(&args.args, args.number_rows, &return_type, |v| {
            let (Some(values), ScalarValue::Int64(Some(i))) = (list_elements(&v[0]), &v[1]) else {
                return ScalarValue::try_from(&return_type);
            };
            let at = match mode {
                Mode::Offset | Mode::SafeOffset => *i,
                Mode::Ordinal | Mode::SafeOrdinal => i.saturating_sub(1),
            };
            match usize::try_from(at) {
                Ok(at) if at < values.len() => ScalarValue::try_from_array(&values, at),
                _ if matches!(mode, Mode::SafeOffset | Mode::SafeOrdinal) => {
                    ScalarValue::try_from(&return_type)
                }
                _ => Err(bq_error(format!("Array index {i} is out of bounds"))),
            }
        })
    }
}

/// Plans `arr[i]` on an ARRAY as `bq_offset(arr, i)` (BigQuery indexes from 0, DataFusion from 1).
#[derive(Debug)]
struct SubscriptPlanner;

impl ExprPlanner for SubscriptPlanner {
    fn plan_field_access(
        &self,
        expr: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        let RawFieldAccessExpr { expr, field_access } = expr;
        match field_access {
            GetFieldAccess::ListIndex { key }
                if matches!(
                    expr.get_type(schema)?,
                    DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
                ) =>
            {
                let udf = Arc::new(ScalarUDF::new_from_impl(Subscript::new(Mode::Offset)));
                Ok(PlannerResult::Planned(Expr::ScalarFunction(
                    ScalarFunction::new_udf(udf, vec![expr, *key]),
                )))
            }
            field_access => Ok(PlannerResult::Original(RawFieldAccessExpr {
                expr,
                field_access,
            })),
        }
    }
}
