//! One cell of an Arrow array in dap's text and JSON encodings (documented in `docs/types.md`):
//! INT64 number; FLOAT64 number (NaN/Infinity as strings); NUMERIC string; BYTES base64;
//! DATE `2024-01-31`; DATETIME `2024-01-31T10:00:00[.ffffff]`; TIME `10:00:00[.ffffff]`;
//! TIMESTAMP `2024-01-31 10:00:00[.ffffff] UTC`; ARRAY array; STRUCT object; NULL null.

use std::fmt::Write;

use base64::Engine as _;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::*;

fn frac(micros: i64) -> String {
    if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    }
}

fn datetime_text(us: i64, sep: char) -> Option<String> {
    let dt = chrono::DateTime::from_timestamp_micros(us)?.naive_utc();
    let sub = us.rem_euclid(1_000_000);
    Some(format!(
        "{}{sep}{}{}",
        dt.format("%Y-%m-%d"),
        dt.format("%H:%M:%S"),
        frac(sub)
    ))
}

fn to_micros(v: i64, unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => v * 1_000_000,
        TimeUnit::Millisecond => v * 1_000,
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v.div_euclid(1_000),
    }
}

fn decimal_text(v: String, scale: i8) -> String {
    if scale <= 0 {
        return v;
    }
    let neg = v.starts_with('-');
    let digits = v.trim_start_matches('-');
    let s = scale as usize;
    let padded = format!("{digits:0>width$}", width = s + 1);
    let (int, fr) = padded.split_at(padded.len() - s);
    let fr = fr.trim_end_matches('0');
    let sign = if neg { "-" } else { "" };
    if fr.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{fr}")
    }
}

/// FLOAT64 in JSON: a number, or `"NaN"` / `"Infinity"` / `"-Infinity"` as strings.
fn float_json(f: f64) -> String {
    match serde_json::Number::from_f64(f) {
        Some(n) => n.to_string(),
        None => format!("\"{}\"", float_text(f)),
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{f}")
    }
}

/// Scalar text form, or `None` for nested types (rendered as JSON) and NULL.
fn scalar_text(array: &dyn Array, row: usize) -> Option<String> {
    if null_at(array, row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Boolean => array.as_boolean().value(row).to_string(),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).to_string(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).to_string(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).to_string(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).to_string(),
        DataType::Float16 => float_text(array.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => float_text(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => float_text(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::Binary => b64(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => b64(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => b64(array.as_binary_view().value(row)),
        DataType::FixedSizeBinary(_) => b64(array.as_fixed_size_binary().value(row)),
        DataType::Date32 => {
            let d = array.as_primitive::<Date32Type>().value(row);
            (chrono::NaiveDate::from_ymd_opt(1970, 1, 1)? + chrono::Duration::days(d as i64))
                .format("%Y-%m-%d")
                .to_string()
        }
        DataType::Date64 => {
            let ms = array.as_primitive::<Date64Type>().value(row);
            chrono::DateTime::from_timestamp_millis(ms)?
                .format("%Y-%m-%d")
                .to_string()
        }
        DataType::Timestamp(unit, tz) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => {
                    array.as_primitive::<TimestampMillisecondType>().value(row)
                }
                TimeUnit::Microsecond => {
                    array.as_primitive::<TimestampMicrosecondType>().value(row)
                }
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            let us = to_micros(v, unit);
            match tz {
                None => datetime_text(us, 'T')?,
                Some(_) => format!("{} UTC", datetime_text(us, ' ')?),
            }
        }
        DataType::Time64(unit) | DataType::Time32(unit) => {
            let v = match array.data_type() {
                DataType::Time64(TimeUnit::Microsecond) => {
                    array.as_primitive::<Time64MicrosecondType>().value(row)
                }
                DataType::Time64(_) => array.as_primitive::<Time64NanosecondType>().value(row),
                DataType::Time32(TimeUnit::Second) => {
                    array.as_primitive::<Time32SecondType>().value(row) as i64
                }
                _ => array.as_primitive::<Time32MillisecondType>().value(row) as i64,
            };
            let us = to_micros(v, unit);
            let secs = us / 1_000_000;
            format!(
                "{:02}:{:02}:{:02}{}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                frac(us % 1_000_000)
            )
        }
        DataType::Decimal128(_, s) => decimal_text(
            array
                .as_primitive::<Decimal128Type>()
                .value(row)
                .to_string(),
            *s,
        ),
        DataType::Decimal256(_, s) => decimal_text(
            array
                .as_primitive::<Decimal256Type>()
                .value(row)
                .to_string(),
            *s,
        ),
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            let us = v.nanoseconds / 1_000;
            let sign = if us < 0 { "-" } else { "" };
            let us = us.abs();
            let secs = us / 1_000_000;
            // BigQuery's canonical form: `[-]Y-M D [-]H:M:S[.F]`, one sign for the year-month part.
            let ym_sign = if v.months < 0 { "-" } else { "" };
            format!(
                "{ym_sign}{}-{} {} {sign}{}:{}:{}{}",
                (v.months / 12).abs(),
                (v.months % 12).abs(),
                v.days,
                secs / 3600,
                secs / 60 % 60,
                secs % 60,
                frac(us % 1_000_000)
            )
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_)
        | DataType::Map(_, _) => {
            return None;
        }
        _ => {
            let formatter = datafusion::arrow::util::display::ArrayFormatter::try_new(
                array,
                &Default::default(),
            )
            .ok()?;
            formatter.value(row).to_string()
        }
    })
}

fn null_at(array: &dyn Array, row: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(row)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn is_nested(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Struct(_)
            | DataType::Map(_, _)
    )
}

fn is_jsonish_number(dt: &DataType) -> bool {
    dt.is_integer()
}

/// Appends the JSON encoding of one cell.
pub fn write_json(out: &mut String, array: &dyn Array, row: usize) {
    if null_at(array, row) {
        out.push_str("null");
        return;
    }
    let dt = array.data_type();
    match dt {
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Float64 => {
            out.push_str(&float_json(array.as_primitive::<Float64Type>().value(row)))
        }
        DataType::Float32 => out.push_str(&float_json(
            array.as_primitive::<Float32Type>().value(row) as f64,
        )),
        DataType::Float16 => out.push_str(&float_json(
            array.as_primitive::<Float16Type>().value(row).to_f64(),
        )),
        d if is_jsonish_number(d) => out.push_str(&scalar_text(array, row).unwrap_or_default()),
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let values = match dt {
                DataType::List(_) => array.as_list::<i32>().value(row),
                DataType::LargeList(_) => array.as_list::<i64>().value(row),
                _ => array.as_fixed_size_list().value(row),
            };
            out.push('[');
            for i in 0..values.len() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, values.as_ref(), i);
            }
            out.push(']');
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            out.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", serde_json::Value::String(f.name().clone()));
                write_json(out, s.column(i).as_ref(), row);
            }
            out.push('}');
        }
        DataType::Map(_, _) => {
            let m = array.as_map().value(row);
            let (k, v) = (m.column(0), m.column(1));
            out.push('[');
            for i in 0..m.len() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"key\":");
                write_json(out, k.as_ref(), i);
                out.push_str(",\"value\":");
                write_json(out, v.as_ref(), i);
                out.push('}');
            }
            out.push(']');
        }
        _ => match scalar_text(array, row) {
            Some(t) => out.push_str(&serde_json::Value::String(t).to_string()),
            None => out.push_str("null"),
        },
    }
}

/// The text form of one cell (tables, CSV); `None` for NULL.
pub fn text(array: &dyn Array, row: usize) -> Option<String> {
    if null_at(array, row) {
        return None;
    }
    if is_nested(array.data_type()) {
        let mut s = String::new();
        write_json(&mut s, array, row);
        return Some(s);
    }
    scalar_text(array, row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_trim() {
        assert_eq!(decimal_text("1500000000".into(), 9), "1.5");
        assert_eq!(decimal_text("-5".into(), 2), "-0.05");
        assert_eq!(decimal_text("300".into(), 2), "3");
    }
}
