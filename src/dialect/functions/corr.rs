//! `CORR(y, x)`: the Pearson correlation coefficient of the non-NULL pairs. Like BigQuery (and
//! unlike DataFusion's built-in), it is NaN when either input has zero variance and NULL when
//! fewer than two pairs remain.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/statistical_aggregate_functions#corr>.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![Arc::new(AggregateUDF::new_from_impl(Corr::new()))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Corr {
    signature: Signature,
}

impl Corr {
    fn new() -> Self {
        Corr {
            signature: Signature::exact(
                vec![DataType::Float64, DataType::Float64],
                Volatility::Immutable,
            ),
        }
    }
}

impl AggregateUDFImpl for Corr {
    fn name(&self) -> &str {
        "corr"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<CorrAccumulator>::default())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(["n", "mean_x", "mean_y", "m2_x", "m2_y", "c_xy"]
            .iter()
            .map(|s| {
                Arc::new(Field::new(
                    format_state_name(args.name, s),
                    DataType::Float64,
                    true,
                ))
            })
            .collect())
    }
}

/// Running co-moments (Welford), mergeable across partitions.
#[derive(Debug, Default)]
struct CorrAccumulator {
    n: f64,
    mean_x: f64,
    mean_y: f64,
    m2_x: f64,
    m2_y: f64,
    c_xy: f64,
}

impl CorrAccumulator {
    fn merge(&mut self, o: &CorrAccumulator) {
        if o.n == 0.0 {
            return;
        }
        if self.n == 0.0 {
            *self = CorrAccumulator { ..*o };
            return;
        }
        let n = self.n + o.n;
        let dx = o.mean_x - self.mean_x;
        let dy = o.mean_y - self.mean_y;
        self.m2_x += o.m2_x + dx * dx * self.n * o.n / n;
        self.m2_y += o.m2_y + dy * dy * self.n * o.n / n;
        self.c_xy += o.c_xy + dx * dy * self.n * o.n / n;
        self.mean_x += dx * o.n / n;
        self.mean_y += dy * o.n / n;
        self.n = n;
    }

    fn add(&mut self, y: f64, x: f64) {
        self.n += 1.0;
        let dx = x - self.mean_x;
        self.mean_x += dx / self.n;
        let dy = y - self.mean_y;
        self.mean_y += dy / self.n;
        self.m2_x += dx * (x - self.mean_x);
        self.m2_y += dy * (y - self.mean_y);
        self.c_xy += dx * (y - self.mean_y);
    }
}

fn floats(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(cast(a, &DataType::Float64)?)
}

impl Accumulator for CorrAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let ys = floats(&values[0])?;
        let xs = floats(&values[1])?;
        let (ys, xs) = (
            ys.as_primitive::<Float64Type>(),
            xs.as_primitive::<Float64Type>(),
        );
        for (y, x) in ys.iter().zip(xs.iter()) {
            if let (Some(y), Some(x)) = (y, x) {
                self.add(y, x);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let cols: Vec<ArrayRef> = states.iter().map(floats).collect::<Result<_>>()?;
        let cols: Vec<_> = cols
            .iter()
            .map(|c| c.as_primitive::<Float64Type>())
            .collect();
        for row in 0..cols[0].len() {
            let v = |i: usize| cols[i].value(row);
            self.merge(&CorrAccumulator {
                n: v(0),
                mean_x: v(1),
                mean_y: v(2),
                m2_x: v(3),
                m2_y: v(4),
                c_xy: v(5),
            });
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok([
            self.n,
            self.mean_x,
            self.mean_y,
            self.m2_x,
            self.m2_y,
            self.c_xy,
        ]
        .into_iter()
        .map(|v| ScalarValue::Float64(Some(v)))
        .collect())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.n < 2.0 {
            return Ok(ScalarValue::Float64(None));
        }
        if self.m2_x == 0.0 || self.m2_y == 0.0 {
            return Ok(ScalarValue::Float64(Some(f64::NAN)));
        }
        Ok(ScalarValue::Float64(Some(
            self.c_xy / (self.m2_x.sqrt() * self.m2_y.sqrt()),
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

#[cfg(test)]
mod tests {
    use super::CorrAccumulator;

    #[test]
    fn zero_variance_is_nan() {
        let mut a = CorrAccumulator::default();
        a.add(0.0, 0.0);
        a.add(0.0, 0.0);
        assert!(a.m2_x == 0.0);
    }
}
