//! `PARSE_NUMERIC` and `PARSE_BIGNUMERIC`: a lenient string-to-decimal parse. Whitespace around
//! the value, a sign before or after it (optionally separated by spaces), commas in the integer
//! part and an exponent are accepted; extra fractional digits round half away from zero.
//!
//! NUMERIC is `Decimal128(38, 9)` and BIGNUMERIC `Decimal256(76, 38)` (see `docs/types.md`).
//! [`parse_decimal_digits`] is public so that casts can share the rounding.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#parse_numeric>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, Decimal256Builder};
use datafusion::arrow::datatypes::{DataType, i256};
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::bq_error;
use super::udf::Udf;

/// The family's scalar functions.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Udf::new(
            "parse_numeric",
            coerce_string,
            |_| Ok(DataType::Decimal128(38, 9)),
            |a, _| parse_numeric(&a[0]),
        )
        .build(),
        Udf::new(
            "parse_bignumeric",
            coerce_string,
            |_| Ok(DataType::Decimal256(76, 38)),
            |a, _| parse_bignumeric(&a[0]),
        )
        .build(),
    ]
}

fn coerce_string(types: &[DataType]) -> Result<Vec<DataType>> {
    match types {
        [DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null] => {
            Ok(vec![DataType::Utf8])
        }
        other => Err(bq_error(format!(
            "No matching signature for PARSE_NUMERIC for argument types: {other:?}; supported: STRING"
        ))),
    }
}

fn parse_numeric(a: &ArrayRef) -> Result<ArrayRef> {
    let mut out = Decimal128Builder::with_capacity(a.len());
    for v in a.as_string::<i32>().iter() {
        match v {
            None => out.append_null(),
            Some(s) => {
                let digits = parse_decimal_digits(s, 9, 38)
                    .ok_or_else(|| bq_error(format!("Invalid NUMERIC value: {s}")))?;
                let n: i128 = digits
                    .parse()
                    .map_err(|_| bq_error(format!("Invalid NUMERIC value: {s}")))?;
                out.append_value(n);
            }
        }
    }
    Ok(Arc::new(out.finish().with_precision_and_scale(38, 9)?))
}

fn parse_bignumeric(a: &ArrayRef) -> Result<ArrayRef> {
    let mut out = Decimal256Builder::with_capacity(a.len());
    for v in a.as_string::<i32>().iter() {
        match v {
            None => out.append_null(),
            Some(s) => {
                let n = parse_decimal_digits(s, 38, 77)
                    .and_then(|d| i256::from_string(&d))
                    .ok_or_else(|| bq_error(format!("Invalid BIGNUMERIC value: {s}")))?;
                out.append_value(n);
            }
        }
    }
    Ok(Arc::new(out.finish().with_precision_and_scale(76, 38)?))
}

/// Parses `s` with PARSE_NUMERIC's lenient grammar and returns the value scaled by
/// `10^scale` as a signed decimal integer string (rounded half away from zero), or None when
/// `s` is not a number or needs more than `max_digits` digits.
pub fn parse_decimal_digits(s: &str, scale: u32, max_digits: usize) -> Option<String> {
    let mut body = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let mut negative = None;
    if let Some(rest) = body.strip_prefix(['+', '-']) {
        negative = Some(body.starts_with('-'));
        body = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
    }
    if let Some(rest) = body.strip_suffix(['+', '-']) {
        if negative.is_some() {
            return None;
        }
        negative = Some(body.ends_with('-'));
        body = rest.trim_end_matches(|c: char| c.is_ascii_whitespace());
    }
    let negative = negative.unwrap_or(false);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => {
            let e = &body[i + 1..];
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&body[..i], e.parse::<i64>().ok()?)
        }
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if int_part.starts_with(',')
        || !int_part.bytes().all(|b| b.is_ascii_digit() || b == b',')
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int_digits: String = int_part.chars().filter(|c| *c != ',').collect();
    if int_digits.is_empty() && frac_part.is_empty() {
        return None;
    }
    // value = digits * 10^(exponent - frac_len); scaled = digits * 10^shift.
    let digits = format!("{int_digits}{frac_part}");
    let shift = exponent
        .checked_add(i64::from(scale))?
        .checked_sub(i64::try_from(frac_part.len()).ok()?)?;
    let digits = digits.trim_start_matches('0');
    let mut scaled = if digits.is_empty() {
        String::from("0")
    } else if shift >= 0 {
        if digits.len() as i64 + shift > max_digits as i64 {
            return None;
        }
        format!("{digits}{}", "0".repeat(usize::try_from(shift).ok()?))
    } else {
        let cut = usize::try_from(-shift).ok()?;
        if cut > digits.len() {
            // Every digit is dropped and the first dropped one is a leading zero.
            String::from("0")
        } else {
            let (keep, dropped) = digits.split_at(digits.len() - cut);
            let mut keep = if keep.is_empty() {
                String::from("0")
            } else {
                keep.to_string()
            };
            if dropped.as_bytes().first().is_some_and(|d| *d >= b'5') {
                keep = increment(&keep);
            }
            keep
        }
    };
    if scaled.trim_start_matches('0').len() > max_digits {
        return None;
    }
    if negative && scaled.bytes().any(|b| b != b'0') {
        scaled.insert(0, '-');
    }
    Some(scaled)
}

/// Adds one to a string of decimal digits.
fn increment(digits: &str) -> String {
    let mut bytes = digits.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    format!("1{}", String::from_utf8_lossy(&bytes))
}
