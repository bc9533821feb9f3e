//! Row-at-a-time evaluation for scalar functions whose work per row dominates (array builders):
//! each row's arguments arrive as [`ScalarValue`]s and the results are assembled into one array.
//! All-scalar calls are evaluated once and stay scalar.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, ListArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

/// Applies `f` to every row of `args` (`rows` rows); `f` returns a value of `return_type`.
pub fn map_rows(
    args: &[ColumnarValue],
    rows: usize,
    return_type: &DataType,
    f: impl Fn(&[ScalarValue]) -> Result<ScalarValue>,
) -> Result<ColumnarValue> {
    if args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) {
        let values: Vec<ScalarValue> = args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => s.clone(),
                ColumnarValue::Array(_) => ScalarValue::Null,
            })
            .collect();
        return Ok(ColumnarValue::Scalar(f(&values)?));
    }
    let arrays: Vec<ArrayRef> = args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let values: Vec<ScalarValue> = arrays
            .iter()
            .map(|a| ScalarValue::try_from_array(a, row))
            .collect::<Result<_>>()?;
        out.push(f(&values)?);
    }
    if out.is_empty() {
        return Ok(ColumnarValue::Array(
            datafusion::arrow::array::new_empty_array(return_type),
        ));
    }
    Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
}

/// The elements of a one-row list scalar, or `None` for a NULL list (or a non-list).
pub fn list_elements(value: &ScalarValue) -> Option<ArrayRef> {
    let list: &Arc<ListArray> = match value {
        ScalarValue::List(l) => l,
        _ => return None,
    };
    if list.is_empty() || list.is_null(0) {
        return None;
    }
    Some(list.value(0))
}

/// A one-row list scalar holding `values` (all of `element_type`).
pub fn list_scalar(values: ArrayRef, element_type: &DataType) -> ScalarValue {
    let _ = element_type;
    ScalarValue::List(Arc::new(
        datafusion::common::utils::SingleRowListArrayBuilder::new(values)
            .with_nullable(true)
            .build_list_array(),
    ))
}

/// A NULL list of `element_type`.
pub fn null_list(element_type: &DataType) -> ScalarValue {
    ScalarValue::new_null_list(element_type.clone(), true, 1)
}
