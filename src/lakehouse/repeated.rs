//! Stored arrays are never NULL: BigQuery stores an ARRAY column as a REPEATED field, and "when you
//! write a NULL array to a table, it is converted to an empty array"
//! (<https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#array_nulls>). The same
//! holds for a REPEATED field inside a STRUCT and for a field missing from a loaded JSON row.
//!
//! Every write (INSERT, CREATE TABLE AS, UPDATE, loads) passes its rows through [`fill_plan`], which
//! replaces NULL arrays with empty ones at any depth. NULL STRUCTs stay NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StructArray, UInt32Array};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Column, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::Result;

/// Whether a column of this type holds an array somewhere.
fn has_list(dt: &DataType) -> bool {
    match dt {
        DataType::List(_) | DataType::LargeList(_) => true,
        DataType::Struct(fields) => fields.iter().any(|f| has_list(f.data_type())),
        _ => false,
    }
}

/// Adds the NULL-array filling projection to a plan about to be written, when a column holds an
/// array.
pub fn fill_plan(plan: LogicalPlan) -> Result<LogicalPlan> {
    if !plan
        .schema()
        .fields()
        .iter()
        .any(|f| has_list(f.data_type()))
    {
        return Ok(plan);
    }
    let udf = Arc::new(ScalarUDF::new_from_impl(FillArrays::new()));
    let exprs: Vec<Expr> = plan
        .schema()
        .iter()
        .map(|(q, f)| {
            let col = Expr::Column(Column::new(q.cloned(), f.name()));
            if has_list(f.data_type()) {
                udf.call(vec![col]).alias(f.name())
            } else {
                col.alias(f.name())
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// `expr`, assigned to a column of type `dt`, with its NULL arrays made empty.
pub fn fill_expr(expr: Expr, dt: &DataType) -> Expr {
    if has_list(dt) {
        ScalarUDF::new_from_impl(FillArrays::new()).call(vec![expr])
    } else {
        expr
    }
}

/// `array` with every NULL list (at any depth) replaced by an empty list.
pub fn fill_null_lists(array: &ArrayRef) -> DfResult<ArrayRef> {
    match array.data_type() {
        DataType::List(field) => {
            let list = array.as_list::<i32>();
            let (offsets, values) = if list.null_count() == 0 {
                (list.offsets().clone(), list.values().clone())
            } else if (0..list.len()).all(|i| list.is_valid(i) || list.value_length(i) == 0) {
                // The usual layout: NULL slots already span no values.
                (list.offsets().clone(), list.values().clone())
            } else {
                // NULL slots that span values: keep only the valid slots' values.
                let mut lengths = Vec::with_capacity(list.len());
                let mut keep = Vec::new();
                for i in 0..list.len() {
                    if list.is_valid(i) {
                        let start = list.value_offsets()[i] as u32;
                        let end = list.value_offsets()[i + 1] as u32;
                        keep.extend(start..end);
                        lengths.push((end - start) as usize);
                    } else {
                        lengths.push(0);
                    }
                }
                let values = take(list.values().as_ref(), &UInt32Array::from(keep), None)?;
                (OffsetBuffer::from_lengths(lengths), values)
            };
            let values = fill_null_lists(&values)?;
            Ok(Arc::new(ListArray::try_new(
                field.clone(),
                offsets,
                values,
                None,
            )?))
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let columns = s
                .columns()
                .iter()
                .map(fill_null_lists)
                .collect::<DfResult<Vec<_>>>()?;
            Ok(Arc::new(StructArray::try_new(
                fields.clone(),
                columns,
                s.nulls().cloned(),
            )?))
        }
        _ => Ok(array.clone()),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FillArrays {
    signature: Signature,
}

impl FillArrays {
    fn new() -> Self {
        FillArrays {
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for FillArrays {
    fn name(&self) -> &str {
        "dap_store_arrays"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> DfResult<DataType> {
        Ok(args[0].clone())
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        Ok(args.arg_fields[0].clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        match &args.args[0] {
            ColumnarValue::Array(a) => Ok(ColumnarValue::Array(fill_null_lists(a)?)),
            ColumnarValue::Scalar(s) => {
                let filled = fill_null_lists(&s.to_array()?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                    &filled, 0,
                )?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, Int64Builder, ListBuilder};
    use datafusion::arrow::buffer::NullBuffer;
    use datafusion::arrow::datatypes::{Field, Fields};

    #[test]
    fn null_lists_become_empty_at_any_depth() {
        let mut b = ListBuilder::new(Int64Builder::new());
        b.append_value([Some(1), Some(2)]);
        b.append_null();
        b.append_value([Some(3)]);
        let list: ArrayRef = Arc::new(b.finish());
        let filled = fill_null_lists(&list).expect("fill");
        let l = filled.as_list::<i32>();
        assert_eq!(l.null_count(), 0);
        assert_eq!(l.value_length(1), 0);
        assert_eq!(
            l.value(2)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(0),
            3
        );

        // Inside a struct; the NULL struct stays NULL.
        let field = Arc::new(Field::new("b", list.data_type().clone(), true));
        let s: ArrayRef = Arc::new(
            StructArray::try_new(
                Fields::from(vec![field]),
                vec![list],
                Some(NullBuffer::from(vec![true, true, false])),
            )
            .expect("struct"),
        );
        let filled = fill_null_lists(&s).expect("fill");
        let st = filled.as_struct();
        assert_eq!(st.null_count(), 1);
        assert_eq!(st.column(0).null_count(), 0);
    }

    #[test]
    fn null_slots_spanning_values_are_dropped() {
        let field = Arc::new(Field::new("item", DataType::Int64, true));
        let values: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
        let list: ArrayRef = Arc::new(
            ListArray::try_new(
                field,
                OffsetBuffer::from_lengths([1, 2, 1]),
                values,
                Some(NullBuffer::from(vec![true, false, true])),
            )
            .expect("list"),
        );
        let filled = fill_null_lists(&list).expect("fill");
        let l = filled.as_list::<i32>();
        assert_eq!(l.null_count(), 0);
        let lengths: Vec<i32> = (0..l.len()).map(|i| l.value_length(i)).collect();
        assert_eq!(lengths, vec![1, 0, 1]);
        let v = l
            .values()
            .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        assert_eq!(v.values().to_vec(), vec![1, 4]);
    }
}
