//! Text forms for `CAST(x AS STRING FORMAT '...')` of numbers and of BYTES, used by the cast
//! rewrite in `cast_format.rs`.
//!
//! - [`format_number`]: the "format elements for numeric types": digits `0` `9`, decimal point
//!   `.`/`D`, group separator `,`/`G`, sign `S` (leading or trailing), `MI`, `PR`, currency `$`
//!   and the fill mode `FM`. Values round half away from zero to the number of fraction digits;
//!   an integer part too long for the format prints every digit as `#`. Other elements (`X`,
//!   `EEEE`, `RN`, `V`, `B`, `C`, `L`, `TM`...) are `not supported` rather than approximated.
//! - [`format_bytes`] / [`parse_bytes`]: `HEX`, `BASE64`, `UTF8`, `ASCII`; other BYTES formats
//!   (`BASE2`, `BASE8`, `BASE32`, `BASE64M`) are `not supported`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#format_numeric_type_as_string>
//! and <https://cloud.google.com/bigquery/docs/reference/standard-sql/format-elements#format_string_as_bytes>.

use base64::Engine as _;
use datafusion::common::{Result, ScalarValue};

use super::{bq_error, not_supported};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Digit { zero: bool },
    Point,
    Group,
    Dollar,
    Sign,
    Minus,
    Brackets,
}

struct Format {
    elems: Vec<Elem>,
    fill_mode: bool,
}

fn parse_format(format: &str) -> Result<Format> {
    let upper = format.to_ascii_uppercase();
    let mut rest = upper.as_str();
    let mut elems = Vec::new();
    let mut fill_mode = false;
    while !rest.is_empty() {
        let (elem, len) = if rest.starts_with("FM") {
            fill_mode = true;
            rest = &rest[2..];
            continue;
        } else if rest.starts_with("MI") {
            (Elem::Minus, 2)
        } else if rest.starts_with("PR") {
            (Elem::Brackets, 2)
        } else {
            match rest.as_bytes()[0] {
                b'0' => (Elem::Digit { zero: true }, 1),
                b'9' => (Elem::Digit { zero: false }, 1),
                b'.' | b'D' => (Elem::Point, 1),
                b',' | b'G' => (Elem::Group, 1),
                b'$' => (Elem::Dollar, 1),
                b'S' => (Elem::Sign, 1),
                _ => {
                    return Err(not_supported(format!(
                        "numeric format element in '{format}'"
                    )));
                }
            }
        };
        elems.push(elem);
        rest = &rest[len..];
    }
    let signs = elems
        .iter()
        .filter(|e| matches!(e, Elem::Sign | Elem::Minus | Elem::Brackets))
        .count();
    let points = elems.iter().filter(|e| **e == Elem::Point).count();
    let sign_ok = match elems
        .iter()
        .position(|e| matches!(e, Elem::Sign | Elem::Minus | Elem::Brackets))
    {
        None => true,
        Some(i) => {
            let e = elems[i];
            (e == Elem::Sign && i == 0) || i == elems.len() - 1
        }
    };
    if signs > 1 || points > 1 || !sign_ok || !elems.iter().any(|e| matches!(e, Elem::Digit { .. }))
    {
        return Err(bq_error(format!(
            "Invalid format string for numeric value: '{format}'"
        )));
    }
    Ok(Format { elems, fill_mode })
}

/// A number as sign, integer digits and fraction digits (exact for integers and decimals).
struct Decimal {
    negative: bool,
    int: String,
    frac: String,
}

fn decimal_of(value: &ScalarValue) -> Result<Option<Decimal>> {
    let text = match value {
        v if v.is_null() => return Ok(None),
        ScalarValue::Int8(Some(v)) => v.to_string(),
        ScalarValue::Int16(Some(v)) => v.to_string(),
        ScalarValue::Int32(Some(v)) => v.to_string(),
        ScalarValue::Int64(Some(v)) => v.to_string(),
        ScalarValue::UInt8(Some(v)) => v.to_string(),
        ScalarValue::UInt16(Some(v)) => v.to_string(),
        ScalarValue::UInt32(Some(v)) => v.to_string(),
        ScalarValue::UInt64(Some(v)) => v.to_string(),
        ScalarValue::Float32(Some(v)) if v.is_finite() => format!("{:.60}", f64::from(*v)),
        ScalarValue::Float64(Some(v)) if v.is_finite() => format!("{v:.60}"),
        ScalarValue::Decimal128(Some(v), _, s) => scaled(&v.to_string(), *s),
        ScalarValue::Decimal256(Some(v), _, s) => scaled(&v.to_string(), *s),
        other => return Err(not_supported(format!("CAST of {other:?} AS STRING FORMAT"))),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    Ok(Some(Decimal {
        negative,
        int: int.trim_start_matches('0').to_string(),
        frac: frac.to_string(),
    }))
}

/// `digits` (an integer's text) divided by 10^scale, as plain decimal text.
fn scaled(digits: &str, scale: i8) -> String {
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
    format!("{neg}{i}.{f}")
}

/// Rounds `d` to `places` fraction digits, half away from zero.
fn round(d: &Decimal, places: usize) -> (String, String) {
    let mut frac: String = d
        .frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(places)
        .collect();
    let mut int = d.int.clone();
    if d.frac.as_bytes().get(places).is_some_and(|c| *c >= b'5') {
        let all = format!("{int}{frac}");
        let bumped = increment(&all);
        let cut = bumped.len() - places;
        int = bumped[..cut].trim_start_matches('0').to_string();
        frac = bumped[cut..].to_string();
    }
    (int, frac)
}

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

/// `CAST(value AS STRING FORMAT format)` for INT64, FLOAT64, NUMERIC and BIGNUMERIC values;
/// `Ok(None)` for NULL.
pub fn format_number(value: &ScalarValue, format: &str) -> Result<Option<String>> {
    let fmt = parse_format(format)?;
    let Some(d) = decimal_of(value)? else {
        return Ok(None);
    };
    let point = fmt.elems.iter().position(|e| *e == Elem::Point);
    let (int_elems, frac_elems) = match point {
        Some(p) => (&fmt.elems[..p], &fmt.elems[p + 1..]),
        None => (&fmt.elems[..], &fmt.elems[0..0]),
    };
    let is_digit = |e: &&Elem| matches!(e, Elem::Digit { .. });
    let int_positions = int_elems.iter().filter(is_digit).count();
    let frac_positions = frac_elems.iter().filter(is_digit).count();
    let (int, frac) = round(&d, frac_positions);
    let negative = d.negative && (!int.is_empty() || frac.bytes().any(|b| b != b'0'));
    let first_zero = int_elems
        .iter()
        .filter(is_digit)
        .position(|e| *e == Elem::Digit { zero: true });
    if int.is_empty() && first_zero.is_none() && int_positions > 0 {
        // Whether BigQuery prints "0" or nothing before the point here is not pinned down.
        return Err(not_supported(format!(
            "numeric format '{format}' for a value with no integer digits"
        )));
    }
    let explicit_sign = fmt
        .elems
        .iter()
        .find(|e| matches!(e, Elem::Sign | Elem::Minus | Elem::Brackets))
        .copied();
    let sign_first = fmt.elems.first() == Some(&Elem::Sign);
    // Overflow: every digit becomes '#'.
    if int.len() > int_positions {
        if explicit_sign.is_some() {
            return Err(not_supported(format!(
                "overflowing value with sign element in numeric format '{format}'"
            )));
        }
        let mut out = String::from(" ");
        for e in &fmt.elems {
            out.push(match e {
                Elem::Digit { .. } => '#',
                Elem::Point => '.',
                Elem::Group => ',',
                Elem::Dollar => '$',
                _ => ' ',
            });
        }
        return Ok(Some(finish(out, fmt.fill_mode)));
    }
    // Integer part, right to left: digits fill positions; separators print between digits.
    let dollar = fmt.elems.contains(&Elem::Dollar);
    let digit_count = match first_zero {
        Some(z) => int.len().max(int_positions - z),
        None => int.len(),
    };
    let padded = format!("{int:0>digit_count$}");
    let mut body = String::new();
    let mut pad = 0usize;
    let mut digits_left = digit_count;
    let mut position = int_positions;
    let mut started = false;
    for e in int_elems {
        match e {
            Elem::Digit { .. } => {
                if position <= digits_left {
                    started = true;
                    let idx = digit_count - position;
                    body.push(padded.as_bytes()[idx] as char);
                    digits_left = digits_left.max(position);
                } else {
                    pad += 1;
                }
                position -= 1;
            }
            Elem::Group => {
                if started {
                    body.push(',');
                } else {
                    pad += 1;
                }
            }
            _ => {}
        }
    }
    if point.is_some() {
        body.push('.');
        let mut it = frac.chars();
        for e in frac_elems {
            match e {
                Elem::Digit { .. } => body.push(it.next().unwrap_or('0')),
                Elem::Group => body.push(','),
                _ => {}
            }
        }
    }
    if dollar {
        body.insert(0, '$');
    }
    let mut out = " ".repeat(pad);
    match explicit_sign {
        None => {
            out.push(if negative { '-' } else { ' ' });
            out.push_str(&body);
        }
        Some(Elem::Sign) if sign_first => {
            out.push(if negative { '-' } else { '+' });
            out.push_str(&body);
        }
        Some(Elem::Sign) => {
            out.push_str(&body);
            out.push(if negative { '-' } else { '+' });
        }
        Some(Elem::Minus) => {
            out.push_str(&body);
            out.push(if negative { '-' } else { ' ' });
        }
        _ => {
            if negative {
                out.push('<');
                out.push_str(&body);
                out.push('>');
            } else {
                out.push(' ');
                out.push_str(&body);
                out.push(' ');
            }
        }
    }
    Ok(Some(finish(out, fmt.fill_mode)))
}

fn finish(out: String, fill_mode: bool) -> String {
    if fill_mode {
        out.trim().to_string()
    } else {
        out
    }
}

/// `CAST(bytes AS STRING FORMAT format)`.
pub fn format_bytes(value: &[u8], format: &str) -> Result<String> {
    match format.to_ascii_uppercase().as_str() {
        "HEX" => Ok(value.iter().map(|b| format!("{b:02x}")).collect()),
        "BASE64" => Ok(base64::engine::general_purpose::STANDARD.encode(value)),
        "UTF8" | "UTF-8" => String::from_utf8(value.to_vec()).map_err(|_| {
            bq_error("Failed to cast BYTES to STRING with format UTF8: invalid UTF-8")
        }),
        "ASCII" => {
            if value.is_ascii() {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err(bq_error(
                    "Failed to cast BYTES to STRING with format ASCII: non-ASCII byte",
                ))
            }
        }
        _ => Err(not_supported(format!(
            "CAST of BYTES AS STRING FORMAT '{format}'"
        ))),
    }
}

/// `CAST(string AS BYTES FORMAT format)`.
pub fn parse_bytes(value: &str, format: &str) -> Result<Vec<u8>> {
    let bad = || {
        bq_error(format!(
            "Failed to cast '{value}' to BYTES with format {format}"
        ))
    };
    match format.to_ascii_uppercase().as_str() {
        "HEX" => {
            let s = value.as_bytes();
            if !s.len().is_multiple_of(2) {
                return Err(bad());
            }
            s.chunks(2)
                .map(|c| {
                    std::str::from_utf8(c)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(bad)
                })
                .collect()
        }
        "BASE64" => base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| bad()),
        "UTF8" | "UTF-8" => Ok(value.as_bytes().to_vec()),
        "ASCII" => {
            if value.is_ascii() {
                Ok(value.as_bytes().to_vec())
            } else {
                Err(bad())
            }
        }
        _ => Err(not_supported(format!(
            "CAST of STRING AS BYTES FORMAT '{format}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: ScalarValue, fmt: &str) -> String {
        format_number(&v, fmt)
            .expect("formats")
            .expect("not null")
            .trim()
            .to_string()
    }

    #[test]
    fn documented_examples() {
        let fmt = "$999,999.999";
        assert_eq!(f(ScalarValue::Float64(Some(1.2)), fmt), "$1.200");
        assert_eq!(f(ScalarValue::Float64(Some(1234.56)), fmt), "$1,234.560");
        assert_eq!(
            f(ScalarValue::Float64(Some(-12345.678)), fmt),
            "-$12,345.678"
        );
        assert_eq!(
            f(ScalarValue::Float64(Some(1234567.89)), fmt),
            "$###,###.###"
        );
        assert_eq!(f(ScalarValue::Int64(Some(12)), "999"), "12");
        assert_eq!(f(ScalarValue::Int64(Some(-12)), "999"), "-12");
        assert_eq!(f(ScalarValue::Float64(Some(12.5)), "99.99"), "12.50");
        assert_eq!(f(ScalarValue::Int64(Some(12)), "S99"), "+12");
        assert_eq!(f(ScalarValue::Int64(Some(-12)), "$99"), "-$12");
        assert_eq!(f(ScalarValue::Int64(Some(1234)), "999,999"), "1,234");
        assert_eq!(f(ScalarValue::Int64(Some(12)), "0000"), "0012");
        assert_eq!(f(ScalarValue::Int64(Some(-12)), "99MI"), "12-");
        assert_eq!(f(ScalarValue::Int64(Some(-12)), "99PR"), "<12>");
        assert_eq!(
            format_number(&ScalarValue::Int64(Some(12)), "999").expect("ok"),
            Some("  12".to_string())
        );
    }

    #[test]
    fn bytes() {
        assert_eq!(format_bytes(b"Hello", "ASCII").expect("ok"), "Hello");
        assert_eq!(format_bytes(b"Hello", "HEX").expect("ok"), "48656c6c6f");
        assert_eq!(parse_bytes("48656c6c6f", "HEX").expect("ok"), b"Hello");
    }
}
