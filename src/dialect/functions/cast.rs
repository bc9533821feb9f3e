//! BigQuery's conversion rules for `CAST`/`SAFE_CAST` to INT64 and to STRING, where Arrow's
//! casts differ from BigQuery's:
//!
//! - STRING → INT64 accepts surrounding whitespace and hexadecimal (`'0x1F'`, `'-0x1F'`); bad
//!   input raises `Bad int64 value: <s>`.
//! - FLOAT64 → INT64 rounds half away from zero; NaN, infinities and out-of-range values raise an
//!   error. NUMERIC/BIGNUMERIC → INT64 rounds half away from zero too (Arrow truncates).
//! - FLOAT64 → STRING uses BigQuery's text form (`1e+20`, `inf`, `-inf`, `nan`, `-0`); NUMERIC →
//!   STRING drops trailing zeros; BYTES → STRING requires valid UTF-8.
//! - INTERVAL → STRING is BigQuery's `Y-M D H:M:S[.F]` form; STRING → INTERVAL reads it (and
//!   ISO 8601 durations) with `interval.rs`.
//! - DATETIME/TIMESTAMP literals with a one-digit hour (`TIMESTAMP '2016-10-18 2:51:45'`) are
//!   rewritten to their canonical text, which Arrow parses.
//!
//! [`rewrite_casts`] turns such casts into calls of `$bq_cast_int64` / `$bq_cast_string` (and
//! `SAFE_CAST` into their `SAFE.` twins) before [`crate::dialect::casts::map_cast_types`] runs.
//! `CAST(... FORMAT ...)` is left alone for `cast_format.rs`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast>.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Builder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Statement, Value, VisitMut, VisitorMut,
};

use super::safe::safe_name;
use super::udf::Udf;
use super::{bq_error, not_supported};

const CAST_INT64: &str = "$bq_cast_int64";
const CAST_STRING: &str = "$bq_cast_string";

/// Rewrites `CAST`/`SAFE_CAST` to INT64 and STRING (without FORMAT) into BigQuery's casts.
pub fn rewrite_casts(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Casts);
}

struct Casts;

impl VisitorMut for Casts {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::TypedString(ts) = expr
            && matches!(ts.data_type, SqlType::Datetime(_) | SqlType::Timestamp(..))
            && let Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) = &ts.value.value
            && let Some(canonical) = canonical_datetime_literal(s, &ts.data_type)
        {
            ts.value.value = Value::SingleQuotedString(canonical);
            return ControlFlow::Continue(());
        }
        if let Expr::Cast {
            kind,
            expr: inner,
            data_type,
            array: false,
            format: None,
        } = expr
        {
            let name = match data_type {
                SqlType::Int64 | SqlType::BigInt(None) | SqlType::Integer(None) => CAST_INT64,
                SqlType::String(None) => CAST_STRING,
                SqlType::Interval { .. } => super::interval::CAST_INTERVAL,
                _ => return ControlFlow::Continue(()),
            };
            let name = match kind {
                CastKind::Cast => name.to_string(),
                CastKind::SafeCast | CastKind::TryCast => safe_name(name),
                CastKind::DoubleColon => return ControlFlow::Continue(()),
            };
            let arg = std::mem::replace(
                inner.as_mut(),
                Expr::value(datafusion::sql::sqlparser::ast::Value::Null),
            );
            *expr = call(&name, arg);
        }
        ControlFlow::Continue(())
    }
}

/// DATETIME/TIMESTAMP literals with a one-digit hour (`'2016-10-18 2:51:45'`, which BigQuery
/// accepts and Arrow does not) in their canonical form; `None` when the literal needs no change
/// or is not valid (DataFusion then reports it).
fn canonical_datetime_literal(s: &str, ty: &SqlType) -> Option<String> {
    let colon = s.find(':')?;
    let before = &s[..colon];
    let hour_start = before.rfind([' ', 'T', 't']).map(|i| i + 1)?;
    if colon - hour_start != 1 {
        return None;
    }
    let kind = match ty {
        SqlType::Datetime(_) => super::temporal::Kind::Datetime,
        _ => super::temporal::Kind::Timestamp,
    };
    match super::temporal::parse_literal(s, kind).ok()? {
        super::temporal::Civil::Datetime(dt) => {
            Some(dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        }
        super::temporal::Civil::Timestamp(t) => {
            Some(t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string())
        }
        _ => None,
    }
}

fn call(name: &str, arg: Expr) -> Expr {
    crate::dialect::ast_build::call_quoted(name, vec![arg])
}

/// The cast functions the rewrite calls.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Udf::new(
            CAST_INT64,
            same,
            |_| Ok(DataType::Int64),
            |a, _| to_int64(&a[0]),
        )
        .build(),
        Udf::new(
            CAST_STRING,
            same,
            |_| Ok(DataType::Utf8),
            |a, _| to_string(&a[0]),
        )
        .build(),
    ]
}

fn same(types: &[DataType]) -> Result<Vec<DataType>> {
    Ok(types.to_vec())
}

fn to_int64(a: &ArrayRef) -> Result<ArrayRef> {
    match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = cast(a, &DataType::Utf8)?;
            let mut out = Int64Builder::with_capacity(s.len());
            for v in s.as_string::<i32>().iter() {
                out.append_option(v.map(parse_int64).transpose()?);
            }
            Ok(Arc::new(out.finish()))
        }
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let f = cast(a, &DataType::Float64)?;
            let mut out = Int64Builder::with_capacity(f.len());
            for v in f.as_primitive::<Float64Type>().iter() {
                out.append_option(v.map(float_to_int64).transpose()?);
            }
            Ok(Arc::new(out.finish()))
        }
        DataType::Decimal128(..) | DataType::Decimal256(..) => {
            let mut out = Int64Builder::with_capacity(a.len());
            for row in 0..a.len() {
                let v = ScalarValue::try_from_array(a, row)?;
                out.append_option(decimal_to_int64(&v)?);
            }
            Ok(Arc::new(out.finish()))
        }
        DataType::Interval(_) | DataType::Duration(_) => {
            Err(not_supported("CAST of INTERVAL AS INT64"))
        }
        _ => Ok(cast(a, &DataType::Int64)?),
    }
}

/// STRING → INT64 as BigQuery parses it: whitespace around, optional sign, decimal or `0x` hex.
pub fn parse_int64(s: &str) -> Result<i64> {
    let bad = || bq_error(format!("Bad int64 value: {s}"));
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let (negative, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = match body.get(..2) {
        Some("0x" | "0X") => (16, &body[2..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(bad());
    }
    let magnitude = u64::from_str_radix(digits, radix).map_err(|_| bad())?;
    if negative {
        if magnitude == 1u64 << 63 {
            Ok(i64::MIN)
        } else {
            i64::try_from(magnitude).map(|v| -v).map_err(|_| bad())
        }
    } else {
        i64::try_from(magnitude).map_err(|_| bad())
    }
}

/// FLOAT64 → INT64: round half away from zero; error when not finite or out of range.
pub fn float_to_int64(f: f64) -> Result<i64> {
    if !f.is_finite() {
        return Err(bq_error(format!(
            "Illegal conversion of non-finite floating point number to an integer: {}",
            float_to_string(f)
        )));
    }
    let r = f.round();
    // 2^63 is exactly representable; every f64 below it in magnitude fits.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
        return Err(bq_error(format!(
            "int64 out of range: {}",
            float_to_string(f)
        )));
    }
    Ok(r as i64)
}

fn decimal_to_int64(v: &ScalarValue) -> Result<Option<i64>> {
    let (digits, scale) = match v {
        ScalarValue::Decimal128(Some(x), _, s) => (x.to_string(), *s),
        ScalarValue::Decimal256(Some(x), _, s) => (x.to_string(), *s),
        _ => return Ok(None),
    };
    let text = decimal_text(&digits, scale);
    let (int_part, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut n: i128 = int_part
        .parse()
        .map_err(|_| bq_error(format!("int64 out of range: {text}")))?;
    if frac.as_bytes().first().is_some_and(|d| *d >= b'5') {
        n += if text.starts_with('-') { -1 } else { 1 };
    }
    i64::try_from(n)
        .map(Some)
        .map_err(|_| bq_error(format!("int64 out of range: {text}")))
}

/// An integer's text divided by 10^scale, as decimal text without trailing fraction zeros.
pub fn decimal_text(digits: &str, scale: i8) -> String {
    let (neg, d) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    if scale <= 0 {
        return format!("{neg}{d}{}", "0".repeat(scale.unsigned_abs() as usize));
    }
    let s = scale as usize;
    let d = format!("{d:0>width$}", width = s + 1);
    let (i, f) = d.split_at(d.len() - s);
    let f = f.trim_end_matches('0');
    if f.is_empty() {
        format!("{neg}{i}")
    } else {
        format!("{neg}{i}.{f}")
    }
}

fn to_string(a: &ArrayRef) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(a.len(), a.len() * 8);
    match a.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let f = cast(a, &DataType::Float64)?;
            for v in f.as_primitive::<Float64Type>().iter() {
                out.append_option(v.map(float_to_string));
            }
        }
        DataType::Decimal128(..) | DataType::Decimal256(..) => {
            for row in 0..a.len() {
                let text = match ScalarValue::try_from_array(a, row)? {
                    ScalarValue::Decimal128(Some(x), _, s) => Some(decimal_text(&x.to_string(), s)),
                    ScalarValue::Decimal256(Some(x), _, s) => Some(decimal_text(&x.to_string(), s)),
                    _ => None,
                };
                out.append_option(text);
            }
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let b = cast(a, &DataType::Binary)?;
            for v in b.as_binary::<i32>().iter() {
                let s = v
                    .map(|b| {
                        std::str::from_utf8(b)
                            .map_err(|_| bq_error("Invalid UTF-8 in BYTES cast to STRING"))
                    })
                    .transpose()?;
                out.append_option(s);
            }
        }
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Null
        | DataType::Date32 => return Ok(cast(a, &DataType::Utf8)?),
        DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano) => {
            for row in 0..a.len() {
                out.append_option(crate::output::value::text(a.as_ref(), row));
            }
        }
        other => {
            // Dates, times and timestamps keep DataFusion's cast until the date/time casts
            // land; nested types have no faithful text form here.
            if matches!(
                other,
                DataType::Timestamp(..) | DataType::Time64(_) | DataType::Time32(_)
            ) {
                return Ok(cast(a, &DataType::Utf8)?);
            }
            return Err(not_supported(format!("CAST of {other} AS STRING")));
        }
    }
    Ok(Arc::new(out.finish()))
}

/// FLOAT64 as BigQuery's STRING: the shortest of `%.15g` / `%.17g` that reads back exactly.
pub fn float_to_string(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let short = format_g(f, 15);
    if short.parse::<f64>().ok() == Some(f) {
        short
    } else {
        format_g(f, 17)
    }
}

/// C's `%.<precision>g`.
fn format_g(f: f64, precision: usize) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{:.*e}", precision - 1, f);
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (precision as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{f:.decimals$}")).to_string()
    }
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_text_forms() {
        assert_eq!(float_to_string(1e20), "1e+20");
        assert_eq!(float_to_string(0.1), "0.1");
        assert_eq!(float_to_string(1.0), "1");
        assert_eq!(float_to_string(-0.0), "-0");
        assert_eq!(float_to_string(0.00001), "1e-05");
        assert_eq!(float_to_string(123456.789), "123456.789");
        assert_eq!(float_to_string(1.0 / 3.0), "0.33333333333333331");
        assert_eq!(float_to_string(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn int64_parsing() {
        assert_eq!(parse_int64("0x123").ok(), Some(291));
        assert_eq!(parse_int64("-0x123").ok(), Some(-291));
        assert_eq!(parse_int64(" 42 ").ok(), Some(42));
        assert_eq!(parse_int64("-9223372036854775808").ok(), Some(i64::MIN));
        assert!(parse_int64("9223372036854775808").is_err());
        assert!(parse_int64("1.5").is_err());
        assert_eq!(float_to_int64(2.5).ok(), Some(3));
        assert_eq!(float_to_int64(-2.5).ok(), Some(-3));
        assert!(float_to_int64(1e19).is_err());
    }
}
