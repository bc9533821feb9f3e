//! BigQuery's date/time constructors and calendar arithmetic: DATE, DATETIME, TIME, TIMESTAMP,
//! *_ADD, *_SUB, *_DIFF (boundary counts for calendar parts), *_TRUNC, LAST_DAY, EXTRACT, and the
//! UNIX_* / *_FROM_UNIX_* conversions.
//!
//! References:
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/time_functions>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions>.

use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::temporal::*;
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_udf("date", ret_date, date_ctor),
        row_udf("datetime", ret_datetime, datetime_ctor),
        row_udf("time", ret_time, time_ctor),
        row_udf("timestamp", ret_timestamp, timestamp_ctor),
        row_udf("date_add", ret_date, |a| add(a, Kind::Date, 1)),
        row_udf("date_sub", ret_date, |a| add(a, Kind::Date, -1)),
        row_udf("datetime_add", ret_datetime, |a| add(a, Kind::Datetime, 1)),
        row_udf("datetime_sub", ret_datetime, |a| add(a, Kind::Datetime, -1)),
        row_udf("time_add", ret_time, |a| add(a, Kind::Time, 1)),
        row_udf("time_sub", ret_time, |a| add(a, Kind::Time, -1)),
        row_udf("timestamp_add", ret_timestamp, |a| {
            add(a, Kind::Timestamp, 1)
        }),
        row_udf("timestamp_sub", ret_timestamp, |a| {
            add(a, Kind::Timestamp, -1)
        }),
        row_udf("date_diff", ret_int, |a| diff(a, Kind::Date)),
        row_udf("datetime_diff", ret_int, |a| diff(a, Kind::Datetime)),
        row_udf("time_diff", ret_int, |a| diff(a, Kind::Time)),
        row_udf("timestamp_diff", ret_int, |a| diff(a, Kind::Timestamp)),
        row_udf("date_trunc", ret_date, |a| trunc(a, Kind::Date)),
        row_udf("datetime_trunc", ret_datetime, |a| trunc(a, Kind::Datetime)),
        row_udf("time_trunc", ret_time, |a| trunc(a, Kind::Time)),
        row_udf("timestamp_trunc", ret_timestamp, |a| {
            trunc(a, Kind::Timestamp)
        }),
        row_udf("last_day", ret_date, last_day),
        row_udf("bq_extract", ret_int, extract),
        row_udf("unix_date", ret_int, |a| {
            let d = one_date(a)?;
            Ok(ScalarValue::Int64(Some((d - epoch()).num_days())))
        }),
        row_udf("date_from_unix_date", ret_date, |a| {
            let n = int_arg(arg(a, 0)?)?;
            let d = epoch()
                .checked_add_signed(
                    Duration::try_days(n).ok_or_else(|| bq_error("DATE out of range"))?,
                )
                .ok_or_else(|| bq_error("DATE out of range"))?;
            Ok(to_scalar(check_range(Civil::Date(d))?))
        }),
        row_udf("unix_seconds", ret_int, |a| unix(a, 1_000_000)),
        row_udf("unix_millis", ret_int, |a| unix(a, 1000)),
        row_udf("unix_micros", ret_int, |a| unix(a, 1)),
        row_udf("timestamp_seconds", ret_timestamp, |a| {
            from_unix(a, 1_000_000)
        }),
        row_udf("timestamp_millis", ret_timestamp, |a| from_unix(a, 1000)),
        row_udf("timestamp_micros", ret_timestamp, |a| from_unix(a, 1)),
    ]
}

pub fn arg(a: &[ScalarValue], i: usize) -> Result<&ScalarValue> {
    a.get(i)
        .ok_or_else(|| not_supported("this number of arguments"))
}

fn one_date(a: &[ScalarValue]) -> Result<NaiveDate> {
    match civil(arg(a, 0)?, Kind::Date)? {
        Civil::Date(d) => Ok(d),
        _ => Err(not_supported("this argument type")),
    }
}

fn ts_arg(v: &ScalarValue) -> Result<DateTime<Utc>> {
    match civil(v, Kind::Timestamp)? {
        Civil::Timestamp(t) => Ok(t),
        _ => Err(not_supported("this argument type")),
    }
}

fn unix(a: &[ScalarValue], per: i64) -> Result<ScalarValue> {
    let us = ts_arg(arg(a, 0)?)?.timestamp_micros();
    Ok(ScalarValue::Int64(Some(us.div_euclid(per))))
}

fn from_unix(a: &[ScalarValue], per: i64) -> Result<ScalarValue> {
    let n = int_arg(arg(a, 0)?)?;
    let us = n
        .checked_mul(per)
        .ok_or_else(|| bq_error("TIMESTAMP out of range"))?;
    let t =
        DateTime::from_timestamp_micros(us).ok_or_else(|| bq_error("TIMESTAMP out of range"))?;
    Ok(to_scalar(check_range(Civil::Timestamp(t))?))
}

fn zone_arg(a: &[ScalarValue], i: usize) -> Result<Zone> {
    match a.get(i) {
        Some(v) => zone(&string_arg(v)?),
        None => zone("UTC"),
    }
}

fn date_ctor(a: &[ScalarValue]) -> Result<ScalarValue> {
    if a.len() == 3 {
        let (y, m, d) = (int_arg(&a[0])?, int_arg(&a[1])?, int_arg(&a[2])?);
        let date = NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
            .filter(|_| (1..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
            .ok_or_else(|| {
                bq_error(format!(
                    "Input calculates to invalid date: {y:04}-{m:02}-{d:02}"
                ))
            })?;
        return Ok(to_scalar(Civil::Date(date)));
    }
    let d = match civil(arg(a, 0)?, Kind::Date)? {
        Civil::Timestamp(t) => zone_arg(a, 1)?.local(t).0.date(),
        Civil::Datetime(dt) if a.len() == 1 => dt.date(),
        Civil::Date(d) if a.len() == 1 => d,
        _ => return Err(not_supported("DATE with these arguments")),
    };
    Ok(to_scalar(Civil::Date(d)))
}

fn datetime_ctor(a: &[ScalarValue]) -> Result<ScalarValue> {
    if a.len() == 6 {
        let v: Vec<i64> = a.iter().map(int_arg).collect::<Result<_>>()?;
        let d = NaiveDate::from_ymd_opt(v[0] as i32, v[1] as u32, v[2] as u32)
            .filter(|_| (1..=9999).contains(&v[0]))
            .and_then(|d| d.and_hms_opt(v[3] as u32, v[4] as u32, v[5] as u32))
            .filter(|_| v[1..].iter().all(|x| *x >= 0))
            .ok_or_else(|| bq_error("Input calculates to invalid datetime"))?;
        return Ok(to_scalar(Civil::Datetime(d)));
    }
    let first = civil(arg(a, 0)?, Kind::Datetime)?;
    let dt = match (first, a.len()) {
        (Civil::Timestamp(t), _) => zone_arg(a, 1)?.local(t).0,
        (Civil::Date(d), 2) => match civil(&a[1], Kind::Time)? {
            Civil::Time(t) => d.and_time(t),
            _ => return Err(not_supported("DATETIME with these arguments")),
        },
        (Civil::Date(d), 1) => d.and_time(NaiveTime::MIN),
        (Civil::Datetime(d), 1) => d,
        _ => return Err(not_supported("DATETIME with these arguments")),
    };
    Ok(to_scalar(Civil::Datetime(dt)))
}

fn time_ctor(a: &[ScalarValue]) -> Result<ScalarValue> {
    if a.len() == 3 {
        let (h, m, s) = (int_arg(&a[0])?, int_arg(&a[1])?, int_arg(&a[2])?);
        let t = NaiveTime::from_hms_opt(h as u32, m as u32, s as u32)
            .filter(|_| h >= 0 && m >= 0 && (0..60).contains(&s))
            .ok_or_else(|| bq_error("Input calculates to invalid time"))?;
        return Ok(to_scalar(Civil::Time(t)));
    }
    let t = match civil(arg(a, 0)?, Kind::Time)? {
        Civil::Timestamp(t) => zone_arg(a, 1)?.local(t).0.time(),
        Civil::Datetime(dt) if a.len() == 1 => dt.time(),
        Civil::Time(t) if a.len() == 1 => t,
        _ => return Err(not_supported("TIME with these arguments")),
    };
    Ok(to_scalar(Civil::Time(t)))
}

fn timestamp_ctor(a: &[ScalarValue]) -> Result<ScalarValue> {
    let v = arg(a, 0)?;
    let t = match v {
        ScalarValue::Utf8(Some(s)) if a.len() == 2 => {
            // A string without its own zone is read in the given zone.
            match parse_literal(s, Kind::Datetime) {
                Ok(Civil::Datetime(dt)) => zone_arg(a, 1)?.instant(dt),
                _ => ts_arg(v)?,
            }
        }
        _ => match civil(v, Kind::Timestamp)? {
            Civil::Timestamp(t) if a.len() == 1 => t,
            Civil::Date(d) => zone_arg(a, 1)?.instant(d.and_time(NaiveTime::MIN)),
            Civil::Datetime(dt) => zone_arg(a, 1)?.instant(dt),
            _ => return Err(not_supported("TIMESTAMP with these arguments")),
        },
    };
    Ok(to_scalar(check_range(Civil::Timestamp(t))?))
}

fn overflow(what: Kind) -> datafusion::error::DataFusionError {
    let name = match what {
        Kind::Date => "DATE",
        Kind::Datetime => "DATETIME",
        Kind::Time => "TIME",
        Kind::Timestamp => "TIMESTAMP",
    };
    bq_error(format!("{name} value out of range"))
}

fn add_months(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    let n32 = i32::try_from(n).ok()?;
    if n32 >= 0 {
        d.checked_add_months(Months::new(n32 as u32))
    } else {
        d.checked_sub_months(Months::new(n32.unsigned_abs()))
    }
}

fn micros_per(p: Part) -> Option<i64> {
    Some(match p {
        Part::Microsecond => 1,
        Part::Millisecond => 1000,
        Part::Second => 1_000_000,
        Part::Minute => 60_000_000,
        Part::Hour => 3_600_000_000,
        Part::Day => 86_400_000_000,
        _ => return None,
    })
}

fn add(a: &[ScalarValue], kind: Kind, sign: i64) -> Result<ScalarValue> {
    if a.len() != 3 {
        return Err(not_supported("this INTERVAL argument"));
    }
    let n = int_arg(&a[1])?
        .checked_mul(sign)
        .ok_or_else(|| overflow(kind))?;
    let p = part(&a[2])?;
    let c = civil(&a[0], kind)?;
    let months = match p {
        Part::Month => Some(n),
        Part::Quarter => n.checked_mul(3),
        Part::Year => n.checked_mul(12),
        _ => None,
    };
    let days = match p {
        Part::Day => Some(n),
        Part::Week(0) => n.checked_mul(7),
        _ => None,
    };
    let out = match c {
        Civil::Date(d) => {
            let r = if let Some(m) = months {
                add_months(d, m)
            } else if let Some(days) = days {
                Duration::try_days(days).and_then(|x| d.checked_add_signed(x))
            } else {
                return Err(not_supported("DATE_ADD with this part"));
            };
            Civil::Date(r.ok_or_else(|| overflow(kind))?)
        }
        Civil::Datetime(dt) => {
            let r = if let Some(m) = months {
                add_months(dt.date(), m).map(|d| d.and_time(dt.time()))
            } else if let Some(days) = days {
                Duration::try_days(days).and_then(|x| dt.checked_add_signed(x))
            } else if let Some(per) = micros_per(p) {
                n.checked_mul(per)
                    .and_then(|us| dt.checked_add_signed(Duration::microseconds(us)))
            } else {
                return Err(not_supported("DATETIME_ADD with this part"));
            };
            Civil::Datetime(r.ok_or_else(|| overflow(kind))?)
        }
        Civil::Time(t) => {
            let per = micros_per(p)
                .filter(|_| p != Part::Day)
                .ok_or_else(|| not_supported("TIME_ADD with this part"))?;
            let us = (n as i128 * per as i128).rem_euclid(86_400_000_000) as i64;
            Civil::Time(t.overflowing_add_signed(Duration::microseconds(us)).0)
        }
        Civil::Timestamp(ts) => {
            let per = micros_per(p).ok_or_else(|| not_supported("TIMESTAMP_ADD with this part"))?;
            let r = n
                .checked_mul(per)
                .and_then(|us| ts.checked_add_signed(Duration::microseconds(us)));
            Civil::Timestamp(r.ok_or_else(|| overflow(kind))?)
        }
    };
    Ok(to_scalar(check_range(out).map_err(|_| overflow(kind))?))
}

fn date_diff(a: NaiveDate, b: NaiveDate, p: Part) -> Result<i64> {
    Ok(match p {
        Part::Day => (a - b).num_days(),
        Part::Week(s) => (week_start(a, s) - week_start(b, s)).num_days() / 7,
        Part::IsoWeek => (week_start(a, 1) - week_start(b, 1)).num_days() / 7,
        Part::Month => {
            (a.year() as i64 * 12 + a.month0() as i64) - (b.year() as i64 * 12 + b.month0() as i64)
        }
        Part::Quarter => {
            (a.year() as i64 * 4 + a.month0() as i64 / 3)
                - (b.year() as i64 * 4 + b.month0() as i64 / 3)
        }
        Part::Year => a.year() as i64 - b.year() as i64,
        Part::IsoYear => a.iso_week().year() as i64 - b.iso_week().year() as i64,
        _ => return Err(not_supported("DATE_DIFF with this part")),
    })
}

fn diff(a: &[ScalarValue], kind: Kind) -> Result<ScalarValue> {
    if a.len() != 3 {
        return Err(not_supported("this number of arguments"));
    }
    let p = part(&a[2])?;
    let (x, y) = (civil(&a[0], kind)?, civil(&a[1], kind)?);
    let us = |c: Civil| -> i64 {
        match c {
            Civil::Date(d) => d.and_time(NaiveTime::MIN).and_utc().timestamp_micros(),
            Civil::Datetime(d) => d.and_utc().timestamp_micros(),
            Civil::Timestamp(t) => t.timestamp_micros(),
            Civil::Time(t) => micros_of_time(t),
        }
    };
    let n = match (kind, micros_per(p)) {
        (Kind::Date, _) | (Kind::Datetime, None) => {
            let (Some(da), Some(db)) = (date_of(x), date_of(y)) else {
                return Err(not_supported("this argument type"));
            };
            date_diff(da, db, p)?
        }
        (Kind::Datetime, Some(per)) if p != Part::Day => (us(x) - us(y)) / per,
        (Kind::Datetime, Some(_)) => date_diff(
            date_of(x).unwrap_or_default(),
            date_of(y).unwrap_or_default(),
            p,
        )?,
        (Kind::Time, Some(per)) if p != Part::Day => (us(x) - us(y)) / per,
        (Kind::Timestamp, Some(per)) => (us(x) - us(y)) / per,
        _ => return Err(not_supported("this date part")),
    };
    Ok(ScalarValue::Int64(Some(n)))
}

fn trunc_date(d: NaiveDate, p: Part) -> Result<NaiveDate> {
    let r = match p {
        Part::Day => Some(d),
        Part::Week(s) => Some(week_start(d, s)),
        Part::IsoWeek => Some(week_start(d, 1)),
        Part::Month => d.with_day(1),
        Part::Quarter => NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1),
        Part::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
        Part::IsoYear => iso_year_start(d.iso_week().year()),
        _ => return Err(not_supported("this date part")),
    };
    r.ok_or_else(|| bq_error("DATE value out of range"))
}

fn trunc_time(t: NaiveTime, p: Part) -> Result<NaiveTime> {
    let us = micros_of_time(t);
    let per = micros_per(p)
        .filter(|_| p != Part::Day)
        .ok_or_else(|| not_supported("this time part"))?;
    let v = us / per * per;
    Ok(NaiveTime::from_num_seconds_from_midnight_opt(
        (v / 1_000_000) as u32,
        (v % 1_000_000 * 1000) as u32,
    )
    .unwrap_or(t))
}

fn trunc_dt(dt: NaiveDateTime, p: Part) -> Result<NaiveDateTime> {
    if micros_per(p).is_some() && p != Part::Day {
        Ok(dt.date().and_time(trunc_time(dt.time(), p)?))
    } else {
        Ok(trunc_date(dt.date(), p)?.and_time(NaiveTime::MIN))
    }
}

fn trunc(a: &[ScalarValue], kind: Kind) -> Result<ScalarValue> {
    let p = part(arg(a, 1)?)?;
    let out = match civil(&a[0], kind)? {
        Civil::Date(d) if a.len() == 2 => Civil::Date(trunc_date(d, p)?),
        Civil::Datetime(d) if a.len() == 2 => Civil::Datetime(trunc_dt(d, p)?),
        Civil::Time(t) if a.len() == 2 => Civil::Time(trunc_time(t, p)?),
        Civil::Timestamp(t) => {
            let z = zone_arg(a, 2)?;
            let local = z.local(t).0;
            Civil::Timestamp(z.instant(trunc_dt(local, p)?))
        }
        _ => return Err(not_supported("*_TRUNC with these arguments")),
    };
    Ok(to_scalar(check_range(out)?))
}

fn last_day(a: &[ScalarValue]) -> Result<ScalarValue> {
    let d =
        date_of(civil(arg(a, 0)?, Kind::Date)?).ok_or_else(|| not_supported("LAST_DAY of TIME"))?;
    let p = match a.get(1) {
        Some(v) => part(v)?,
        None => Part::Month,
    };
    let end = match p {
        Part::Week(s) => week_start(d, s) + Duration::days(6),
        Part::IsoWeek => week_start(d, 1) + Duration::days(6),
        Part::Month | Part::Quarter | Part::Year => {
            let start = trunc_date(d, p)?;
            let len = match p {
                Part::Month => 1,
                Part::Quarter => 3,
                _ => 12,
            };
            add_months(start, len).ok_or_else(|| bq_error("DATE value out of range"))?
                - Duration::days(1)
        }
        Part::IsoYear => {
            iso_year_start(d.iso_week().year() + 1)
                .ok_or_else(|| bq_error("DATE value out of range"))?
                - Duration::days(1)
        }
        _ => return Err(not_supported("LAST_DAY with this part")),
    };
    Ok(to_scalar(check_range(Civil::Date(end))?))
}

/// `bq_extract('PART', value[, 'zone'])`, the rewrite of `EXTRACT(PART FROM value [AT TIME ZONE z])`.
fn extract(a: &[ScalarValue]) -> Result<ScalarValue> {
    let p = part(arg(a, 0)?)?;
    let v = arg(a, 1)?;
    if let ScalarValue::IntervalMonthDayNano(Some(i)) = v {
        return super::interval::extract(p, *i);
    }
    let c = civil(v, Kind::Timestamp)?;
    let (date, time) = match c {
        Civil::Date(d) => (Some(d), None),
        Civil::Datetime(d) => (Some(d.date()), Some(d.time())),
        Civil::Time(t) => (None, Some(t)),
        Civil::Timestamp(t) => {
            let l = zone_arg(a, 2)?.local(t).0;
            (Some(l.date()), Some(l.time()))
        }
    };
    let d = || date.ok_or_else(|| not_supported("EXTRACT of this part from TIME"));
    let t = || time.ok_or_else(|| not_supported("EXTRACT of this part from DATE"));
    let n: i64 = match p {
        Part::Year => d()?.year() as i64,
        Part::Quarter => d()?.month0() as i64 / 3 + 1,
        Part::Month => d()?.month() as i64,
        Part::Day => d()?.day() as i64,
        Part::DayOfWeek => d()?.weekday().num_days_from_sunday() as i64 + 1,
        Part::DayOfYear => d()?.ordinal() as i64,
        Part::Week(s) => {
            let d = d()?;
            let wd = d.weekday().num_days_from_sunday();
            ((d.ordinal0() + 7 - (wd + 7 - s) % 7) / 7) as i64
        }
        Part::IsoWeek => d()?.iso_week().week() as i64,
        Part::IsoYear => d()?.iso_week().year() as i64,
        Part::Hour => t()?.hour() as i64,
        Part::Minute => t()?.minute() as i64,
        Part::Second => t()?.second() as i64,
        Part::Millisecond => (t()?.nanosecond() / 1_000_000) as i64,
        Part::Microsecond => (t()?.nanosecond() / 1000) as i64,
        Part::Nanosecond => t()?.nanosecond() as i64,
        Part::Date | Part::Time => return Err(not_supported("EXTRACT(DATE|TIME ...) here")),
    };
    Ok(ScalarValue::Int64(Some(n)))
}
