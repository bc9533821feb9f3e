//! PERCENTILE_CONT and PERCENTILE_DISC, BigQuery's navigation functions
//! (`PERCENTILE_CONT(x, 0.5 [RESPECT NULLS | IGNORE NULLS]) OVER (...)`).
//!
//! - PERCENTILE_CONT takes INT64/FLOAT64 values and returns FLOAT64, interpolating linearly
//!   between the two values around position `p * (n - 1)` of the sorted values. With RESPECT
//!   NULLS, NULLs sort first; an exact position on a NULL gives NULL, and a NULL lower neighbour
//!   gives the upper value. NUMERIC/BIGNUMERIC input is `not supported`.
//! - PERCENTILE_DISC takes any orderable type and returns the first sorted value whose
//!   cumulative distribution reaches `p` (NULLs first with RESPECT NULLS).
//! - IGNORE NULLS is the default. The AST rewrite in `aggregates.rs` turns RESPECT NULLS into a
//!   call of `$percentile_cont_respect_nulls` / `$percentile_disc_respect_nulls`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/navigation_functions#percentile_cont>.

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
    let f = |name, disc, respect_nulls| {
        Arc::new(AggregateUDF::new_from_impl(Percentile {
            name,
            disc,
            respect_nulls,
            signature: Signature::any(2, Volatility::Immutable),
        }))
    };
    vec![
        f("percentile_cont", false, false),
        f("percentile_disc", true, false),
        f("$percentile_cont_respect_nulls", false, true),
        f("$percentile_disc_respect_nulls", true, true),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Percentile {
    name: &'static str,
    disc: bool,
    respect_nulls: bool,
    signature: Signature,
}

impl AggregateUDFImpl for Percentile {
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
        let what = if self.disc {
            "PERCENTILE_DISC"
        } else {
            "PERCENTILE_CONT"
        };
        if !t[1].is_numeric() && t[1] != DataType::Null {
            return Err(bq_error(format!("{what}: the percentile must be a number")));
        }
        if self.disc {
            return Ok(t[0].clone());
        }
        if t[0].is_integer() || t[0].is_floating() || t[0] == DataType::Null {
            Ok(DataType::Float64)
        } else {
            Err(not_supported(format!("PERCENTILE_CONT of {}", t[0])))
        }
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(PercentileAcc {
            disc: self.disc,
            respect_nulls: self.respect_nulls,
            values: Vec::new(),
            sorted: None,
            nulls: 0,
            p: None,
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
                format_state_name(args.name, "nulls"),
                DataType::Int64,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "p"),
                DataType::Float64,
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct PercentileAcc {
    disc: bool,
    respect_nulls: bool,
    values: Vec<ScalarValue>,
    /// `values` sorted, kept until they change (a window evaluates once per row).
    sorted: Option<Vec<ScalarValue>>,
    nulls: i64,
    p: Option<f64>,
    ret: DataType,
}

fn percentile_of(v: &ScalarValue) -> Result<Option<f64>> {
    if v.is_null() {
        return Ok(None);
    }
    match v.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(p)) if (0.0..=1.0).contains(&p) => Ok(Some(p)),
        _ => Err(bq_error("Percentile argument must be in [0, 1]")),
    }
}

impl Accumulator for PercentileAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.sorted = None;
        let (x, p) = (&values[0], &values[1]);
        for row in 0..x.len() {
            if self.p.is_none() {
                self.p = percentile_of(&ScalarValue::try_from_array(p, row)?)?;
            }
            if x.is_null(row) {
                self.nulls += 1;
            } else {
                self.values.push(ScalarValue::try_from_array(x, row)?);
            }
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.sorted = None;
        let x = &values[0];
        for row in 0..x.len() {
            if x.is_null(row) {
                self.nulls -= 1;
            } else {
                let v = ScalarValue::try_from_array(x, row)?;
                if let Some(i) = self.values.iter().position(|e| *e == v) {
                    self.values.swap_remove(i);
                }
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.sorted = None;
        let lists = states[0].as_list::<i32>();
        for row in 0..lists.len() {
            if !lists.is_null(row) {
                let l = lists.value(row);
                for i in 0..l.len() {
                    self.values.push(ScalarValue::try_from_array(&l, i)?);
                }
            }
            if let ScalarValue::Int64(Some(n)) = ScalarValue::try_from_array(&states[1], row)? {
                self.nulls += n;
            }
            if self.p.is_none() {
                self.p = percentile_of(&ScalarValue::try_from_array(&states[2], row)?)?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let value_type = self
            .values
            .first()
            .map(|v| v.data_type())
            .unwrap_or(DataType::Null);
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&self.values, &value_type)),
            ScalarValue::Int64(Some(self.nulls)),
            ScalarValue::Float64(self.p),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let null = ScalarValue::try_from(&self.ret)?;
        let Some(p) = self.p else {
            return Ok(null);
        };
        let sorted = self.sorted.get_or_insert_with(|| {
            let mut s = self.values.clone();
            s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            s
        });
        let nulls = if self.respect_nulls {
            self.nulls as usize
        } else {
            0
        };
        let n = sorted.len() + nulls;
        if n == 0 {
            return Ok(null);
        }
        // Position i in the sorted sequence (NULLs first): None for NULL.
        let at = |i: usize| -> Option<&ScalarValue> { i.checked_sub(nulls).map(|j| &sorted[j]) };
        if self.disc {
            let idx = ((p * n as f64).ceil() as usize)
                .saturating_sub(1)
                .min(n - 1);
            return Ok(at(idx).cloned().unwrap_or(null));
        }
        let pos = p * (n - 1) as f64;
        let lo = pos.floor() as usize;
        let hi = pos.ceil() as usize;
        let f = |v: &ScalarValue| -> Result<f64> {
            match v.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(x)) => Ok(x),
                _ => Err(not_supported("PERCENTILE_CONT of this value")),
            }
        };
        let frac = pos - lo as f64;
        let out = match (at(lo), at(hi)) {
            (None, _) if frac == 0.0 => None,
            (None, Some(h)) => Some(f(h)?),
            (Some(l), _) if frac == 0.0 => Some(f(l)?),
            (Some(l), Some(h)) => {
                let (l, h) = (f(l)?, f(h)?);
                Some(l + frac * (h - l))
            }
            (_, None) => None,
        };
        Ok(ScalarValue::Float64(out))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.iter().map(|v| v.size()).sum::<usize>()
    }
}
