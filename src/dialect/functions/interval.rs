//! BigQuery INTERVAL functions: MAKE_INTERVAL, JUSTIFY_DAYS, JUSTIFY_HOURS, JUSTIFY_INTERVAL and
//! EXTRACT from an INTERVAL. An INTERVAL is Arrow's MonthDayNano (BigQuery keeps microseconds).
//!
//! The operators `INTERVAL * INT64`, `INTERVAL / INT64` (the remainder of months carries into
//! days as 30 days, the remainder of days into microseconds), `DATE - DATE` (an INTERVAL of days)
//! and `TIMESTAMP - TIMESTAMP` (an INTERVAL of microseconds) are planned by [`IntervalPlanner`];
//! `DATETIME - DATETIME` is `not supported`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/interval_functions>
//! and <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#arithmetic_operators>.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, ScalarUDF};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::bq_error;
use super::not_supported;
use super::temporal::*;

const US_PER_DAY: i64 = 86_400_000_000;

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_udf(INTERVAL_MUL, ret_interval, interval_mul),
        row_udf(CAST_INTERVAL, ret_interval, cast_interval),
        row_udf(INTERVAL_DIV, ret_interval, interval_div),
        row_udf(INSTANT_DIFF, ret_interval, instant_diff),
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

const INTERVAL_MUL: &str = "$bq_interval_mul";
/// `CAST(x AS INTERVAL)`, called by `cast.rs`.
pub const CAST_INTERVAL: &str = "$bq_cast_interval";
const INTERVAL_DIV: &str = "$bq_interval_div";
const INSTANT_DIFF: &str = "$bq_instant_diff";

/// Plans BigQuery's INTERVAL operators (see the module doc).
#[derive(Debug)]
pub struct IntervalPlanner;

pub fn expr_planners() -> Vec<Arc<dyn ExprPlanner>> {
    vec![Arc::new(IntervalPlanner)]
}

impl ExprPlanner for IntervalPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let lt = expr.left.get_type(schema)?;
        let rt = expr.right.get_type(schema)?;
        let is_iv = |t: &DataType| matches!(t, DataType::Interval(_));
        let is_int = |t: &DataType| t.is_integer();
        let (name, args) = match (&expr.op, &lt, &rt) {
            (BinaryOperator::Multiply, l, r) if is_iv(l) && is_int(r) => {
                (INTERVAL_MUL, vec![expr.left, expr.right])
            }
            (BinaryOperator::Multiply, l, r) if is_int(l) && is_iv(r) => {
                (INTERVAL_MUL, vec![expr.right, expr.left])
            }
            (BinaryOperator::Divide, l, r) if is_iv(l) && is_int(r) => {
                (INTERVAL_DIV, vec![expr.left, expr.right])
            }
            (BinaryOperator::Multiply | BinaryOperator::Divide, l, r) if is_iv(l) || is_iv(r) => {
                return Err(not_supported(format!(
                    "INTERVAL arithmetic {l} {} {r}",
                    expr.op
                )));
            }
            (BinaryOperator::Minus, DataType::Date32, DataType::Date32) => {
                (INSTANT_DIFF, vec![expr.left, expr.right])
            }
            (
                BinaryOperator::Minus,
                DataType::Timestamp(_, Some(_)),
                DataType::Timestamp(_, Some(_)),
            ) => (INSTANT_DIFF, vec![expr.left, expr.right]),
            (BinaryOperator::Minus, DataType::Timestamp(_, None), DataType::Timestamp(_, None)) => {
                return Err(not_supported("DATETIME - DATETIME"));
            }
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let udf = scalar_functions()
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| not_supported(name))?;
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(udf, args),
        )))
    }
}

fn interval_arg(v: &ScalarValue) -> Result<(i32, i32, i64)> {
    parts(std::slice::from_ref(v))
}

fn interval_mul(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (m, d, us) = interval_arg(&a[0])?;
    let n = int_arg(&a[1])?;
    let err = || bq_error("Interval overflow");
    let m = i64::from(m).checked_mul(n).ok_or_else(err)?;
    let d = i64::from(d).checked_mul(n).ok_or_else(err)?;
    let us = us.checked_mul(n).ok_or_else(err)?;
    check_interval(m, d, us)
}

fn interval_div(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (m, d, us) = interval_arg(&a[0])?;
    let n = int_arg(&a[1])?;
    if n == 0 {
        return Err(bq_error("division by zero"));
    }
    let (m, n) = (i64::from(m), n);
    let months = m / n;
    let days_total = i64::from(d) + (m % n) * 30;
    let days = days_total / n;
    let us_total = i128::from(us) + i128::from(days_total % n) * i128::from(US_PER_DAY);
    let us = i64::try_from(us_total / i128::from(n)).map_err(|_| bq_error("Interval overflow"))?;
    check_interval(months, days, us)
}

/// BigQuery's INTERVAL limits: 10000 years, 3660000 days, 87840000 hours.
fn check_interval(m: i64, d: i64, us: i64) -> Result<ScalarValue> {
    if m.abs() > 120_000 || d.abs() > 3_660_000 || us.abs() > 87_840_000 * 3_600_000_000 {
        return Err(bq_error("Interval overflow"));
    }
    Ok(to_interval(m as i32, d as i32, us))
}

fn instant_diff(a: &[ScalarValue]) -> Result<ScalarValue> {
    match (&a[0], &a[1]) {
        (ScalarValue::Date32(Some(x)), ScalarValue::Date32(Some(y))) => {
            check_interval(0, i64::from(*x) - i64::from(*y), 0)
        }
        (x, y) => match (civil(x, Kind::Timestamp)?, civil(y, Kind::Timestamp)?) {
            (Civil::Timestamp(x), Civil::Timestamp(y)) => {
                check_interval(0, 0, x.timestamp_micros() - y.timestamp_micros())
            }
            _ => Err(not_supported("this date/time subtraction")),
        },
    }
}

fn cast_interval(a: &[ScalarValue]) -> Result<ScalarValue> {
    match a.first() {
        Some(v @ ScalarValue::IntervalMonthDayNano(_)) => Ok(v.clone()),
        Some(ScalarValue::Utf8(Some(s)))
        | Some(ScalarValue::LargeUtf8(Some(s)))
        | Some(ScalarValue::Utf8View(Some(s))) => {
            let (m, d, us) = parse_interval_text(s)
                .ok_or_else(|| bq_error(format!("Invalid INTERVAL value '{s}'")))?;
            check_interval(m, d, us)
        }
        Some(other) => Err(not_supported(format!(
            "CAST of {} AS INTERVAL",
            other.data_type()
        ))),
        None => Err(not_supported("CAST AS INTERVAL without a value")),
    }
}

/// BigQuery's INTERVAL text, or ISO 8601 `P[nY][nM][nW][nD][T[nH][nM][n[.,]nS]]`. The
/// canonical forms are told apart by their counts of spaces, colons and dashes after a digit:
/// `Y-M D H:M:S`, `Y-M D H:M`, `Y-M D H`, `Y-M D`, `Y-M`, `M D H`, `M D H:M`, `M D H:M:S`,
/// `D H:M`, `D H:M:S`, `H:M:S` (seconds may have up to 6 fraction digits).
/// Returns (months, days, microseconds).
pub fn parse_interval_text(s: &str) -> Option<(i64, i64, i64)> {
    if let Some(iso) = s.strip_prefix('P') {
        return parse_iso_interval(iso);
    }
    let (mut spaces, mut colons, mut dashes, mut prev) = (0, 0, 0, ' ');
    for c in s.chars() {
        match c {
            ' ' => spaces += 1,
            ':' => colons += 1,
            '-' if prev.is_ascii_digit() => dashes += 1,
            _ => {}
        }
        prev = c;
    }
    let parts: Vec<&str> = s.split(' ').collect();
    match (spaces, colons, dashes) {
        (2, _, 1) => Some((
            parse_ym(parts[0])?,
            signed(parts[1])?,
            parse_time(parts[2])?,
        )),
        (1, 0, 1) => Some((parse_ym(parts[0])?, signed(parts[1])?, 0)),
        (0, 0, 1) => Some((parse_ym(parts[0])?, 0, 0)),
        (2, _, 0) => Some((signed(parts[0])?, signed(parts[1])?, parse_time(parts[2])?)),
        (1, 1 | 2, 0) => Some((0, signed(parts[0])?, parse_time(parts[1])?)),
        (0, 2, 0) => Some((0, 0, parse_time(parts[0])?)),
        _ => None,
    }
}

fn signed(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = body.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// `[+|-]Y-M`.
fn parse_ym(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (y, m) = body.split_once('-')?;
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(y) || !digits(m) {
        return None;
    }
    let months = y
        .parse::<i64>()
        .ok()?
        .checked_mul(12)?
        .checked_add(m.parse().ok()?)?;
    Some(if neg { -months } else { months })
}

/// `[+|-]H`, `[+|-]H:M` or `[+|-]H:M:S[.F]`, in microseconds.
fn parse_time(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let fields: Vec<&str> = body.split(':').collect();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (sec, frac) = match fields.len() {
        3 => match fields[2].split_once('.') {
            Some((w, f)) => (w, f),
            None => (fields[2], ""),
        },
        _ => ("0", ""),
    };
    if fields.len() > 3
        || !fields[..fields.len().min(2)].iter().all(|f| digits(f))
        || !digits(sec)
        || frac.len() > 6
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (fields.len() == 3 && fields[2].ends_with('.'))
    {
        return None;
    }
    let h: i64 = fields[0].parse().ok()?;
    let m: i64 = match fields.get(1) {
        Some(m) => m.parse().ok()?,
        None => 0,
    };
    let sec: i64 = sec.parse().ok()?;
    let frac_us: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    let us = h
        .checked_mul(3_600_000_000)?
        .checked_add(m.checked_mul(60_000_000)?)?
        .checked_add(sec.checked_mul(1_000_000)?)?
        .checked_add(frac_us)?;
    Some(if neg { -us } else { us })
}

fn parse_iso_interval(s: &str) -> Option<(i64, i64, i64)> {
    let (date, time) = match s.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let (mut months, mut days, mut us) = (0i64, 0i64, 0i64);
    let mut rest = date;
    while !rest.is_empty() {
        let end = rest.find(|c: char| c.is_ascii_alphabetic())?;
        let n = signed(&rest[..end])?;
        match rest.as_bytes()[end].to_ascii_uppercase() {
            b'Y' => months = months.checked_add(n.checked_mul(12)?)?,
            b'M' => months = months.checked_add(n)?,
            b'W' => days = days.checked_add(n.checked_mul(7)?)?,
            b'D' => days = days.checked_add(n)?,
            _ => return None,
        }
        rest = &rest[end + 1..];
    }
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        let mut rest = time;
        while !rest.is_empty() {
            let end = rest.find(|c: char| c.is_ascii_alphabetic())?;
            let num = &rest[..end];
            match rest.as_bytes()[end].to_ascii_uppercase() {
                b'H' => us = us.checked_add(signed(num)?.checked_mul(3_600_000_000)?)?,
                b'M' => us = us.checked_add(signed(num)?.checked_mul(60_000_000)?)?,
                b'S' => {
                    let (whole, frac) = match num.split_once(['.', ',']) {
                        Some((w, f)) => (w, f),
                        None => (num, ""),
                    };
                    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let w = signed(whole)?;
                    let f: i64 = if frac.is_empty() {
                        0
                    } else {
                        format!("{frac:0<6}").parse().ok()?
                    };
                    let f = if whole.starts_with('-') { -f } else { f };
                    us = us.checked_add(w.checked_mul(1_000_000)?.checked_add(f)?)?;
                }
                _ => return None,
            }
            rest = &rest[end + 1..];
        }
    }
    Some((months, days, us))
}
