//! `"$like_quantified"(value, patterns, mode)`: the quantified LIKE over an array of patterns,
//! which [`crate::dialect::like_any`] makes of `value [NOT] LIKE ANY|SOME|ALL UNNEST(array)` and
//! `value [NOT] LIKE ANY|SOME|ALL (subquery)`. `mode` is `'any'`, `'all'`, `'not any'` or
//! `'not all'`. Each pattern is matched with the LIKE kernel DataFusion's own LIKE uses (NOT
//! applies to each match), then the results are combined with OR (ANY) or AND (ALL) in
//! three-valued logic: a NULL value or a NULL pattern counts as an unknown match. A NULL value
//! with no patterns at all is refused (`not supported`) rather than guessed.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#like_operator_quantified>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Scalar, StringArray};
use datafusion::arrow::compute::kernels::comparison::like;
use datafusion::arrow::compute::{cast, not};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::ScalarUDF;

use super::not_supported;
use super::udf::Udf;

pub const NAME: &str = "$like_quantified";

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![Udf::new(NAME, coerce, |_| Ok(DataType::Boolean), eval).build()]
}

fn coerce(types: &[DataType]) -> Result<Vec<DataType>> {
    if types.len() != 3 {
        return exec_err!("{NAME} takes 3 arguments");
    }
    let list = DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)));
    let value = match &types[0] {
        DataType::Null | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            DataType::Utf8
        }
        other => {
            return Err(not_supported(format!(
                "quantified LIKE over an array of {other}"
            )));
        }
    };
    Ok(vec![value, list, DataType::Utf8])
}

fn eval(args: &[ArrayRef], _ret: &DataType) -> Result<ArrayRef> {
    let values = args[0].as_string::<i32>();
    let lists = args[1].as_list::<i32>();
    let modes = args[2].as_string::<i32>();
    let mut out = Vec::with_capacity(values.len());
    for row in 0..values.len() {
        let mode = if modes.is_null(row) {
            "any"
        } else {
            modes.value(row)
        };
        let (negated, all) = match mode {
            "any" => (false, false),
            "all" => (false, true),
            "not any" => (true, false),
            "not all" => (true, true),
            other => return exec_err!("{NAME}: unknown mode {other}"),
        };
        let patterns = if lists.is_null(row) {
            Arc::new(StringArray::from(Vec::<Option<&str>>::new())) as ArrayRef
        } else {
            cast(&lists.value(row), &DataType::Utf8)?
        };
        if patterns.is_empty() {
            if values.is_null(row) {
                return Err(not_supported("quantified LIKE of NULL with no patterns"));
            }
            out.push(Some(all));
            continue;
        }
        let value: StringArray = if values.is_null(row) {
            StringArray::from(vec![None::<&str>])
        } else {
            StringArray::from(vec![values.value(row)])
        };
        let matched = like(&Scalar::new(value), &patterns.as_string::<i32>())?;
        let matched: BooleanArray = if negated { not(&matched)? } else { matched };
        let decisive = if all { Some(false) } else { Some(true) };
        let result = if matched.iter().any(|m| m == decisive) {
            decisive
        } else if matched.null_count() > 0 {
            None
        } else {
            Some(all)
        };
        out.push(result);
    }
    Ok(Arc::new(BooleanArray::from(out)))
}
