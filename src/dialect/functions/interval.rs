//! BigQuery INTERVAL functions: MAKE_INTERVAL, JUSTIFY_DAYS, JUSTIFY_HOURS, JUSTIFY_INTERVAL and
//! EXTRACT from an INTERVAL. An INTERVAL is Arrow's MonthDayNano (BigQuery keeps microseconds).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/interval_functions>.

use std::sync::Arc;

use datafusion::arrow::datatypes::IntervalMonthDayNano;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::bq_error;
use super::not_supported;
use super::temporal::*;

const US_PER_DAY: i64 = 86_400_000_000;

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_udf("make_interval", ret_interval, make_interval),
        row_udf("justify_days", ret_interval, |a| {
            let (m, d, us) = parts(a)?;
            let (m, d) = justify_days(m, d)?;
            Ok(to_interval(m, d, us))
        }),
        row_udf("justify_hours", ret_interval, |a| {
            let (m, d, us) = parts(a)?;
            let (d, us) = justify_hours(d, us)?;
            Ok(to_interval(m, d, us))
        }),
        row_udf("justify_interval", ret_interval, |a| {
            let (m, d, us) = parts(a)?;
            let (d, us) = justify_hours(d, us)?;
            let (m, d) = justify_days(m, d)?;
            Ok(to_interval(m, d, us))
        }),
    ]
}

fn parts(a: &[ScalarValue]) -> Result<(i32, i32, i64)> {
    match a.first() {
        Some(ScalarValue::IntervalMonthDayNano(Some(i))) if a.len() == 1 => {
            Ok((i.months, i.days, i.nanoseconds / 1000))
        }
        _ => Err(not_supported("this argument to an INTERVAL function")),
    }
}

fn justify_days(m: i32, d: i32) -> Result<(i32, i32)> {
    let m = m
        .checked_add(d / 30)
        .ok_or_else(|| bq_error("Interval overflow"))?;
    Ok((m, d % 30))
}

fn justify_hours(d: i32, us: i64) -> Result<(i32, i64)> {
    let d = i64::from(d) + us / US_PER_DAY;
    let d = i32::try_from(d).map_err(|_| bq_error("Interval overflow"))?;
    Ok((d, us % US_PER_DAY))
}

/// `MAKE_INTERVAL(year, month, day, hour, minute, second)`; `datetime_syntax` turns named
/// arguments into this positional form.
fn make_interval(a: &[ScalarValue]) -> Result<ScalarValue> {
    if a.len() > 6 {
        return Err(not_supported("MAKE_INTERVAL with more than 6 arguments"));
    }
    let mut v = [0i64; 6];
    for (i, x) in a.iter().enumerate() {
        v[i] = int_arg(x)?;
    }
    let err = || bq_error("Interval overflow");
    let months = v[0]
        .checked_mul(12)
        .and_then(|y| y.checked_add(v[1]))
        .ok_or_else(err)?;
    let us = v[3]
        .checked_mul(3_600_000_000)
        .and_then(|h| v[4].checked_mul(60_000_000).and_then(|m| h.checked_add(m)))
        .and_then(|x| v[5].checked_mul(1_000_000).and_then(|s| x.checked_add(s)))
        .ok_or_else(err)?;
    Ok(to_interval(
        i32::try_from(months).map_err(|_| err())?,
        i32::try_from(v[2]).map_err(|_| err())?,
        us,
    ))
}

/// EXTRACT(part FROM interval): YEAR and MONTH from the month count, DAY from days, the time parts
/// from the microseconds (signed like the interval).
pub fn extract(p: Part, i: IntervalMonthDayNano) -> Result<ScalarValue> {
    let us = i.nanoseconds / 1000;
    let n = match p {
        Part::Year => (i.months / 12) as i64,
        Part::Month => (i.months % 12) as i64,
        Part::Day => i.days as i64,
        Part::Hour => us / 3_600_000_000,
        Part::Minute => us / 60_000_000 % 60,
        Part::Second => us / 1_000_000 % 60,
        Part::Millisecond => us / 1000 % 1000,
        Part::Microsecond => us % 1_000_000,
        _ => return Err(not_supported("EXTRACT of this part from INTERVAL")),
    };
    Ok(ScalarValue::Int64(Some(n)))
}
