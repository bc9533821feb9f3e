//! Shared machinery for BigQuery's date and time functions: a row-wise scalar UDF, conversions
//! between Arrow values and chrono civil values, BigQuery's canonical date/time string forms, time
//! zone names and date parts (`DAY`, `WEEK(MONDAY)`, `ISOYEAR`, ...).
//!
//! Arrow types: DATE = Date32, DATETIME = Timestamp(µs, none), TIME = Time64(µs),
//! TIMESTAMP = Timestamp(µs, "UTC"), INTERVAL = Interval(MonthDayNano).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#date_type>.

use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeZone, Timelike, Utc,
};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::{bq_error, not_supported};

/// A BigQuery date/time value.
#[derive(Debug, Clone, Copy)]
pub enum Civil {
    Date(NaiveDate),
    Datetime(NaiveDateTime),
    Time(NaiveTime),
    Timestamp(DateTime<Utc>),
}

pub type RowFn = fn(&[ScalarValue]) -> Result<ScalarValue>;
pub type RetFn = fn(&[DataType]) -> Result<DataType>;

/// A scalar UDF evaluated row by row on [`ScalarValue`]s; NULL in any argument gives NULL.
#[derive(Debug)]
pub struct RowUdf {
    name: &'static str,
    signature: Signature,
    ret: RetFn,
    row: RowFn,
}

// Functions are identified by name (function pointers do not compare meaningfully).
impl PartialEq for RowUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature
    }
}

impl Eq for RowUdf {}

impl std::hash::Hash for RowUdf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.signature.hash(state);
    }
}

pub fn row_udf(name: &'static str, ret: RetFn, row: RowFn) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(RowUdf {
        name,
        signature: Signature::variadic_any(Volatility::Immutable),
        ret,
        row,
    }))
}

impl ScalarUDFImpl for RowUdf {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.ret)(arg_types)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ret = args.return_field.data_type().clone();
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let mut out = Vec::with_capacity(rows);
        let arrays: Vec<_> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let mut vals = Vec::with_capacity(arrays.len());
        for r in 0..rows {
            vals.clear();
            for a in &arrays {
                vals.push(ScalarValue::try_from_array(a, r)?);
            }
            let v = if vals.iter().any(ScalarValue::is_null) {
                ScalarValue::try_from(&ret)?
            } else {
                let v = (self.row)(&vals)?;
                if v.data_type() != ret {
                    v.cast_to(&ret)?
                } else {
                    v
                }
            };
            out.push(v);
        }
        if all_scalar {
            Ok(ColumnarValue::Scalar(
                out.pop().unwrap_or(ScalarValue::try_from(&ret)?),
            ))
        } else if out.is_empty() {
            Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_empty_array(&ret),
            ))
        } else {
            Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
        }
    }
}

pub fn ret_date(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Date32)
}
pub fn ret_datetime(_: &[DataType]) -> Result<DataType> {
    Ok(crate::dialect::types::datetime_type())
}
pub fn ret_time(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Time64(TimeUnit::Microsecond))
}
pub fn ret_timestamp(_: &[DataType]) -> Result<DataType> {
    Ok(crate::dialect::types::timestamp_type())
}
pub fn ret_int(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}
pub fn ret_string(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}
pub fn ret_interval(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Interval(
        datafusion::arrow::datatypes::IntervalUnit::MonthDayNano,
    ))
}

pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn from_micros_naive(us: i64) -> Result<NaiveDateTime> {
    DateTime::from_timestamp_micros(us)
        .map(|d| d.naive_utc())
        .ok_or_else(|| bq_error("timestamp out of range"))
}

/// The civil value of an argument. `Utf8` is coerced to `want` (BigQuery coerces string literals).
pub fn civil(v: &ScalarValue, want: Kind) -> Result<Civil> {
    Ok(match v {
        ScalarValue::Date32(Some(d)) => Civil::Date(epoch() + Duration::days(*d as i64)),
        ScalarValue::TimestampMicrosecond(Some(us), None) => {
            Civil::Datetime(from_micros_naive(*us)?)
        }
        ScalarValue::TimestampMicrosecond(Some(us), Some(_)) => {
            Civil::Timestamp(from_micros_naive(*us)?.and_utc())
        }
        ScalarValue::TimestampNanosecond(Some(ns), tz) => {
            let n = from_micros_naive(ns.div_euclid(1000))?;
            if tz.is_some() {
                Civil::Timestamp(n.and_utc())
            } else {
                Civil::Datetime(n)
            }
        }
        ScalarValue::TimestampSecond(Some(s), tz)
        | ScalarValue::TimestampMillisecond(Some(s), tz) => {
            let scale = if matches!(v, ScalarValue::TimestampSecond(..)) {
                1_000_000
            } else {
                1000
            };
            let n = from_micros_naive(s * scale)?;
            if tz.is_some() {
                Civil::Timestamp(n.and_utc())
            } else {
                Civil::Datetime(n)
            }
        }
        ScalarValue::Time64Microsecond(Some(us)) => Civil::Time(time_from_micros(*us)?),
        ScalarValue::Time64Nanosecond(Some(ns)) => Civil::Time(time_from_micros(ns / 1000)?),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => parse_literal(s, want)?,
        other => {
            return Err(not_supported(format!(
                "date/time function argument of type {}",
                other.data_type()
            )));
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Date,
    Datetime,
    Time,
    Timestamp,
}

fn time_from_micros(us: i64) -> Result<NaiveTime> {
    NaiveTime::from_num_seconds_from_midnight_opt(
        (us.div_euclid(1_000_000)) as u32,
        (us.rem_euclid(1_000_000) * 1000) as u32,
    )
    .ok_or_else(|| bq_error("TIME out of range"))
}

pub fn micros_of_time(t: NaiveTime) -> i64 {
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64
}

pub fn to_scalar(c: Civil) -> ScalarValue {
    match c {
        Civil::Date(d) => ScalarValue::Date32(Some((d - epoch()).num_days() as i32)),
        Civil::Datetime(dt) => {
            ScalarValue::TimestampMicrosecond(Some(dt.and_utc().timestamp_micros()), None)
        }
        Civil::Time(t) => ScalarValue::Time64Microsecond(Some(micros_of_time(t))),
        Civil::Timestamp(ts) => {
            ScalarValue::TimestampMicrosecond(Some(ts.timestamp_micros()), Some(Arc::from("UTC")))
        }
    }
}

pub fn check_range(c: Civil) -> Result<Civil> {
    let y = match c {
        Civil::Date(d) => d.year(),
        Civil::Datetime(d) => d.year(),
        Civil::Timestamp(t) => t.year(),
        Civil::Time(_) => 1,
    };
    if !(1..=9999).contains(&y) {
        return Err(bq_error("Date/time value out of range"));
    }
    Ok(c)
}

pub fn string_arg(v: &ScalarValue) -> Result<String> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(s.clone()),
        other => Err(not_supported(format!(
            "argument of type {}",
            other.data_type()
        ))),
    }
}

pub fn int_arg(v: &ScalarValue) -> Result<i64> {
    match v.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(Some(i)) => Ok(i),
        _ => Err(bq_error("expected an integer")),
    }
}

/// A time zone: a fixed offset or an IANA name.
#[derive(Debug, Clone, Copy)]
pub enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

pub fn zone(name: &str) -> Result<Zone> {
    let s = name.trim();
    if s.eq_ignore_ascii_case("UTC") || s == "Z" {
        return Ok(Zone::Fixed(FixedOffset::east_opt(0).unwrap_or(Utc.fix())));
    }
    let body = s.strip_prefix("UTC").unwrap_or(s);
    if let Some(sign) = body.chars().next().filter(|c| *c == '+' || *c == '-') {
        let digits = &body[1..];
        let (h, m) = match digits.split_once(':') {
            Some((h, m)) => (h, m),
            None if digits.len() > 2 => digits.split_at(digits.len() - 2),
            None => (digits, "0"),
        };
        let (h, m): (i32, i32) = (
            h.parse().map_err(|_| bad_zone(name))?,
            m.parse().map_err(|_| bad_zone(name))?,
        );
        if h > 14 || m > 59 {
            return Err(bad_zone(name));
        }
        let secs = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
        return FixedOffset::east_opt(secs)
            .map(Zone::Fixed)
            .ok_or_else(|| bad_zone(name));
    }
    s.parse::<Tz>()
        .ok()
        .filter(|_| s.contains('/'))
        .ok_or(())
        .map(Zone::Named)
        .map_err(|_| bad_zone(name))
}

fn bad_zone(name: &str) -> datafusion::error::DataFusionError {
    bq_error(format!("Invalid time zone: {name}"))
}

impl Zone {
    /// The civil date and time of `ts` in this zone, and the UTC offset in seconds.
    pub fn local(&self, ts: DateTime<Utc>) -> (NaiveDateTime, i32) {
        match self {
            Zone::Fixed(f) => (ts.with_timezone(f).naive_local(), f.local_minus_utc()),
            Zone::Named(tz) => {
                let l = ts.with_timezone(tz);
                (l.naive_local(), l.offset().fix().local_minus_utc())
            }
        }
    }
    /// The instant at which the civil time `dt` happens in this zone (the earlier one when the
    /// clock is set back; for times skipped by a forward jump, the pre-jump offset is used).
    pub fn instant(&self, dt: NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Fixed(f) => (dt - Duration::seconds(f.local_minus_utc() as i64)).and_utc(),
            Zone::Named(tz) => match tz.from_local_datetime(&dt) {
                LocalResult::Single(t) => t.with_timezone(&Utc),
                LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
                LocalResult::None => {
                    let before = tz.offset_from_utc_datetime(&(dt - Duration::hours(3)));
                    (dt - Duration::seconds(before.fix().local_minus_utc() as i64)).and_utc()
                }
            },
        }
    }
}

pub fn offset_text(secs: i32, colon: bool) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    if colon {
        format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
    } else {
        format!("{sign}{:02}{:02}", a / 3600, a / 60 % 60)
    }
}

/// Parses BigQuery's canonical literal forms: `YYYY-[M]M-[D]D`, `... [H]H:[M]M:[S]S[.F]`, `[H]H:[M]M[:[S]S[.F]]`,
/// and for TIMESTAMP a trailing `Z`, `+HH[:MM]`, or ` zone name`.
pub fn parse_literal(s: &str, want: Kind) -> Result<Civil> {
    let bad = || bq_error(format!("Invalid {} string \"{s}\"", kind_name(want)));
    let t = s.trim();
    if want == Kind::Time {
        return parse_time(t).map(Civil::Time).ok_or_else(bad);
    }
    let (date_part, rest) = match t.find([' ', 'T', 't']) {
        Some(i) => (&t[..i], t[i + 1..].trim_start()),
        None => (t, ""),
    };
    let date = parse_date(date_part).ok_or_else(bad)?;
    // split time and zone
    let mut time = NaiveTime::MIN;
    let mut zone_txt = "";
    if !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
            .unwrap_or(rest.len());
        if end > 0 && rest[..end].contains(':') {
            time = parse_time(&rest[..end]).ok_or_else(bad)?;
            zone_txt = rest[end..].trim();
        } else {
            zone_txt = rest.trim();
        }
    }
    let dt = date.and_time(time);
    match want {
        Kind::Date if rest.is_empty() => Ok(Civil::Date(date)),
        Kind::Datetime if zone_txt.is_empty() => Ok(Civil::Datetime(dt)),
        Kind::Timestamp => {
            let z = if zone_txt.is_empty() {
                zone("UTC")?
            } else {
                zone(zone_txt).map_err(|_| bad())?
            };
            Ok(Civil::Timestamp(z.instant(dt)))
        }
        _ => Err(bad()),
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Date => "date",
        Kind::Datetime => "datetime",
        Kind::Time => "time",
        Kind::Timestamp => "timestamp",
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut it = s.split('-');
    let y = it.next()?;
    if y.len() != 4 {
        return None;
    }
    let (m, d) = (it.next()?, it.next()?);
    if it.next().is_some() || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    };
    let mut it = hms.split(':');
    let h: u32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let sec: u32 = match it.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if it.next().is_some() || frac.len() > 9 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().ok()?
    };
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos / 1000 * 1000)
}

/// A date part argument (`'DAY'`, `'WEEK(MONDAY)'`, ...) as rewritten by `datetime_syntax`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Part {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    /// Week starting on the given weekday (0 = Sunday).
    Week(u32),
    IsoWeek,
    Month,
    Quarter,
    Year,
    IsoYear,
    DayOfWeek,
    DayOfYear,
    Nanosecond,
    Date,
    Time,
}

pub fn part(v: &ScalarValue) -> Result<Part> {
    let s = string_arg(v)?.to_ascii_uppercase().replace(' ', "");
    Ok(match s.as_str() {
        "MICROSECOND" => Part::Microsecond,
        "MILLISECOND" => Part::Millisecond,
        "SECOND" => Part::Second,
        "MINUTE" => Part::Minute,
        "HOUR" => Part::Hour,
        "DAY" => Part::Day,
        "WEEK" | "WEEK(SUNDAY)" => Part::Week(0),
        "WEEK(MONDAY)" => Part::Week(1),
        "WEEK(TUESDAY)" => Part::Week(2),
        "WEEK(WEDNESDAY)" => Part::Week(3),
        "WEEK(THURSDAY)" => Part::Week(4),
        "WEEK(FRIDAY)" => Part::Week(5),
        "WEEK(SATURDAY)" => Part::Week(6),
        "ISOWEEK" => Part::IsoWeek,
        "MONTH" => Part::Month,
        "QUARTER" => Part::Quarter,
        "YEAR" => Part::Year,
        "ISOYEAR" => Part::IsoYear,
        "DAYOFWEEK" => Part::DayOfWeek,
        "DAYOFYEAR" => Part::DayOfYear,
        "NANOSECOND" => Part::Nanosecond,
        "DATE" => Part::Date,
        "TIME" => Part::Time,
        _ => return Err(not_supported(format!("date part {s}"))),
    })
}

/// Start of the week containing `d`, weeks starting on `start` (0 = Sunday).
pub fn week_start(d: NaiveDate, start: u32) -> NaiveDate {
    let wd = d.weekday().num_days_from_sunday();
    d - Duration::days(((wd + 7 - start) % 7) as i64)
}

pub fn iso_year_start(y: i32) -> Option<NaiveDate> {
    NaiveDate::from_isoywd_opt(y, 1, chrono::Weekday::Mon)
}

pub fn to_interval(months: i32, days: i32, micros: i64) -> ScalarValue {
    ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(months, days, micros * 1000)))
}

pub fn date_of(c: Civil) -> Option<NaiveDate> {
    match c {
        Civil::Date(d) => Some(d),
        Civil::Datetime(d) => Some(d.date()),
        Civil::Timestamp(t) => Some(t.date_naive()),
        Civil::Time(_) => None,
    }
}
