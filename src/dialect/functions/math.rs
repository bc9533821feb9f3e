//! Mathematical functions with BigQuery's error behaviour: domain errors and overflow raise an
//! error (NULL under `SAFE.`) where DataFusion would return NaN or infinity.
//!
//! Covered: `SQRT`, `LN`, `LOG`, `LOG10`, `EXP`, `POW`/`POWER`, `ACOS`, `ASIN`, `ACOSH`,
//! `ATANH`, `COT`, `COTH`, `CSC`, `CSCH`, `SEC`, `SECH`, `IS_INF`, `IS_NAN`, `IEEE_DIVIDE`,
//! `SAFE_DIVIDE`, `SAFE_ADD`, `SAFE_SUBTRACT`, `SAFE_MULTIPLY`, `SAFE_NEGATE`, `DIV`, `MOD`,
//! `RANGE_BUCKET`, `EUCLIDEAN_DISTANCE`, `COSINE_DISTANCE`. FLOAT64 versions only: a NUMERIC
//! argument is `not supported` rather than silently computed in floating point.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/mathematical_functions>.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Array, Float64Builder, Int64Array,
    Int64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::udf::Udf;
use super::{bq_error, not_supported};

/// The math family's scalar functions.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        f1("sqrt", |x| {
            if x < 0.0 {
                Err(bq_error(format!(
                    "Argument to SQRT cannot be negative: {x} (cannot take square root of a negative number)"
                )))
            } else {
                Ok(x.sqrt())
            }
        }),
        f1("ln", |x| log_arg("LN", x).map(f64::ln)),
        f1("log10", |x| log_arg("LOG10", x).map(f64::log10)),
        f1("exp", |x| finite("EXP", x, x.exp())),
        f1("acos", |x| {
            domain("ACOS", x, (-1.0..=1.0).contains(&x), x.acos())
        }),
        f1("asin", |x| {
            domain("ASIN", x, (-1.0..=1.0).contains(&x), x.asin())
        }),
        f1("acosh", |x| {
            domain("ACOSH", x, x >= 1.0 || x.is_nan(), x.acosh())
        }),
        f1("atanh", |x| {
            domain("ATANH", x, x.abs() < 1.0 || x.is_nan(), x.atanh())
        }),
        f1("cot", |x| nonzero("COT", x).map(|x| 1.0 / x.tan())),
        f1("coth", |x| nonzero("COTH", x).map(|x| 1.0 / x.tanh())),
        f1("csc", |x| nonzero("CSC", x).map(|x| 1.0 / x.sin())),
        f1("csch", |x| nonzero("CSCH", x).map(|x| 1.0 / x.sinh())),
        f1("sec", |x| Ok(1.0 / x.cos())),
        f1("sech", |x| Ok(1.0 / x.cosh())),
        Udf::new("log", coerce_float, ret_float, |a, _| {
            let x = a[0].as_primitive::<Float64Type>();
            let out: Float64Array = (0..x.len())
                .map(|i| {
                    let base = match a.get(1) {
                        Some(b) if b.is_null(i) => return Ok(None),
                        Some(b) => Some(b.as_primitive::<Float64Type>().value(i)),
                        None => None,
                    };
                    if x.is_null(i) {
                        return Ok(None);
                    }
                    let v = log_arg("LOG", x.value(i))?;
                    match base {
                        None => Ok(Some(v.ln())),
                        Some(b) if b <= 0.0 || b == 1.0 => {
                            Err(bq_error(format!("Argument BASE to LOG is invalid: {b}")))
                        }
                        Some(b) => Ok(Some(v.ln() / b.ln())),
                    }
                })
                .collect::<Result<_>>()?;
            Ok(Arc::new(out) as ArrayRef)
        })
        .build(),
        f2("pow", pow).alias("power").build(),
        f2("ieee_divide", |x, y| Ok(x / y)).build(),
        Udf::new("is_inf", coerce_float, ret_bool, |a, _| {
            test_float(a, f64::is_infinite)
        })
        .build(),
        Udf::new("is_nan", coerce_float, ret_bool, |a, _| {
            test_float(a, f64::is_nan)
        })
        .build(),
        Udf::new("safe_divide", coerce_float, ret_float, |a, _| {
            float2(a, |x, y| if y == 0.0 { None } else { Some(x / y) })
        })
        .build(),
        Udf::new("safe_add", coerce_same, ret_first, |a, _| {
            num2(a, i64::checked_add, |x, y| x + y)
        })
        .build(),
        Udf::new("safe_subtract", coerce_same, ret_first, |a, _| {
            num2(a, i64::checked_sub, |x, y| x - y)
        })
        .build(),
        Udf::new("safe_multiply", coerce_same, ret_first, |a, _| {
            num2(a, i64::checked_mul, |x, y| x * y)
        })
        .build(),
        Udf::new("safe_negate", coerce_same, ret_first, |a, _| negate(a)).build(),
        Udf::new("div", coerce_int, ret_first, |a, _| int_div_mod(a, true)).build(),
        Udf::new("mod", coerce_int, ret_first, |a, _| int_div_mod(a, false)).build(),
        Udf::new(
            "range_bucket",
            coerce_range_bucket,
            |_| Ok(DataType::Int64),
            range_bucket,
        )
        .build(),
        Udf::new("euclidean_distance", coerce_vectors, ret_float, |a, _| {
            distance(a, euclidean)
        })
        .build(),
        Udf::new("cosine_distance", coerce_vectors, ret_float, |a, _| {
            distance(a, cosine)
        })
        .build(),
    ]
}

type F1 = fn(f64) -> Result<f64>;
type F2 = fn(f64, f64) -> Result<f64>;
type Metric = fn(&BTreeMap<String, f64>, &BTreeMap<String, f64>, bool) -> Result<f64>;

fn f1(name: &str, op: F1) -> Arc<ScalarUDF> {
    Udf::new(name, coerce_float, ret_float, move |a, _| {
        let x = a[0].as_primitive::<Float64Type>();
        let out: Float64Array = x
            .iter()
            .map(|v| v.map(op).transpose())
            .collect::<Result<_>>()?;
        Ok(Arc::new(out) as ArrayRef)
    })
    .build()
}

fn f2(name: &str, op: F2) -> Udf {
    Udf::new(name, coerce_float, ret_float, move |a, _| {
        let x = a[0].as_primitive::<Float64Type>();
        let y = a[1].as_primitive::<Float64Type>();
        let out: Float64Array = x
            .iter()
            .zip(y.iter())
            .map(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => op(x, y).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<_>>()?;
        Ok(Arc::new(out) as ArrayRef)
    })
}

fn log_arg(name: &str, x: f64) -> Result<f64> {
    if x <= 0.0 {
        Err(bq_error(format!(
            "Argument to {name} must be greater than zero: {x}"
        )))
    } else {
        Ok(x)
    }
}

fn finite(name: &str, x: f64, y: f64) -> Result<f64> {
    if y.is_infinite() && x.is_finite() {
        Err(bq_error(format!(
            "Floating point overflow in function: {name}({x})"
        )))
    } else {
        Ok(y)
    }
}

fn domain(name: &str, x: f64, ok: bool, y: f64) -> Result<f64> {
    if ok || x.is_nan() {
        Ok(y)
    } else {
        Err(bq_error(format!("Argument to {name} is out of range: {x}")))
    }
}

fn nonzero(name: &str, x: f64) -> Result<f64> {
    if x == 0.0 {
        Err(bq_error(format!("division by zero: {name}({x})")))
    } else {
        Ok(x)
    }
}

fn pow(x: f64, y: f64) -> Result<f64> {
    if x == 0.0 && y < 0.0 {
        return Err(bq_error(format!(
            "Floating point error in function: POW({x}, {y})"
        )));
    }
    if x < 0.0 && x.is_finite() && y.is_finite() && y.fract() != 0.0 {
        return Err(bq_error(format!(
            "Floating point error in function: POW({x}, {y})"
        )));
    }
    let r = x.powf(y);
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(bq_error(format!(
            "Floating point overflow in function: POW({x}, {y})"
        )));
    }
    Ok(r)
}

fn ret_float(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Float64)
}

fn ret_bool(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}

fn ret_first(types: &[DataType]) -> Result<DataType> {
    Ok(types.first().cloned().unwrap_or(DataType::Int64))
}

fn is_int(t: &DataType) -> bool {
    t.is_integer() || *t == DataType::Null
}

fn is_numeric_arg(t: &DataType) -> Result<bool> {
    if is_int(t) || t.is_floating() {
        Ok(true)
    } else if matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) {
        Err(not_supported(
            "NUMERIC/BIGNUMERIC arguments to this math function",
        ))
    } else {
        Ok(false)
    }
}

/// Every argument to FLOAT64.
fn coerce_float(types: &[DataType]) -> Result<Vec<DataType>> {
    for t in types {
        if !is_numeric_arg(t)? {
            return Err(bq_error(format!(
                "No matching signature for function for argument type: {t}"
            )));
        }
    }
    Ok(vec![DataType::Float64; types.len()])
}

/// INT64 if every argument is an integer, else FLOAT64.
fn coerce_same(types: &[DataType]) -> Result<Vec<DataType>> {
    let mut all_int = true;
    for t in types {
        if !is_numeric_arg(t)? {
            return Err(bq_error(format!(
                "No matching signature for function for argument type: {t}"
            )));
        }
        all_int &= is_int(t);
    }
    let to = if all_int {
        DataType::Int64
    } else {
        DataType::Float64
    };
    Ok(vec![to; types.len()])
}

/// INT64 arguments only (DIV, MOD).
fn coerce_int(types: &[DataType]) -> Result<Vec<DataType>> {
    for t in types {
        if !is_int(t) {
            if matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) {
                return Err(not_supported("DIV/MOD of NUMERIC/BIGNUMERIC"));
            }
            return Err(bq_error(format!(
                "No matching signature for function for argument type: {t}; supported: INT64, NUMERIC"
            )));
        }
    }
    Ok(vec![DataType::Int64; types.len()])
}

fn test_float(a: &[ArrayRef], test: fn(f64) -> bool) -> Result<ArrayRef> {
    let x = a[0].as_primitive::<Float64Type>();
    let mut out = BooleanBuilder::with_capacity(x.len());
    for v in x.iter() {
        out.append_option(v.map(test));
    }
    Ok(Arc::new(out.finish()))
}

fn float2(a: &[ArrayRef], op: impl Fn(f64, f64) -> Option<f64>) -> Result<ArrayRef> {
    let x = a[0].as_primitive::<Float64Type>();
    let y = a[1].as_primitive::<Float64Type>();
    let out: Float64Array = x
        .iter()
        .zip(y.iter())
        .map(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => op(x, y),
            _ => None,
        })
        .collect();
    Ok(Arc::new(out))
}

/// SAFE_ADD and friends: NULL on INT64 overflow; FLOAT64 overflow to infinity is NULL too.
fn num2(
    a: &[ArrayRef],
    int_op: fn(i64, i64) -> Option<i64>,
    float_op: fn(f64, f64) -> f64,
) -> Result<ArrayRef> {
    if a[0].data_type() == &DataType::Int64 {
        let x = a[0].as_primitive::<Int64Type>();
        let y = a[1].as_primitive::<Int64Type>();
        let out: Int64Array = x
            .iter()
            .zip(y.iter())
            .map(|(x, y)| int_op(x?, y?))
            .collect();
        return Ok(Arc::new(out));
    }
    float2(a, |x, y| {
        let r = float_op(x, y);
        (!r.is_infinite() || x.is_infinite() || y.is_infinite()).then_some(r)
    })
}

fn negate(a: &[ArrayRef]) -> Result<ArrayRef> {
    if a[0].data_type() == &DataType::Int64 {
        let x = a[0].as_primitive::<Int64Type>();
        let out: Int64Array = x.iter().map(|v| v?.checked_neg()).collect();
        return Ok(Arc::new(out));
    }
    let x = a[0].as_primitive::<Float64Type>();
    let out: Float64Array = x.iter().map(|v| v.map(|v| -v)).collect();
    Ok(Arc::new(out))
}

/// DIV (truncating integer division) and MOD (sign of the dividend), erroring on zero divisors.
fn int_div_mod(a: &[ArrayRef], div: bool) -> Result<ArrayRef> {
    let x = a[0].as_primitive::<Int64Type>();
    let y = a[1].as_primitive::<Int64Type>();
    let mut out = Int64Builder::with_capacity(x.len());
    for (x, y) in x.iter().zip(y.iter()) {
        let (Some(x), Some(y)) = (x, y) else {
            out.append_null();
            continue;
        };
        if y == 0 {
            return Err(bq_error(format!("division by zero: {x} / {y}")));
        }
        let r = if div {
            x.checked_div(y)
                .ok_or_else(|| bq_error(format!("int64 overflow: {x} / {y}")))?
        } else {
            x.checked_rem(y).unwrap_or(0)
        };
        out.append_value(r);
    }
    Ok(Arc::new(out.finish()))
}

fn coerce_range_bucket(types: &[DataType]) -> Result<Vec<DataType>> {
    let [p, arr] = types else {
        return Err(bq_error("RANGE_BUCKET takes two arguments"));
    };
    let elem = match arr {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            f.data_type().clone()
        }
        DataType::Null => DataType::Null,
        other => {
            return Err(bq_error(format!(
                "No matching signature for function RANGE_BUCKET for argument types: {p}, {other}"
            )));
        }
    };
    if !is_numeric_arg(p)? || !is_numeric_arg(&elem)? {
        return Err(not_supported(format!("RANGE_BUCKET of {p} and {elem}")));
    }
    let to = if is_int(p) && is_int(&elem) {
        DataType::Int64
    } else {
        DataType::Float64
    };
    Ok(vec![
        to.clone(),
        DataType::List(Arc::new(Field::new_list_field(to, true))),
    ])
}

fn range_bucket(a: &[ArrayRef], _: &DataType) -> Result<ArrayRef> {
    let float = a[0].data_type() == &DataType::Float64;
    let points: Vec<Option<f64>> = if float {
        a[0].as_primitive::<Float64Type>().iter().collect()
    } else {
        a[0].as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect()
    };
    let ints: Vec<Option<i64>> = if float {
        vec![None; points.len()]
    } else {
        a[0].as_primitive::<Int64Type>().iter().collect()
    };
    let lists = a[1].as_list::<i32>();
    let mut out = Int64Builder::with_capacity(points.len());
    for row in 0..points.len() {
        if lists.is_null(row) {
            out.append_null();
            continue;
        }
        let values = lists.value(row);
        if values.null_count() > 0 {
            return Err(bq_error(
                "Elements in the array argument of RANGE_BUCKET cannot be NULL",
            ));
        }
        let count = if float {
            let v = values.as_primitive::<Float64Type>().values();
            if v.iter().any(|x| x.is_nan()) || v.windows(2).any(|w| w[0] > w[1]) {
                return Err(bq_error(
                    "The array argument of RANGE_BUCKET must be in ascending order and not contain NaN",
                ));
            }
            match points[row] {
                None => None,
                Some(p) if p.is_nan() => None,
                Some(p) => Some(v.iter().filter(|x| **x <= p).count()),
            }
        } else {
            let v = values.as_primitive::<Int64Type>().values();
            if v.windows(2).any(|w| w[0] > w[1]) {
                return Err(bq_error(
                    "The array argument of RANGE_BUCKET must be in ascending order",
                ));
            }
            ints[row].map(|p| v.iter().filter(|x| **x <= p).count())
        };
        out.append_option(count.map(|c| c as i64));
    }
    Ok(Arc::new(out.finish()))
}

fn coerce_vectors(types: &[DataType]) -> Result<Vec<DataType>> {
    let list_of = |t: &DataType| -> Option<DataType> {
        match t {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                Some(f.data_type().clone())
            }
            _ => None,
        }
    };
    types
        .iter()
        .map(|t| match list_of(t) {
            Some(e) if is_int(&e) || e.is_floating() => Ok(DataType::List(Arc::new(
                Field::new_list_field(DataType::Float64, true),
            ))),
            Some(DataType::Struct(_)) => Ok(t.clone()),
            _ => Err(bq_error(format!(
                "No matching signature for vector distance function for argument type: {t}"
            ))),
        })
        .collect()
}

/// A vector as (key, value) pairs: dense vectors use their positions as keys.
fn vector(array: &ArrayRef) -> Result<Option<BTreeMap<String, f64>>> {
    let mut map = BTreeMap::new();
    match array.data_type() {
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>();
            for (i, x) in v.iter().enumerate() {
                let x = x.ok_or_else(|| {
                    bq_error("Cannot compute a distance of vectors with NULL elements")
                })?;
                map.insert(format!("{i:020}"), x);
            }
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            if s.num_columns() != 2 {
                return Err(not_supported("sparse vectors with other than 2 fields"));
            }
            let keys = s.column(0);
            let vals = datafusion::arrow::compute::cast(s.column(1), &DataType::Float64)?;
            let vals = vals.as_primitive::<Float64Type>();
            for i in 0..s.len() {
                let k = ScalarValue::try_from_array(keys, i)?;
                if k.is_null() || vals.is_null(i) {
                    return Err(bq_error(
                        "Cannot compute a distance of vectors with NULL elements",
                    ));
                }
                if map.insert(k.to_string(), vals.value(i)).is_some() {
                    return Err(bq_error(format!("Duplicate index {k} found in vector")));
                }
            }
        }
        other => return Err(not_supported(format!("vector distance of {other}"))),
    }
    Ok(Some(map))
}

fn distance(a: &[ArrayRef], metric: Metric) -> Result<ArrayRef> {
    let x = a[0].as_list::<i32>();
    let y = a[1].as_list::<i32>();
    let dense = !matches!(x.value_type(), DataType::Struct(_));
    let mut out = Float64Builder::with_capacity(x.len());
    for row in 0..x.len() {
        if x.is_null(row) || y.is_null(row) {
            out.append_null();
            continue;
        }
        let (Some(u), Some(v)) = (vector(&x.value(row))?, vector(&y.value(row))?) else {
            out.append_null();
            continue;
        };
        out.append_value(metric(&u, &v, dense)?);
    }
    Ok(Arc::new(out.finish()))
}

fn euclidean(u: &BTreeMap<String, f64>, v: &BTreeMap<String, f64>, dense: bool) -> Result<f64> {
    if dense && u.len() != v.len() {
        return Err(bq_error(format!(
            "Array length mismatch: {} and {}.",
            u.len(),
            v.len()
        )));
    }
    let mut sum = 0.0;
    for (k, a) in u {
        let b = v.get(k).copied().unwrap_or(0.0);
        sum += (a - b) * (a - b);
    }
    for (k, b) in v {
        if !u.contains_key(k) {
            sum += b * b;
        }
    }
    Ok(sum.sqrt())
}

fn cosine(u: &BTreeMap<String, f64>, v: &BTreeMap<String, f64>, dense: bool) -> Result<f64> {
    if dense && u.len() != v.len() {
        return Err(bq_error(format!(
            "Array length mismatch: {} and {}.",
            u.len(),
            v.len()
        )));
    }
    let dot: f64 = u
        .iter()
        .map(|(k, a)| a * v.get(k).copied().unwrap_or(0.0))
        .sum();
    let nu: f64 = u.values().map(|a| a * a).sum::<f64>().sqrt();
    let nv: f64 = v.values().map(|a| a * a).sum::<f64>().sqrt();
    if nu == 0.0 || nv == 0.0 {
        return Err(bq_error(
            "Cannot compute cosine distance against zero vector.",
        ));
    }
    Ok(1.0 - dot / (nu * nv))
}
