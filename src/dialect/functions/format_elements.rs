//! FORMAT_DATE / FORMAT_DATETIME / FORMAT_TIME / FORMAT_TIMESTAMP, PARSE_* and STRING(timestamp)
//! with BigQuery's `%` format elements.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#format_elements_date_time>.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::temporal::*;
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_udf("format_date", ret_string, |a| format_fn(a, Kind::Date)),
        row_udf("format_datetime", ret_string, |a| {
            format_fn(a, Kind::Datetime)
        }),
        row_udf("format_time", ret_string, |a| format_fn(a, Kind::Time)),
        row_udf("format_timestamp", ret_string, |a| {
            format_fn(a, Kind::Timestamp)
        }),
        row_udf("parse_date", ret_date, |a| parse_fn(a, Kind::Date)),
        row_udf("parse_datetime", ret_datetime, |a| {
            parse_fn(a, Kind::Datetime)
        }),
        row_udf("parse_time", ret_time, |a| parse_fn(a, Kind::Time)),
        row_udf("parse_timestamp", ret_timestamp, |a| {
            parse_fn(a, Kind::Timestamp)
        }),
    ]
}

/// What a format element can see: civil date/time, and for TIMESTAMP the zone and instant.
struct Value {
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    zone: Option<(Zone, DateTime<Utc>, i32)>,
}

fn format_fn(a: &[ScalarValue], kind: Kind) -> Result<ScalarValue> {
    let fmt = string_arg(
        a.first()
            .ok_or_else(|| not_supported("FORMAT_* without arguments"))?,
    )?;
    let v = a
        .get(1)
        .ok_or_else(|| not_supported("FORMAT_* without a value"))?;
    let value = match (civil(v, kind)?, kind) {
        (Civil::Date(d), Kind::Date) if a.len() == 2 => Value {
            date: Some(d),
            time: None,
            zone: None,
        },
        (Civil::Datetime(d), Kind::Datetime) if a.len() == 2 => Value {
            date: Some(d.date()),
            time: Some(d.time()),
            zone: None,
        },
        (Civil::Date(d), Kind::Datetime) if a.len() == 2 => Value {
            date: Some(d),
            time: Some(NaiveTime::MIN),
            zone: None,
        },
        (Civil::Time(t), Kind::Time) if a.len() == 2 => Value {
            date: None,
            time: Some(t),
            zone: None,
        },
        (Civil::Timestamp(t), Kind::Timestamp) => {
            let z = match a.get(2) {
                Some(z) => zone(&string_arg(z)?)?,
                None => zone("UTC")?,
            };
            let (l, off) = z.local(t);
            Value {
                date: Some(l.date()),
                time: Some(l.time()),
                zone: Some((z, t, off)),
            }
        }
        _ => return Err(not_supported("FORMAT_* with this argument type")),
    };
    Ok(ScalarValue::Utf8(Some(format(&fmt, &value)?)))
}

/// STRING(timestamp[, zone]), called by the one `string` function (`json_lax`).
pub fn string_of_timestamp(a: &[ScalarValue]) -> Result<ScalarValue> {
    let Some(v) = a.first() else {
        return Err(not_supported("STRING without arguments"));
    };
    let Civil::Timestamp(t) = civil(v, Kind::Timestamp)? else {
        return Err(not_supported("STRING of this argument type"));
    };
    let z = match a.get(1) {
        Some(z) => zone(&string_arg(z)?)?,
        None => zone("UTC")?,
    };
    let (l, off) = z.local(t);
    let mut s = l.format("%Y-%m-%d %H:%M:%S").to_string();
    s.push_str(&frac_digits(l.nanosecond() / 1000, None));
    let sign = if off < 0 { '-' } else { '+' };
    let o = off.abs();
    s.push_str(&format!("{sign}{:02}", o / 3600));
    if o % 3600 != 0 {
        s.push_str(&format!(":{:02}", o / 60 % 60));
    }
    Ok(ScalarValue::Utf8(Some(s)))
}

/// Fractional seconds: `n` digits, or for `None` the shortest of 0, 3 or 6 digits.
fn frac_digits(us: u32, n: Option<usize>) -> String {
    match n {
        Some(0) => String::new(),
        Some(n) => {
            let s = format!("{:06}", us);
            let s = if n <= 6 {
                s[..n].to_string()
            } else {
                format!("{s:0<n$}")
            };
            format!(".{s}")
        }
        None if us == 0 => String::new(),
        None if us.is_multiple_of(1000) => format!(".{:03}", us / 1000),
        None => format!(".{us:06}"),
    }
}

fn week_number(d: NaiveDate, start: u32) -> u32 {
    let wd = d.weekday().num_days_from_sunday();
    (d.ordinal0() + 7 - (wd + 7 - start) % 7) / 7
}

fn zone_abbrev(off: i32) -> String {
    if off == 0 {
        return "UTC".into();
    }
    let sign = if off < 0 { '-' } else { '+' };
    let o = off.abs();
    if o % 3600 == 0 {
        format!("UTC{sign}{}", o / 3600)
    } else {
        format!("UTC{sign}{}:{:02}", o / 3600, o / 60 % 60)
    }
}

fn format(fmt: &str, v: &Value) -> Result<String> {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let need_d = || {
        v.date
            .ok_or_else(|| bq_error(format!("Invalid format string for this type: {fmt}")))
    };
    let need_t = || {
        v.time
            .ok_or_else(|| bq_error(format!("Invalid format string for this type: {fmt}")))
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('%');
            break;
        };
        let s = match e {
            '%' => "%".to_string(),
            'n' => "\n".to_string(),
            't' => "\t".to_string(),
            'A' | 'a' | 'B' | 'b' | 'h' | 'C' | 'd' | 'e' | 'G' | 'g' | 'j' | 'm' | 'u' | 'V'
            | 'w' | 'y' | 'D' | 'F' | 'x' => need_d()?.format(&format!("%{e}")).to_string(),
            'Y' => {
                let y = need_d()?.year();
                y.to_string()
            }
            'U' => format!("{:02}", week_number(need_d()?, 0)),
            'W' => format!("{:02}", week_number(need_d()?, 1)),
            'Q' => ((need_d()?.month0() / 3) + 1).to_string(),
            'H' | 'I' | 'k' | 'l' | 'M' | 'S' | 'R' | 'T' | 'X' => {
                need_t()?.format(&format!("%{e}")).to_string()
            }
            'p' => if need_t()?.hour() < 12 { "AM" } else { "PM" }.to_string(),
            'P' => if need_t()?.hour() < 12 { "am" } else { "pm" }.to_string(),
            'c' => {
                let d = need_d()?;
                let t = need_t()?;
                // The corpus (doc example) shows the day of month unpadded.
                format!(
                    "{} {} {} {}",
                    d.format("%a %b"),
                    d.day(),
                    t.format("%H:%M:%S"),
                    d.year()
                )
            }
            's' => match v.zone {
                Some((_, t, _)) => t.timestamp().to_string(),
                None => (need_d()?.and_time(need_t()?).and_utc().timestamp()).to_string(),
            },
            'z' => match v.zone {
                Some((_, _, off)) => offset_text(off, false),
                None => return Err(not_supported("%z without a time zone")),
            },
            'Z' => match v.zone {
                Some((_, _, off)) => zone_abbrev(off),
                None => return Err(not_supported("%Z without a time zone")),
            },
            'E' => {
                let mut spec = String::new();
                while let Some(&n) = chars.peek() {
                    chars.next();
                    spec.push(n);
                    if n.is_ascii_alphabetic() {
                        break;
                    }
                }
                match spec.as_str() {
                    "z" => match v.zone {
                        Some((_, _, off)) => offset_text(off, true),
                        None => return Err(not_supported("%Ez without a time zone")),
                    },
                    "4Y" => format!("{:04}", need_d()?.year()),
                    "*S" => {
                        let t = need_t()?;
                        format!(
                            "{:02}{}",
                            t.second(),
                            frac_digits(t.nanosecond() / 1000, None)
                        )
                    }
                    "#S" => return Err(not_supported("%E#S")),
                    s if s.ends_with('S') && s[..s.len() - 1].parse::<usize>().is_ok() => {
                        let n: usize = s[..s.len() - 1].parse().unwrap_or(0);
                        if n > 12 {
                            return Err(bq_error("Invalid %E<n>S: n must be at most 12"));
                        }
                        let t = need_t()?;
                        format!(
                            "{:02}{}",
                            t.second(),
                            frac_digits(t.nanosecond() / 1000, Some(n))
                        )
                    }
                    other => return Err(not_supported(format!("format element %E{other}"))),
                }
            }
            other => return Err(not_supported(format!("format element %{other}"))),
        };
        out.push_str(&s);
    }
    Ok(out)
}

/// Fields collected while parsing.
#[derive(Default)]
struct Parsed {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    doy: Option<u32>,
    hour: Option<u32>,
    pm: Option<bool>,
    minute: Option<u32>,
    second: Option<u32>,
    micros: Option<u32>,
    offset: Option<i32>,
    zone: Option<Zone>,
    epoch: Option<i64>,
}

struct Input<'a> {
    s: &'a str,
    pos: usize,
}

impl Input<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }
    fn num(&mut self, max: usize) -> Option<i64> {
        let r = self.rest();
        let neg = r.starts_with('-');
        let body = if neg { &r[1..] } else { r };
        let n = body
            .chars()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 {
            return None;
        }
        let v: i64 = body[..n].parse().ok()?;
        self.pos += n + usize::from(neg);
        Some(if neg { -v } else { v })
    }
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let r = self.rest().to_ascii_lowercase();
        // Longest match first (full names before abbreviations).
        let mut best: Option<(usize, usize)> = None;
        for (i, w) in words.iter().enumerate() {
            let w = w.to_ascii_lowercase();
            if r.starts_with(&w) && best.is_none_or(|(_, l)| w.len() > l) {
                best = Some((i, w.len()));
            }
        }
        let (i, l) = best?;
        self.pos += l;
        Some(i)
    }
    fn lit(&mut self, c: char) -> Option<()> {
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            Some(())
        } else {
            None
        }
    }
}

pub(crate) const MONTHS: [&str; 24] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
];
pub(crate) const DAYS: [&str; 14] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sun",
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
];

fn parse_into(fmt: &str, inp: &mut Input, p: &mut Parsed) -> Option<()> {
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            inp.skip_ws();
            continue;
        }
        if c != '%' {
            inp.lit(c)?;
            continue;
        }
        let e = chars.next()?;
        // Numeric elements skip leading whitespace like strptime.
        match e {
            'Y' => {
                inp.skip_ws();
                // Directly followed by another element (`%Y%m%d`), the year is 4 digits.
                let width = if chars.peek() == Some(&'%') { 4 } else { 5 };
                p.year = Some(inp.num(width)? as i32)
            }
            'C' => {
                inp.skip_ws();
                let c = inp.num(2)? as i32;
                p.year = Some(c * 100 + p.year.unwrap_or(0) % 100)
            }
            'y' => {
                inp.skip_ws();
                let y = inp.num(2)? as i32;
                p.year = Some(if y < 69 { 2000 + y } else { 1900 + y })
            }
            'm' => {
                inp.skip_ws();
                p.month = Some(inp.num(2)? as u32)
            }
            'd' | 'e' => {
                inp.skip_ws();
                p.day = Some(inp.num(2)? as u32)
            }
            'j' => {
                inp.skip_ws();
                p.doy = Some(inp.num(3)? as u32)
            }
            'H' | 'k' => {
                inp.skip_ws();
                p.hour = Some(inp.num(2)? as u32)
            }
            'I' | 'l' => {
                inp.skip_ws();
                p.hour = Some(inp.num(2)? as u32 % 12);
                p.pm.get_or_insert(false);
            }
            'M' => {
                inp.skip_ws();
                p.minute = Some(inp.num(2)? as u32)
            }
            'S' => {
                inp.skip_ws();
                p.second = Some(inp.num(2)? as u32)
            }
            'p' | 'P' => {
                inp.skip_ws();
                p.pm = Some(inp.word(&["AM", "PM"])? == 1)
            }
            'B' | 'b' | 'h' => {
                inp.skip_ws();
                p.month = Some(inp.word(&MONTHS)? as u32 % 12 + 1)
            }
            'A' | 'a' => {
                inp.skip_ws();
                inp.word(&DAYS)?;
            }
            's' => {
                inp.skip_ws();
                p.epoch = Some(inp.num(20)?)
            }
            'n' | 't' => inp.skip_ws(),
            '%' => inp.lit('%')?,
            'D' => parse_into("%m/%d/%y", inp, p)?,
            'x' => parse_into("%m/%d/%y", inp, p)?,
            'F' => parse_into("%Y-%m-%d", inp, p)?,
            'T' | 'X' => parse_into("%H:%M:%S", inp, p)?,
            'R' => parse_into("%H:%M", inp, p)?,
            'c' => parse_into("%a %b %e %H:%M:%S %Y", inp, p)?,
            'z' => {
                inp.skip_ws();
                p.offset = Some(parse_offset(inp)?)
            }
            'Z' => {
                inp.skip_ws();
                let r = inp.rest();
                let n = r.find(char::is_whitespace).unwrap_or(r.len());
                let z = zone(&r[..n]).ok()?;
                inp.pos += n;
                p.zone = Some(z);
            }
            'E' => {
                let mut spec = String::new();
                while let Some(&n) = chars.peek() {
                    chars.next();
                    spec.push(n);
                    if n.is_ascii_alphabetic() {
                        break;
                    }
                }
                match spec.as_str() {
                    "z" => {
                        inp.skip_ws();
                        p.offset = Some(parse_offset(inp)?)
                    }
                    "4Y" => p.year = Some(inp.num(4)? as i32),
                    s if s.ends_with('S') => {
                        inp.skip_ws();
                        p.second = Some(inp.num(2)? as u32);
                        if inp.lit('.').is_some() {
                            let r = inp.rest();
                            let n = r.chars().take_while(|c| c.is_ascii_digit()).count();
                            if n == 0 || n > 9 {
                                return None;
                            }
                            let us: u32 = format!("{:0<6}", &r[..n.min(6)]).parse().ok()?;
                            inp.pos += n;
                            p.micros = Some(us);
                        }
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    Some(())
}

fn parse_offset(inp: &mut Input) -> Option<i32> {
    let r = inp.rest();
    if let Some(rest) = r.strip_prefix('Z') {
        let _ = rest;
        inp.pos += 1;
        return Some(0);
    }
    let sign = match r.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    inp.pos += 1;
    let h = inp.num(2)? as i32;
    inp.lit(':');
    let m = inp.num(2).unwrap_or(0) as i32;
    Some(sign * (h * 3600 + m * 60))
}

fn parse_fn(a: &[ScalarValue], kind: Kind) -> Result<ScalarValue> {
    let fmt = string_arg(
        a.first()
            .ok_or_else(|| not_supported("PARSE_* without arguments"))?,
    )?;
    let text = string_arg(
        a.get(1)
            .ok_or_else(|| not_supported("PARSE_* without a value"))?,
    )?;
    let fail = || bq_error(format!("Failed to parse input string \"{text}\""));
    let mut p = Parsed::default();
    let mut inp = Input { s: &text, pos: 0 };
    parse_into(&fmt, &mut inp, &mut p).ok_or_else(fail)?;
    inp.skip_ws();
    if !inp.rest().is_empty() {
        return Err(fail());
    }
    if kind == Kind::Time && (p.year.is_some() || p.month.is_some() || p.day.is_some()) {
        return Err(not_supported("date elements in PARSE_TIME"));
    }
    if kind == Kind::Date && (p.hour.is_some() || p.minute.is_some() || p.second.is_some()) {
        return Err(not_supported("time elements in PARSE_DATE"));
    }
    let year = p.year.unwrap_or(1970);
    let date = match p.doy {
        Some(doy) if p.month.is_none() && p.day.is_none() => NaiveDate::from_yo_opt(year, doy),
        _ => NaiveDate::from_ymd_opt(year, p.month.unwrap_or(1), p.day.unwrap_or(1)),
    }
    .filter(|_| (1..=9999).contains(&year))
    .ok_or_else(fail)?;
    let mut hour = p.hour.unwrap_or(0);
    if let Some(pm) = p.pm {
        if hour > 12 {
            return Err(fail());
        }
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let time = NaiveTime::from_hms_micro_opt(
        hour,
        p.minute.unwrap_or(0),
        p.second.unwrap_or(0),
        p.micros.unwrap_or(0),
    )
    .ok_or_else(fail)?;
    let dt: NaiveDateTime = date.and_time(time);
    let out = match kind {
        Kind::Date => Civil::Date(date),
        Kind::Datetime => Civil::Datetime(dt),
        Kind::Time => Civil::Time(time),
        Kind::Timestamp => {
            if let Some(e) = p.epoch {
                Civil::Timestamp(DateTime::from_timestamp(e, 0).ok_or_else(fail)?)
            } else if let Some(off) = p.offset {
                Civil::Timestamp((dt - Duration::seconds(off as i64)).and_utc())
            } else {
                let z = match (p.zone, a.get(2)) {
                    (Some(z), _) => z,
                    (None, Some(z)) => zone(&string_arg(z)?)?,
                    (None, None) => zone("UTC")?,
                };
                Civil::Timestamp(z.instant(dt))
            }
        }
    };
    Ok(to_scalar(check_range(out)?))
}
