//! `ARRAY_SLICE(array, start_offset, end_offset)`, `ARRAY_FIRST(array)`, `ARRAY_LAST(array)`.
//!
//! ARRAY_SLICE takes zero-based, inclusive offsets; a negative offset counts from the end (-1 is
//! the last element). After that, a start before the array is clamped to 0 and an end past it to
//! the last element; an empty range (start after end, start past the end, end before the start
//! of the array) gives `[]`. Any NULL argument gives NULL. ARRAY_FIRST / ARRAY_LAST fail on an
//! empty array.
//!
//! References:
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_slice>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_first>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#array_last>.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::bq_error;
use super::rowwise::{list_elements, list_scalar, map_rows, null_list};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::new_from_impl(Elements::new(Op::Slice))),
        Arc::new(ScalarUDF::new_from_impl(Elements::new(Op::First))),
        Arc::new(ScalarUDF::new_from_impl(Elements::new(Op::Last))),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Op {
    Slice,
    First,
    Last,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Elements {
    op: Op,
    signature: Signature,
}

impl Elements {
    fn new(op: Op) -> Self {
        Elements {
            op,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The zero-based, inclusive index range ARRAY_SLICE selects from an array of `len` elements.
fn slice_range(len: i64, start: i64, end: i64) -> Option<(usize, usize)> {
    let s = if start < 0 { start + len } else { start }.max(0);
    let e = if end < 0 { end + len } else { end }.min(len - 1);
    if e < 0 || s >= len || s > e {
        return None;
    }
    Some((usize::try_from(s).ok()?, usize::try_from(e).ok()?))
}

impl ScalarUDFImpl for Elements {
    fn name(&self) -> &str {
        match self.op {
            Op::Slice => "array_slice",
            Op::First => "array_first",
            Op::Last => "array_last",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name().to_ascii_uppercase();
        let arity = if self.op == Op::Slice { 3 } else { 1 };
        if arg_types.len() != arity {
            return Err(bq_error(format!(
                "No matching signature for function {name}: expected {arity} arguments"
            )));
        }
        let list = match &arg_types[0] {
            DataType::List(_) => arg_types[0].clone(),
            DataType::LargeList(f) | DataType::FixedSizeList(f, _) => DataType::List(f.clone()),
            DataType::Null => DataType::new_list(DataType::Int64, true),
            other => {
                return Err(bq_error(format!(
                    "No matching signature for function {name} for argument type {other}"
                )));
            }
        };
        let mut out = vec![list];
        out.extend(std::iter::repeat_n(DataType::Int64, arity - 1));
        Ok(out)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match (&arg_types[0], self.op) {
            (t, Op::Slice) => Ok(t.clone()),
            (DataType::List(f), _) => Ok(f.data_type().clone()),
            (other, _) => Ok(other.clone()),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let return_type = args.return_field.data_type().clone();
        let element = match (self.op, &return_type) {
            (Op::Slice, DataType::List(f)) => f.data_type().clone(),
            (_, t) => t.clone(),
        };
        let op = self.op;
        map_rows(&args.args, args.number_rows, &return_type, |v| {
            if v.iter().any(ScalarValue::is_null) {
                return match op {
                    Op::Slice => Ok(null_list(&element)),
                    _ => ScalarValue::try_from(&element),
                };
            }
            let Some(values) = list_elements(&v[0]) else {
                return ScalarValue::try_from(&return_type);
            };
            let len = values.len();
            match op {
                Op::Slice => {
                    let (ScalarValue::Int64(Some(s)), ScalarValue::Int64(Some(e))) = (&v[1], &v[2])
                    else {
                        return Err(bq_error("ARRAY_SLICE: offsets must be INT64"));
                    };
                    let len = i64::try_from(len).unwrap_or(i64::MAX);
                    let part = match slice_range(len, *s, *e) {
                        Some((from, to)) => values.slice(from, to - from + 1),
                        None => values.slice(0, 0),
                    };
                    Ok(list_scalar(part, &element))
                }
                Op::First | Op::Last if len == 0 => Err(bq_error(format!(
                    "{} cannot get the {} element of an empty array",
                    self.name().to_ascii_uppercase(),
                    if op == Op::First { "first" } else { "last" }
                ))),
                Op::First => ScalarValue::try_from_array(&values, 0),
                Op::Last => ScalarValue::try_from_array(&values, len - 1),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::slice_range;

    #[test]
    fn slice_offsets_follow_bigquery() {
        assert_eq!(slice_range(5, 1, 3), Some((1, 3)));
        assert_eq!(slice_range(5, -1, 3), None);
        assert_eq!(slice_range(5, 1, -3), Some((1, 2)));
        assert_eq!(slice_range(5, -30, -5), Some((0, 0)));
        assert_eq!(slice_range(5, 1, -30), None);
        assert_eq!(slice_range(5, 5, 30), None);
        assert_eq!(slice_range(0, 0, 0), None);
    }
}
