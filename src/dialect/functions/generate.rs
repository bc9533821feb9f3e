//! `GENERATE_ARRAY(start, end[, step])`, `GENERATE_DATE_ARRAY(start, end[, INTERVAL n unit])` and
//! `GENERATE_TIMESTAMP_ARRAY(start, end, INTERVAL n unit)`: arrays from `start` towards `end`
//! (inclusive) by `step`; empty when `step` points away from `end`, NULL when any argument is
//! NULL, an error when `step` is 0.
//!
//! References:
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#generate_array>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#generate_date_array>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/array_functions#generate_timestamp_array>.

use std::sync::Arc;

use chrono::{Months, NaiveDate, TimeDelta};
use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, IntervalUnit, TimeUnit};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::rowwise::{list_scalar, map_rows, null_list};
use super::{bq_error, not_supported};

/// The most elements one generated array may hold (guards memory; BigQuery has a similar cap).
const MAX_ELEMENTS: usize = 1_000_000;

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::new_from_impl(Generate::new(Kind::Number))),
        Arc::new(ScalarUDF::new_from_impl(Generate::new(Kind::Date))),
        Arc::new(ScalarUDF::new_from_impl(Generate::new(Kind::Timestamp))),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Kind {
    Number,
    Date,
    Timestamp,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Generate {
    kind: Kind,
    signature: Signature,
}

impl Generate {
    fn new(kind: Kind) -> Self {
        Generate {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn interval_type() -> DataType {
    DataType::Interval(IntervalUnit::MonthDayNano)
}

fn step_zero() -> datafusion::error::DataFusionError {
    bq_error("Sequence step cannot be 0.")
}

fn too_many() -> datafusion::error::DataFusionError {
    bq_error(format!(
        "The generated array would have more than {MAX_ELEMENTS} elements"
    ))
}

impl ScalarUDFImpl for Generate {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Number => "generate_array",
            Kind::Date => "generate_date_array",
            Kind::Timestamp => "generate_timestamp_array",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name().to_ascii_uppercase();
        let (min, max) = match self.kind {
            Kind::Number | Kind::Date => (2, 3),
            Kind::Timestamp => (3, 3),
        };
        if arg_types.len() < min || arg_types.len() > max {
            return Err(bq_error(format!(
                "No matching signature for function {name} with {} arguments",
                arg_types.len()
            )));
        }
        match self.kind {
            Kind::Number => {
                let mut float = false;
                for t in arg_types {
                    match t {
                        DataType::Float64 | DataType::Float32 => float = true,
                        DataType::Null => {}
                        t if t.is_integer() => {}
                        DataType::Decimal128(..) | DataType::Decimal256(..) => {
                            return Err(not_supported("GENERATE_ARRAY of NUMERIC"));
                        }
                        other => {
                            return Err(bq_error(format!(
                                "No matching signature for function GENERATE_ARRAY for argument type {other}"
                            )));
                        }
                    }
                }
                let t = if float {
                    DataType::Float64
                } else {
                    DataType::Int64
                };
                Ok(vec![t; arg_types.len()])
            }
            Kind::Date => {
                let mut out = vec![DataType::Date32, DataType::Date32];
                if arg_types.len() == 3 {
                    out.push(interval_type());
                }
                Ok(out)
            }
            Kind::Timestamp => Ok(vec![timestamp_type(), timestamp_type(), interval_type()]),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let element = match self.kind {
            Kind::Number => match arg_types.first() {
                Some(DataType::Float64) => DataType::Float64,
                _ => DataType::Int64,
            },
            Kind::Date => DataType::Date32,
            Kind::Timestamp => timestamp_type(),
        };
        Ok(DataType::new_list(element, true))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let return_type = args.return_field.data_type().clone();
        let element = match &return_type {
            DataType::List(f) => f.data_type().clone(),
            other => other.clone(),
        };
        let kind = self.kind;
        map_rows(&args.args, args.number_rows, &return_type, |v| {
            if v.iter().any(ScalarValue::is_null) {
                return Ok(null_list(&element));
            }
            let values = match kind {
                Kind::Number => numbers(v)?,
                Kind::Date => dates(v)?,
                Kind::Timestamp => timestamps(v)?,
            };
            Ok(list_scalar(values, &element))
        })
    }
}

fn numbers(v: &[ScalarValue]) -> Result<ArrayRef> {
    match (&v[0], &v[1], v.get(2)) {
        (ScalarValue::Int64(Some(start)), ScalarValue::Int64(Some(end)), step) => {
            let step = match step {
                Some(ScalarValue::Int64(Some(s))) => *s,
                _ => 1,
            };
            if step == 0 {
                return Err(step_zero());
            }
            let mut out = Vec::new();
            let mut x = *start;
            while (step > 0 && x <= *end) || (step < 0 && x >= *end) {
                out.push(x);
                if out.len() > MAX_ELEMENTS {
                    return Err(too_many());
                }
                match x.checked_add(step) {
                    Some(next) => x = next,
                    None => break,
                }
            }
            Ok(Arc::new(datafusion::arrow::array::Int64Array::from(out)))
        }
        (ScalarValue::Float64(Some(start)), ScalarValue::Float64(Some(end)), step) => {
            let step = match step {
                Some(ScalarValue::Float64(Some(s))) => *s,
                _ => 1.0,
            };
            if step == 0.0 {
                return Err(step_zero());
            }
            if !step.is_finite() || !start.is_finite() || !end.is_finite() {
                return Err(not_supported(
                    "GENERATE_ARRAY with non-finite FLOAT64 bounds",
                ));
            }
            let mut out = Vec::new();
            let mut k = 0f64;
            loop {
                let x = start + k * step;
                if !((step > 0.0 && x <= *end) || (step < 0.0 && x >= *end)) {
                    break;
                }
                out.push(x);
                if out.len() > MAX_ELEMENTS {
                    return Err(too_many());
                }
                k += 1.0;
            }
            Ok(Arc::new(datafusion::arrow::array::Float64Array::from(out)))
        }
        _ => Err(bq_error("GENERATE_ARRAY: unexpected argument types")),
    }
}

fn step_of(v: Option<&ScalarValue>) -> Result<IntervalMonthDayNano> {
    match v {
        None => Ok(IntervalMonthDayNano::new(0, 1, 0)),
        Some(ScalarValue::IntervalMonthDayNano(Some(i))) => Ok(*i),
        Some(other) => Err(bq_error(format!(
            "unexpected step {other}; expected an INTERVAL"
        ))),
    }
}

fn dates(v: &[ScalarValue]) -> Result<ArrayRef> {
    let (ScalarValue::Date32(Some(start)), ScalarValue::Date32(Some(end))) = (&v[0], &v[1]) else {
        return Err(bq_error("GENERATE_DATE_ARRAY: unexpected argument types"));
    };
    let step = step_of(v.get(2))?;
    if step.nanoseconds != 0 {
        return Err(bq_error(
            "GENERATE_DATE_ARRAY only supports DAY, WEEK, MONTH, QUARTER and YEAR steps",
        ));
    }
    if step.months != 0 && step.days != 0 {
        return Err(not_supported(
            "GENERATE_DATE_ARRAY step with both months and days",
        ));
    }
    if step.months == 0 && step.days == 0 {
        return Err(step_zero());
    }
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let start_date = epoch + TimeDelta::days(i64::from(*start));
    let forward = step.months > 0 || step.days > 0;
    let mut out = Vec::new();
    for k in 0i64.. {
        let date = if step.months != 0 {
            let m = i64::from(step.months) * k;
            let months = Months::new(u32::try_from(m.unsigned_abs()).map_err(|_| too_many())?);
            if m >= 0 {
                start_date.checked_add_months(months)
            } else {
                start_date.checked_sub_months(months)
            }
        } else {
            start_date.checked_add_signed(TimeDelta::days(i64::from(step.days) * k))
        };
        let Some(date) = date else { break };
        let days = (date - epoch).num_days();
        if (forward && days > i64::from(*end)) || (!forward && days < i64::from(*end)) {
            break;
        }
        out.push(i32::try_from(days).map_err(|_| too_many())?);
        if out.len() > MAX_ELEMENTS {
            return Err(too_many());
        }
    }
    Ok(Arc::new(datafusion::arrow::array::Date32Array::from(out)))
}

fn timestamps(v: &[ScalarValue]) -> Result<ArrayRef> {
    let (
        ScalarValue::TimestampMicrosecond(Some(start), _),
        ScalarValue::TimestampMicrosecond(Some(end), _),
    ) = (&v[0], &v[1])
    else {
        return Err(bq_error(
            "GENERATE_TIMESTAMP_ARRAY: unexpected argument types",
        ));
    };
    let step = step_of(v.get(2))?;
    if step.months != 0 {
        return Err(bq_error(
            "GENERATE_TIMESTAMP_ARRAY does not support MONTH, QUARTER or YEAR steps",
        ));
    }
    if step.nanoseconds % 1000 != 0 {
        return Err(not_supported(
            "GENERATE_TIMESTAMP_ARRAY with a NANOSECOND step",
        ));
    }
    let step_us = i64::from(step.days) * 86_400_000_000 + step.nanoseconds / 1000;
    if step_us == 0 {
        return Err(step_zero());
    }
    let mut out = Vec::new();
    let mut x = *start;
    while (step_us > 0 && x <= *end) || (step_us < 0 && x >= *end) {
        out.push(x);
        if out.len() > MAX_ELEMENTS {
            return Err(too_many());
        }
        match x.checked_add(step_us) {
            Some(next) => x = next,
            None => break,
        }
    }
    Ok(Arc::new(
        datafusion::arrow::array::TimestampMicrosecondArray::from(out).with_timezone("UTC"),
    ))
}
