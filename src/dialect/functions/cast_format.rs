//! `CAST(x AS T FORMAT 'f' [AT TIME ZONE 'z'])`: BigQuery's format clause for casts.
//!
//! - numbers → STRING with the numeric format elements (`numeric_format.rs`);
//! - BYTES → STRING and STRING → BYTES with `HEX`, `BASE64`, `UTF8`, `ASCII`;
//! - DATE/DATETIME/TIME/TIMESTAMP → STRING and STRING → DATE/DATETIME/TIME/TIMESTAMP with the
//!   date/time format elements `YYYY YYY YY Y RRRR RR MM MON MONTH DD DDD D DAY DY HH HH12 HH24
//!   MI SS SSSSS FF1..FF9 A.M. P.M. AM PM TZH TZM`, the literal separators `- . / , ' ; :` and
//!   space, and double-quoted text. Other elements (`CC`, `Q`, `WW`, `IW`, `J`, ...) are
//!   `not supported`. Month and day names follow the case of the element (`MON` → `JAN`, `Mon` →
//!   `Jan`, `mon` → `jan`). When parsing, a DATE needs its year, month and day; missing time
//!   fields are zero.
//!
//! [`rewrite_cast_formats`] turns such casts into calls of `$bq_cast_format_<target>` (their
//! `SAFE.` twins for `SAFE_CAST`).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#formatting_syntax>.

use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::ast::{
    CastFormat, CastKind, DataType as SqlType, Expr, Statement, TimezoneInfo, Value, VisitMut,
    VisitorMut,
};

use super::numeric_format::{format_bytes, format_number, parse_bytes};
use super::safe::safe_name;
use super::temporal::*;
use super::{bq_error, not_supported};

/// Rewrites every `CAST(... FORMAT ...)` of `stmt` into a call of the matching cast function.
pub fn rewrite_cast_formats(stmt: &mut Statement) {
    let _ = stmt.visit(&mut Formats);
}

struct Formats;

impl VisitorMut for Formats {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::Cast {
            kind,
            expr: inner,
            data_type,
            array: false,
            format: Some(format),
        } = expr
        else {
            return ControlFlow::Continue(());
        };
        let name = match data_type {
            SqlType::String(None) => "$bq_cast_format_string",
            SqlType::Bytes(None) => "$bq_cast_format_bytes",
            SqlType::Date => "$bq_cast_format_date",
            SqlType::Datetime(None) => "$bq_cast_format_datetime",
            SqlType::Time(None, TimezoneInfo::None) => "$bq_cast_format_time",
            SqlType::Timestamp(None, TimezoneInfo::None) => "$bq_cast_format_timestamp",
            // Left for DataFusion, which refuses a format clause.
            _ => return ControlFlow::Continue(()),
        };
        let name = match kind {
            CastKind::Cast | CastKind::DoubleColon => name.to_string(),
            CastKind::SafeCast | CastKind::TryCast => safe_name(name),
        };
        let (fmt, tz) = match format {
            CastFormat::Value(v) => (v.clone(), None),
            CastFormat::ValueAtTimeZone(v, z) => (v.clone(), Some(z.clone())),
        };
        let arg = std::mem::replace(inner.as_mut(), Expr::value(Value::Null));
        let mut args = vec![arg, Expr::value(fmt)];
        args.extend(tz.map(Expr::value));
        *expr = call(&name, args);
        ControlFlow::Continue(())
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    crate::dialect::ast_build::call_quoted(name, args)
}

/// The cast functions the rewrite calls.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_udf("$bq_cast_format_string", ret_string, to_string),
        row_udf("$bq_cast_format_bytes", ret_bytes, to_bytes),
        row_udf("$bq_cast_format_date", ret_date, |a| parse(a, Kind::Date)),
        row_udf("$bq_cast_format_datetime", ret_datetime, |a| {
            parse(a, Kind::Datetime)
        }),
        row_udf("$bq_cast_format_time", ret_time, |a| parse(a, Kind::Time)),
        row_udf("$bq_cast_format_timestamp", ret_timestamp, |a| {
            parse(a, Kind::Timestamp)
        }),
    ]
}

fn ret_bytes(
    _: &[datafusion::arrow::datatypes::DataType],
) -> Result<datafusion::arrow::datatypes::DataType> {
    Ok(datafusion::arrow::datatypes::DataType::Binary)
}

fn format_arg(a: &[ScalarValue]) -> Result<String> {
    string_arg(
        a.get(1)
            .ok_or_else(|| not_supported("CAST FORMAT without a format"))?,
    )
}

fn to_string(a: &[ScalarValue]) -> Result<ScalarValue> {
    let fmt = format_arg(a)?;
    let v = &a[0];
    let text = match v {
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_)
        | ScalarValue::Float32(_)
        | ScalarValue::Float64(_)
        | ScalarValue::Decimal128(..)
        | ScalarValue::Decimal256(..) => {
            let v = match v {
                ScalarValue::Int64(_) | ScalarValue::Float64(_) => v.clone(),
                ScalarValue::Float32(_) => {
                    v.cast_to(&datafusion::arrow::datatypes::DataType::Float64)?
                }
                ScalarValue::Decimal128(..) | ScalarValue::Decimal256(..) => v.clone(),
                _ => v.cast_to(&datafusion::arrow::datatypes::DataType::Int64)?,
            };
            return Ok(ScalarValue::Utf8(format_number(&v, &fmt)?));
        }
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b)) => format_bytes(b, &fmt)?,
        ScalarValue::Date32(_)
        | ScalarValue::Time64Microsecond(_)
        | ScalarValue::Time64Nanosecond(_)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampSecond(..) => {
            let is_timestamp = matches!(
                v,
                ScalarValue::TimestampMicrosecond(_, Some(_))
                    | ScalarValue::TimestampNanosecond(_, Some(_))
                    | ScalarValue::TimestampMillisecond(_, Some(_))
                    | ScalarValue::TimestampSecond(_, Some(_))
            );
            if a.len() > 2 && !is_timestamp {
                return Err(bq_error(
                    "AT TIME ZONE is only allowed when casting a TIMESTAMP to STRING",
                ));
            }
            let value = match civil(v, Kind::Timestamp)? {
                Civil::Date(d) => Parts {
                    date: Some(d),
                    time: None,
                    offset: None,
                },
                Civil::Datetime(dt) => Parts {
                    date: Some(dt.date()),
                    time: Some(dt.time()),
                    offset: None,
                },
                Civil::Time(t) => Parts {
                    date: None,
                    time: Some(t),
                    offset: None,
                },
                Civil::Timestamp(ts) => {
                    let z = match a.get(2) {
                        Some(z) => zone(&string_arg(z)?)?,
                        None => zone("UTC")?,
                    };
                    let (l, off) = z.local(ts);
                    Parts {
                        date: Some(l.date()),
                        time: Some(l.time()),
                        offset: Some(off),
                    }
                }
            };
            format_datetime(&fmt, &value)?
        }
        other => {
            return Err(not_supported(format!(
                "CAST of {} AS STRING FORMAT",
                other.data_type()
            )));
        }
    };
    Ok(ScalarValue::Utf8(Some(text)))
}

fn to_bytes(a: &[ScalarValue]) -> Result<ScalarValue> {
    let fmt = format_arg(a)?;
    match &a[0] {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(ScalarValue::Binary(Some(parse_bytes(s, &fmt)?))),
        other => Err(not_supported(format!(
            "CAST of {} AS BYTES FORMAT",
            other.data_type()
        ))),
    }
}

/// The parts of a date/time value a format element can print.
struct Parts {
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    /// UTC offset in seconds, for TIMESTAMP only.
    offset: Option<i32>,
}

/// One format element, or literal text.
#[derive(Debug, Clone, PartialEq)]
enum Elem {
    Year(usize),
    /// `RR`/`RRRR`: printed as `YY`/`YYYY`; their parsing rule is not reproduced.
    RYear(usize),
    YearComma,
    Month,
    MonthName {
        short: bool,
        case: Case,
    },
    Day,
    DayOfYear,
    DayOfWeek,
    DayName {
        short: bool,
        case: Case,
    },
    Hour12,
    Hour24,
    Minute,
    Second,
    SecondsOfDay,
    Frac(usize),
    Meridian {
        dots: bool,
        case: Case,
    },
    TzHour,
    TzMinute,
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Upper,
    Capital,
    Lower,
}

fn case_of(s: &str) -> Case {
    let mut chars = s.chars();
    let first = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    let second = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    match (first, second) {
        (true, true) => Case::Upper,
        (true, false) => Case::Capital,
        _ => Case::Lower,
    }
}

fn apply_case(s: &str, case: Case) -> String {
    match case {
        Case::Upper => s.to_ascii_uppercase(),
        Case::Lower => s.to_ascii_lowercase(),
        Case::Capital => s.to_string(),
    }
}

fn parse_format(format: &str) -> Result<Vec<Elem>> {
    let unsupported = || not_supported(format!("date/time format element in '{format}'"));
    let mut out = Vec::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            let body = &rest[1..];
            let end = body.find('"').ok_or_else(unsupported)?;
            out.push(Elem::Text(body[..end].to_string()));
            rest = &body[end + 1..];
            continue;
        }
        if matches!(c, '-' | '.' | '/' | ',' | '\'' | ';' | ':' | ' ') {
            out.push(Elem::Text(c.to_string()));
            rest = &rest[1..];
            continue;
        }
        let upper = rest.to_ascii_uppercase();
        // Longest names first.
        let table: &[(&str, Elem)] = &[
            ("Y,YYY", Elem::YearComma),
            ("YYYY", Elem::Year(4)),
            ("RRRR", Elem::RYear(4)),
            ("YYY", Elem::Year(3)),
            ("YY", Elem::Year(2)),
            ("RR", Elem::RYear(2)),
            ("Y", Elem::Year(1)),
            (
                "MONTH",
                Elem::MonthName {
                    short: false,
                    case: case_of(rest),
                },
            ),
            (
                "MON",
                Elem::MonthName {
                    short: true,
                    case: case_of(rest),
                },
            ),
            ("MM", Elem::Month),
            ("MI", Elem::Minute),
            ("DDD", Elem::DayOfYear),
            ("DD", Elem::Day),
            (
                "DAY",
                Elem::DayName {
                    short: false,
                    case: case_of(rest),
                },
            ),
            (
                "DY",
                Elem::DayName {
                    short: true,
                    case: case_of(rest),
                },
            ),
            ("D", Elem::DayOfWeek),
            ("HH24", Elem::Hour24),
            ("HH12", Elem::Hour12),
            ("HH", Elem::Hour12),
            ("SSSSS", Elem::SecondsOfDay),
            ("SS", Elem::Second),
            (
                "A.M.",
                Elem::Meridian {
                    dots: true,
                    case: case_of(rest),
                },
            ),
            (
                "P.M.",
                Elem::Meridian {
                    dots: true,
                    case: case_of(rest),
                },
            ),
            (
                "AM",
                Elem::Meridian {
                    dots: false,
                    case: case_of(rest),
                },
            ),
            (
                "PM",
                Elem::Meridian {
                    dots: false,
                    case: case_of(rest),
                },
            ),
            ("TZH", Elem::TzHour),
            ("TZM", Elem::TzMinute),
        ];
        if let Some(n) = upper
            .strip_prefix("FF")
            .and_then(|r| r.chars().next())
            .and_then(|d| d.to_digit(10))
            .filter(|d| (1..=9).contains(d))
        {
            out.push(Elem::Frac(n as usize));
            rest = &rest[3..];
            continue;
        }
        let (name, elem) = table
            .iter()
            .find(|(name, _)| upper.starts_with(name))
            .ok_or_else(unsupported)?;
        out.push(elem.clone());
        rest = &rest[name.len()..];
    }
    Ok(out)
}

/// Full month and day names (the first halves of format_elements' lists of full and short names).
const MONTHS: &[&str] = super::format_elements::MONTHS.split_at(12).0;
const DAYS: &[&str] = super::format_elements::DAYS.split_at(7).0;

fn format_datetime(format: &str, v: &Parts) -> Result<String> {
    let elems = parse_format(format)?;
    let mut out = String::new();
    let no_date = || not_supported(format!("date format element in '{format}' for this type"));
    let no_time = || not_supported(format!("time format element in '{format}' for this type"));
    for e in &elems {
        match e {
            Elem::Text(t) => out.push_str(t),
            Elem::Year(n) | Elem::RYear(n) => {
                let y = v.date.ok_or_else(no_date)?.year();
                let s = format!("{y:04}");
                out.push_str(&s[s.len() - n..]);
            }
            Elem::YearComma => {
                let y = v.date.ok_or_else(no_date)?.year();
                out.push_str(&format!("{},{:03}", y / 1000, y % 1000));
            }
            Elem::Month => out.push_str(&format!("{:02}", v.date.ok_or_else(no_date)?.month())),
            Elem::MonthName { short, case } => {
                let name = MONTHS[v.date.ok_or_else(no_date)?.month0() as usize];
                let name = if *short { &name[..3] } else { name };
                out.push_str(&apply_case(name, *case));
            }
            Elem::Day => out.push_str(&format!("{:02}", v.date.ok_or_else(no_date)?.day())),
            Elem::DayOfYear => {
                out.push_str(&format!("{:03}", v.date.ok_or_else(no_date)?.ordinal()))
            }
            Elem::DayOfWeek => out.push_str(
                &(v.date.ok_or_else(no_date)?.weekday().num_days_from_sunday() + 1).to_string(),
            ),
            Elem::DayName { short, case } => {
                let d = v.date.ok_or_else(no_date)?.weekday().num_days_from_sunday();
                let name = DAYS[d as usize];
                let name = if *short { &name[..3] } else { name };
                out.push_str(&apply_case(name, *case));
            }
            Elem::Hour12 => {
                let h = v.time.ok_or_else(no_time)?.hour12().1;
                out.push_str(&format!("{h:02}"));
            }
            Elem::Hour24 => out.push_str(&format!("{:02}", v.time.ok_or_else(no_time)?.hour())),
            Elem::Minute => out.push_str(&format!("{:02}", v.time.ok_or_else(no_time)?.minute())),
            Elem::Second => out.push_str(&format!("{:02}", v.time.ok_or_else(no_time)?.second())),
            Elem::SecondsOfDay => out.push_str(&format!(
                "{:05}",
                v.time.ok_or_else(no_time)?.num_seconds_from_midnight()
            )),
            Elem::Frac(n) => {
                // Digits beyond the microsecond are zero; fewer digits truncate.
                let us = v.time.ok_or_else(no_time)?.nanosecond() / 1000;
                let s = format!("{us:06}000");
                if *n < 6 && us % 10u32.pow(6 - *n as u32) != 0 {
                    // Whether BigQuery rounds or truncates here is not pinned down.
                    return Err(not_supported(format!(
                        "FF{n} for a value with more fractional digits"
                    )));
                }
                out.push_str(&s[..*n]);
            }
            Elem::Meridian { dots, case } => {
                let pm = v.time.ok_or_else(no_time)?.hour12().0;
                let s = match (pm, dots) {
                    (false, true) => "A.M.",
                    (true, true) => "P.M.",
                    (false, false) => "AM",
                    (true, false) => "PM",
                };
                out.push_str(&apply_case(s, *case));
            }
            Elem::TzHour | Elem::TzMinute => {
                let off = v
                    .offset
                    .ok_or_else(|| not_supported("TZH/TZM for a type without a time zone"))?;
                let sign = if off < 0 { '-' } else { '+' };
                let a = off.abs();
                if *e == Elem::TzHour {
                    out.push_str(&format!("{sign}{:02}", a / 3600));
                } else {
                    out.push_str(&format!("{:02}", a / 60 % 60));
                }
            }
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Fields {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    day_of_year: Option<u32>,
    hour: Option<u32>,
    hour12: bool,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    seconds_of_day: Option<u32>,
    nanos: Option<u64>,
    offset: Option<i32>,
    extra_digits: bool,
}

fn take_digits<'a>(s: &mut &'a str, max: usize) -> Option<&'a str> {
    let n = s
        .bytes()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return None;
    }
    let (d, rest) = s.split_at(n);
    *s = rest;
    Some(d)
}

fn take_number(s: &mut &str, max: usize) -> Option<u32> {
    take_digits(s, max)?.parse().ok()
}

fn take_name(s: &mut &str, names: &[&str], short: bool) -> Option<u32> {
    for (i, name) in names.iter().enumerate() {
        let name = if short { &name[..3] } else { name };
        if s.len() >= name.len()
            && s.is_char_boundary(name.len())
            && s[..name.len()].eq_ignore_ascii_case(name)
        {
            *s = &s[name.len()..];
            return Some(i as u32);
        }
    }
    None
}

fn take_literal(s: &mut &str, lit: &str) -> Option<()> {
    if s.len() >= lit.len()
        && s.is_char_boundary(lit.len())
        && s[..lit.len()].eq_ignore_ascii_case(lit)
    {
        *s = &s[lit.len()..];
        Some(())
    } else {
        None
    }
}

fn parse_fields(elems: &[Elem], mut s: &str) -> Option<Fields> {
    let mut f = Fields::default();
    for e in elems {
        match e {
            Elem::Text(t) if t == " " => {
                // A space matches one or more spaces.
                let trimmed = s.trim_start_matches(' ');
                if trimmed.len() == s.len() {
                    return None;
                }
                s = trimmed;
            }
            Elem::Text(t) => take_literal(&mut s, t)?,
            Elem::Year(n) => {
                let d = take_digits(&mut s, if *n == 4 { 5 } else { *n })?;
                let y: i32 = d.parse().ok()?;
                // YY: the missing leading digits come from the current century (2000s).
                f.year = Some(if *n == 4 { y } else { 2000 + y });
            }
            Elem::RYear(_) => return None,
            Elem::YearComma => {
                let th = take_number(&mut s, 1)?;
                take_literal(&mut s, ",")?;
                let rest = take_digits(&mut s, 3).filter(|d| d.len() == 3)?;
                f.year = Some((th * 1000 + rest.parse::<u32>().ok()?) as i32);
            }
            Elem::Month => f.month = Some(take_number(&mut s, 2)?),
            Elem::MonthName { short, .. } => {
                f.month = Some(take_name(&mut s, MONTHS, *short)? + 1);
            }
            Elem::Day => f.day = Some(take_number(&mut s, 2)?),
            Elem::DayOfYear => f.day_of_year = Some(take_number(&mut s, 3)?),
            Elem::DayOfWeek | Elem::DayName { .. } => return None,
            Elem::Hour12 => {
                f.hour = Some(take_number(&mut s, 2)?);
                f.hour12 = true;
            }
            Elem::Hour24 => f.hour = Some(take_number(&mut s, 2)?),
            Elem::Minute => f.minute = Some(take_number(&mut s, 2)?),
            Elem::Second => f.second = Some(take_number(&mut s, 2)?),
            Elem::SecondsOfDay => f.seconds_of_day = Some(take_number(&mut s, 5)?),
            Elem::Frac(n) => {
                // More digits than `n` (which BigQuery rounds) are refused by `parse`.
                let d = take_digits(&mut s, *n)?;
                if s.starts_with(|c: char| c.is_ascii_digit()) {
                    f.extra_digits = true;
                    return Some(f);
                }
                f.nanos = Some(format!("{d:0<9}").parse().ok()?);
            }
            Elem::Meridian { dots, .. } => {
                let (am, pm) = if *dots {
                    ("A.M.", "P.M.")
                } else {
                    ("AM", "PM")
                };
                if take_literal(&mut s, am).is_some() {
                    f.pm = Some(false);
                } else {
                    take_literal(&mut s, pm)?;
                    f.pm = Some(true);
                }
            }
            Elem::TzHour => {
                let sign = match s.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                s = &s[1..];
                let h = take_number(&mut s, 2)? as i32;
                f.offset = Some(sign * h * 3600 + f.offset.unwrap_or(0));
            }
            Elem::TzMinute => {
                let m = take_number(&mut s, 2)? as i32;
                let sign = if f.offset.is_some_and(|o| o < 0) {
                    -1
                } else {
                    1
                };
                f.offset = Some(f.offset.unwrap_or(0) + sign * m * 60);
            }
        }
    }
    s.is_empty().then_some(f)
}

fn parse(a: &[ScalarValue], kind: Kind) -> Result<ScalarValue> {
    let fmt = format_arg(a)?;
    if a.len() > 2 && kind != Kind::Timestamp {
        return Err(bq_error(
            "AT TIME ZONE is only allowed when casting to TIMESTAMP or a TIMESTAMP to STRING",
        ));
    }
    let text = string_arg(&a[0])?;
    let elems = parse_format(&fmt)?;
    let fail = || {
        bq_error(format!(
            "Mismatch between format character and string: cannot parse '{text}' with format '{fmt}'"
        ))
    };
    if elems.iter().any(|e| {
        matches!(
            e,
            Elem::Year(1) | Elem::Year(3) | Elem::RYear(_) | Elem::DayOfWeek | Elem::DayName { .. }
        )
    }) {
        return Err(not_supported(format!("parsing with format '{fmt}'")));
    }
    let f = parse_fields(&elems, &text).ok_or_else(fail)?;
    if f.extra_digits {
        return Err(not_supported(
            "CAST FORMAT FFn for input with more than n fractional digits",
        ));
    }
    let has_date =
        f.year.is_some() || f.month.is_some() || f.day.is_some() || f.day_of_year.is_some();
    let has_time = f.hour.is_some()
        || f.minute.is_some()
        || f.second.is_some()
        || f.nanos.is_some()
        || f.seconds_of_day.is_some();
    if kind == Kind::Time && has_date {
        return Err(not_supported("date format elements in CAST AS TIME"));
    }
    if kind == Kind::Date && has_time {
        return Err(not_supported("time format elements in CAST AS DATE"));
    }
    if f.offset.is_some() && kind != Kind::Timestamp {
        return Err(not_supported("TZH/TZM outside CAST AS TIMESTAMP"));
    }
    let date = if kind == Kind::Time {
        None
    } else {
        let (Some(year), true) = (f.year, f.month.is_some() || f.day_of_year.is_some()) else {
            // BigQuery fills missing date parts from the current date; not reproduced.
            return Err(not_supported("CAST FORMAT without year, month and day"));
        };
        let d = match (f.day_of_year, f.month, f.day) {
            (Some(doy), None, None) => NaiveDate::from_yo_opt(year, doy),
            (None, Some(m), Some(d)) => NaiveDate::from_ymd_opt(year, m, d),
            _ => return Err(not_supported("CAST FORMAT without year, month and day")),
        };
        Some(d.ok_or_else(fail)?)
    };
    let mut hour = f.hour.unwrap_or(0);
    if f.hour12 || f.pm.is_some() {
        if !(1..=12).contains(&hour) {
            return Err(fail());
        }
        hour = hour % 12 + if f.pm == Some(true) { 12 } else { 0 };
    }
    let whole = match f.seconds_of_day {
        Some(secs) => NaiveTime::from_num_seconds_from_midnight_opt(secs, 0),
        None => NaiveTime::from_hms_opt(hour, f.minute.unwrap_or(0), f.second.unwrap_or(0)),
    }
    .ok_or_else(fail)?;
    let nanos = f.nanos.unwrap_or(0);
    let (time, wrapped) = whole.overflowing_add_signed(chrono::Duration::nanoseconds(nanos as i64));
    if wrapped != 0 {
        // Rounding the fraction up past midnight.
        return Err(not_supported("fractional seconds rounding past midnight"));
    }
    let out = match (kind, date) {
        (Kind::Time, _) => Civil::Time(time),
        (Kind::Date, Some(d)) => Civil::Date(d),
        (Kind::Datetime, Some(d)) => Civil::Datetime(NaiveDateTime::new(d, time)),
        (Kind::Timestamp, Some(d)) => {
            let dt = NaiveDateTime::new(d, time);
            match f.offset {
                Some(off) => {
                    Civil::Timestamp((dt - chrono::Duration::seconds(off as i64)).and_utc())
                }
                None => {
                    let z = match a.get(2) {
                        Some(z) => zone(&string_arg(z)?)?,
                        None => zone("UTC")?,
                    };
                    Civil::Timestamp(z.instant(dt))
                }
            }
        }
        _ => return Err(fail()),
    };
    Ok(to_scalar(check_range(out)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt_date(d: &str, f: &str) -> String {
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        format_datetime(
            f,
            &Parts {
                date: Some(d),
                time: None,
                offset: None,
            },
        )
        .expect("formats")
    }

    #[test]
    fn names_follow_case() {
        assert_eq!(fmt_date("2018-01-30", "MONTH"), "JANUARY");
        assert_eq!(fmt_date("2018-01-30", "Mon DD, YYYY"), "Jan 30, 2018");
        assert_eq!(fmt_date("2018-01-30", "day"), "tuesday");
        assert_eq!(fmt_date("2018-01-30", "YY/MM/DD"), "18/01/30");
    }
}
