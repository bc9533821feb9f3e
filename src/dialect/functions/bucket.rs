//! DATE_BUCKET, DATETIME_BUCKET and TIMESTAMP_BUCKET: the lower bound of the bucket of width
//! `bucket_width` (counted from `origin`, default 1950-01-01 00:00:00) that holds the value.
//!
//! Widths made of days and time parts are supported; widths with a MONTH/YEAR part are
//! `not supported` (BigQuery's month arithmetic for buckets is not reproduced). DATE_BUCKET takes
//! whole days only.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions#date_bucket>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/datetime_functions#datetime_bucket>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/timestamp_functions#timestamp_bucket>.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::temporal::*;
use super::{bq_error, not_supported};

const US_PER_DAY: i64 = 86_400_000_000;

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_udf("date_bucket", ret_date, |a| bucket(a, Kind::Date)),
        row_udf("datetime_bucket", ret_datetime, |a| {
            bucket(a, Kind::Datetime)
        }),
        row_udf("timestamp_bucket", ret_timestamp, |a| {
            bucket(a, Kind::Timestamp)
        }),
    ]
}

/// The bucket width in microseconds.
fn width(v: &ScalarValue, kind: Kind) -> Result<i64> {
    let ScalarValue::IntervalMonthDayNano(Some(i)) = v else {
        return Err(not_supported("bucket width that is not an INTERVAL"));
    };
    if i.months != 0 {
        return Err(not_supported("bucket width with a MONTH or YEAR part"));
    }
    let us = i.nanoseconds / 1000;
    if kind == Kind::Date && us != 0 {
        return Err(bq_error(
            "DATE_BUCKET only supports bucket widths of whole days",
        ));
    }
    let w = i64::from(i.days) * US_PER_DAY + us;
    if w <= 0 {
        return Err(bq_error("The bucket width must be positive"));
    }
    Ok(w)
}

fn micros(c: Civil) -> Option<i64> {
    match c {
        Civil::Date(d) => Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros()),
        Civil::Datetime(dt) => Some(dt.and_utc().timestamp_micros()),
        Civil::Timestamp(t) => Some(t.timestamp_micros()),
        Civil::Time(_) => None,
    }
}

fn bucket(a: &[ScalarValue], kind: Kind) -> Result<ScalarValue> {
    if !(2..=3).contains(&a.len()) {
        return Err(bq_error("bucket functions take 2 or 3 arguments"));
    }
    let bad = || not_supported("bucket of this argument type");
    let value = micros(civil(&a[0], kind)?).ok_or_else(bad)?;
    let w = width(&a[1], kind)?;
    let origin = match a.get(2) {
        Some(o) => micros(civil(o, kind)?).ok_or_else(bad)?,
        None => NaiveDate::from_ymd_opt(1950, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp_micros())
            .ok_or_else(bad)?,
    };
    let diff = i128::from(value) - i128::from(origin);
    let lower = i128::from(origin) + diff.div_euclid(i128::from(w)) * i128::from(w);
    let lower = i64::try_from(lower).map_err(|_| bq_error("Bucket out of range"))?;
    let dt: NaiveDateTime = chrono::DateTime::from_timestamp_micros(lower)
        .ok_or_else(|| bq_error("Bucket out of range"))?
        .naive_utc();
    let out = match kind {
        Kind::Date => Civil::Date(dt.date()),
        Kind::Datetime => Civil::Datetime(dt),
        _ => Civil::Timestamp(dt.and_utc()),
    };
    Ok(to_scalar(check_range(out)?))
}
