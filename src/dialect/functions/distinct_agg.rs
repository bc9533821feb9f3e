//! `ARRAY_AGG(DISTINCT x)` and `STRING_AGG(DISTINCT x [, delimiter])` without ORDER BY, keeping
//! the values in order of first occurrence, as BigQuery's documented results show (DataFusion's
//! hash-based DISTINCT does not). The AST rewrite in `aggregates.rs` calls
//! `$array_agg_distinct` / `$string_agg_distinct`.
//!
//! ARRAY_AGG raises BigQuery's error for a NULL element unless IGNORE NULLS is given;
//! STRING_AGG skips NULLs. The delimiter defaults to `","`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#array_agg>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate_functions#string_agg>.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

use super::{bq_error, not_supported};

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        Arc::new(AggregateUDF::new_from_impl(DistinctAgg {
            name: "$array_agg_distinct",
            string: false,
            signature: Signature::any(1, Volatility::Immutable),
        })),
        Arc::new(AggregateUDF::new_from_impl(DistinctAgg {
            name: "$string_agg_distinct",
            string: true,
            signature: Signature::variadic_any(Volatility::Immutable),
        })),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DistinctAgg {
    name: &'static str,
    string: bool,
    signature: Signature,
}

impl AggregateUDFImpl for DistinctAgg {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn supports_null_handling_clause(&self) -> bool {
        true
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        if self.string {
            return match t.first() {
                Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
                    Ok(DataType::Utf8)
                }
                Some(DataType::Binary | DataType::LargeBinary | DataType::BinaryView) => {
                    Ok(DataType::Binary)
                }
                Some(DataType::Null) => Ok(DataType::Utf8),
                other => Err(bq_error(format!(
                    "No matching signature for STRING_AGG with {other:?}"
                ))),
            };
        }
        Ok(DataType::List(Arc::new(Field::new_list_field(
            t[0].clone(),
            true,
        ))))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(DistinctAcc {
            string: self.string,
            ignore_nulls: args.ignore_nulls || self.string,
            value_type: args.exprs[0].data_type(args.schema)?,
            values: Vec::new(),
            seen: HashSet::new(),
            delimiter: None,
            ret: args.return_field.data_type().clone(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value_type = args.input_fields[0].data_type().clone();
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "values"),
                DataType::List(Arc::new(Field::new_list_field(value_type, true))),
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "delimiter"),
                DataType::Utf8,
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct DistinctAcc {
    string: bool,
    ignore_nulls: bool,
    value_type: DataType,
    values: Vec<ScalarValue>,
    seen: HashSet<ScalarValue>,
    delimiter: Option<ScalarValue>,
    ret: DataType,
}

impl DistinctAcc {
    fn push(&mut self, v: ScalarValue) -> Result<()> {
        if v.is_null() {
            if self.ignore_nulls {
                return Ok(());
            }
            return Err(bq_error(
                "Array cannot have a null element; error in writing field ARRAY_AGG",
            ));
        }
        if self.seen.insert(v.clone()) {
            self.values.push(v);
        }
        Ok(())
    }
}

impl Accumulator for DistinctAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for row in 0..values[0].len() {
            if self.delimiter.is_none()
                && let Some(d) = values.get(1)
            {
                self.delimiter = Some(ScalarValue::try_from_array(d, row)?);
            }
            self.push(ScalarValue::try_from_array(&values[0], row)?)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for row in 0..lists.len() {
            if !lists.is_null(row) {
                let l = lists.value(row);
                for i in 0..l.len() {
                    self.push(ScalarValue::try_from_array(&l, i)?)?;
                }
            }
            if self.delimiter.is_none() {
                let d = ScalarValue::try_from_array(&states[1], row)?;
                if !d.is_null() {
                    self.delimiter = Some(d);
                }
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let delimiter = match &self.delimiter {
            Some(d) if !d.is_null() => d.cast_to(&DataType::Utf8)?,
            _ => ScalarValue::Utf8(None),
        };
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(
                &self.values,
                &self.value_type,
            )),
            delimiter,
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if !self.string {
            if self.values.is_empty() {
                return ScalarValue::try_from(&self.ret);
            }
            return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &self.values,
                &self.value_type,
            )));
        }
        if self.values.is_empty() {
            return ScalarValue::try_from(&self.ret);
        }
        let delimiter = match &self.delimiter {
            None => ",".to_string(),
            Some(d) if d.is_null() => return ScalarValue::try_from(&self.ret),
            Some(d) => match d.cast_to(&DataType::Utf8)? {
                ScalarValue::Utf8(Some(s)) => s,
                _ => return Err(not_supported("STRING_AGG delimiter of this type")),
            },
        };
        if self.ret == DataType::Binary {
            return Err(not_supported("STRING_AGG(DISTINCT) of BYTES"));
        }
        let parts = self
            .values
            .iter()
            .map(|v| match v.cast_to(&DataType::Utf8)? {
                ScalarValue::Utf8(Some(s)) => Ok(s),
                _ => Err(not_supported("STRING_AGG of this value")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ScalarValue::Utf8(Some(parts.join(&delimiter))))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + 2 * self.values.iter().map(|v| v.size()).sum::<usize>()
    }
}
