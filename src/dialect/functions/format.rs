//! FORMAT(format_string, ...): printf-style formatting with BigQuery's specifiers
//! `%d %i %o %x %X %f %F %e %E %g %G %s %t %T %%`, flags `- + space # 0 '`, width and precision.
//!
//! NULL handling follows BigQuery: a NULL format string, or a NULL argument for any specifier
//! other than `%t`/`%T`, gives NULL; `%t`/`%T` print `NULL`. `*` widths and `%T` of types other
//! than STRING, BYTES, INT64, FLOAT64 and BOOL are not supported yet (an error, not a guess).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#format_string>.

use std::sync::Arc;

use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::row_fn::{ret_utf8, str_val, udf_nulls};
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![udf_nulls("format", &[], ret_utf8, format)]
}

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    group: bool,
    width: usize,
    precision: Option<usize>,
}

fn format(a: &[ScalarValue]) -> Result<ScalarValue> {
    let fmt = match &a[0] {
        v if v.is_null() => return Ok(ScalarValue::Utf8(None)),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s,
        _ => return Err(bq_error("FORMAT: the format string must be a STRING")),
    };
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    let mut next_arg = 1;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                '\'' => spec.group = true,
                _ => break,
            }
            chars.next();
        }
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            spec.width = spec.width * 10 + d as usize;
            chars.next();
        }
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = 0;
            while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                p = p * 10 + d as usize;
                chars.next();
            }
            spec.precision = Some(p);
        }
        if chars.peek() == Some(&'*') {
            return Err(not_supported("FORMAT with * width or precision"));
        }
        let Some(conv) = chars.next() else {
            return Err(bq_error("FORMAT: invalid format string ends with %"));
        };
        if conv == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = a.get(next_arg) else {
            return Err(bq_error(format!(
                "FORMAT: too few arguments for format string {fmt:?}"
            )));
        };
        next_arg += 1;
        if arg.is_null() && conv != 't' && conv != 'T' {
            return Ok(ScalarValue::Utf8(None));
        }
        let body = match conv {
            'd' | 'i' => {
                let n = int_arg(arg, conv)?;
                let digits = n.unsigned_abs().to_string();
                let digits = if spec.group { group3(&digits) } else { digits };
                signed(n < 0, digits, &spec)
            }
            'o' | 'x' | 'X' => {
                let n = int_arg(arg, conv)?;
                if n < 0 {
                    return Err(not_supported(format!(
                        "FORMAT %{conv} of a negative number"
                    )));
                }
                let (digits, prefix) = match conv {
                    'o' => (format!("{n:o}"), "0"),
                    'x' => (format!("{n:x}"), "0x"),
                    _ => (format!("{n:X}"), "0X"),
                };
                let digits = if spec.alt && n != 0 {
                    format!("{prefix}{digits}")
                } else {
                    digits
                };
                signed(false, digits, &spec)
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let v = float_arg(arg, conv)?;
                let p = spec.precision.unwrap_or(6);
                let body = if v.is_nan() {
                    "nan".to_string()
                } else if v.is_infinite() {
                    "inf".to_string()
                } else {
                    match conv.to_ascii_lowercase() {
                        'f' => {
                            let s = format!("{:.p$}", v.abs());
                            if spec.group { group_float(&s) } else { s }
                        }
                        'e' => exp(v.abs(), p),
                        _ => general(v.abs(), p, spec.alt),
                    }
                };
                let body = if conv.is_ascii_uppercase() {
                    body.to_uppercase()
                } else {
                    body
                };
                if !v.is_finite() {
                    spec.zero = false;
                }
                signed(v.is_sign_negative() && !v.is_nan(), body, &spec)
            }
            's' => {
                let s = match arg {
                    ScalarValue::Utf8(Some(s))
                    | ScalarValue::LargeUtf8(Some(s))
                    | ScalarValue::Utf8View(Some(s)) => s.clone(),
                    other => text_form(other)?,
                };
                truncate(s, spec.precision)
            }
            't' => truncate(text_form(arg)?, spec.precision),
            'T' => truncate(literal_form(arg)?, spec.precision),
            other => {
                return Err(bq_error(format!(
                    "FORMAT: invalid format specifier %{other}"
                )));
            }
        };
        out.push_str(&pad(
            body,
            &spec,
            matches!(
                conv,
                'd' | 'i' | 'o' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G'
            ),
        ));
    }
    if next_arg < a.len() {
        return Err(bq_error(format!(
            "FORMAT: too many arguments for format string {fmt:?}"
        )));
    }
    Ok(str_val(out))
}

fn int_arg(v: &ScalarValue, conv: char) -> Result<i64> {
    super::row_fn::int(v, "FORMAT").map_err(|_| {
        bq_error(format!(
            "Invalid type for argument 2 to FORMAT; Expected INT64; Got {} for %{conv}",
            v.data_type()
        ))
    })
}

fn float_arg(v: &ScalarValue, conv: char) -> Result<f64> {
    match v {
        ScalarValue::Float64(Some(f)) => Ok(*f),
        ScalarValue::Float32(Some(f)) => Ok(*f as f64),
        other => super::row_fn::int(other, "FORMAT")
            .map(|n| n as f64)
            .map_err(|_| {
                bq_error(format!(
                    "Invalid type for argument to FORMAT; Expected FLOAT64; Got {} for %{conv}",
                    other.data_type()
                ))
            }),
    }
}

fn truncate(s: String, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s,
    }
}

fn signed(negative: bool, digits: String, spec: &Spec) -> String {
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    if spec.zero && !spec.minus && spec.width > sign.len() + digits.len() {
        let zeros = "0".repeat(spec.width - sign.len() - digits.len());
        return format!("{sign}{zeros}{digits}");
    }
    format!("{sign}{digits}")
}

fn pad(body: String, spec: &Spec, _numeric: bool) -> String {
    let n = body.chars().count();
    if n >= spec.width {
        return body;
    }
    let fill = " ".repeat(spec.width - n);
    if spec.minus {
        format!("{body}{fill}")
    } else {
        format!("{fill}{body}")
    }
}

fn group3(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn group_float(s: &str) -> String {
    match s.split_once('.') {
        Some((i, f)) => format!("{}.{f}", group3(i)),
        None => group3(s),
    }
}

/// C's `%e`: mantissa with `p` decimals, exponent with a sign and at least two digits.
fn exp(v: f64, p: usize) -> String {
    let s = format!("{v:.p$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let sign = if e < 0 { '-' } else { '+' };
    format!("{m}e{sign}{:02}", e.abs())
}

/// C's `%g`.
fn general(v: f64, p: usize, alt: bool) -> String {
    let p = p.max(1);
    let x: i32 = if v == 0.0 {
        0
    } else {
        let s = format!("{:.*e}", p - 1, v);
        s.split_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0)
    };
    let s = if (x as i64) < p as i64 && x >= -4 {
        let decimals = (p as i64 - 1 - x as i64).max(0) as usize;
        format!("{v:.decimals$}")
    } else {
        exp(v, p - 1)
    };
    if alt {
        return s;
    }
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", strip_zeros(m)),
        None => strip_zeros(&s),
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `%t`: the value as CAST(... AS STRING) shows it.
fn text_form(v: &ScalarValue) -> Result<String> {
    if v.is_null() {
        return Ok("NULL".into());
    }
    let arr = v.to_array()?;
    Ok(crate::output::value::text(arr.as_ref(), 0).unwrap_or_else(|| "NULL".into()))
}

/// `%T`: the value as a SQL literal.
fn literal_form(v: &ScalarValue) -> Result<String> {
    Ok(match v {
        v if v.is_null() => "NULL".into(),
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => quote_string(s),
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b)) => {
            let mut out = String::from("b\"");
            for &c in b {
                match c {
                    b'"' => out.push_str("\\\""),
                    b'\\' => out.push_str("\\\\"),
                    b'\n' => out.push_str("\\n"),
                    b'\t' => out.push_str("\\t"),
                    b'\r' => out.push_str("\\r"),
                    0x20..=0x7e => out.push(c as char),
                    _ => out.push_str(&format!("\\x{c:02x}")),
                }
            }
            out.push('"');
            out
        }
        ScalarValue::Boolean(Some(b)) => if *b { "true" } else { "false" }.into(),
        ScalarValue::Float64(Some(f)) => float_literal(*f),
        ScalarValue::Float32(Some(f)) => float_literal(*f as f64),
        other => match super::row_fn::int(other, "FORMAT") {
            Ok(n) => n.to_string(),
            Err(_) => {
                return Err(not_supported(format!("FORMAT %T of {}", other.data_type())));
            }
        },
    })
}

fn float_literal(f: f64) -> String {
    if f.is_nan() {
        return "CAST(\"nan\" AS FLOAT64)".into();
    }
    if f.is_infinite() {
        return format!("CAST(\"{}inf\" AS FLOAT64)", if f < 0.0 { "-" } else { "" });
    }
    let s = text_form(&ScalarValue::Float64(Some(f))).unwrap_or_default();
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn quote_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
